import ClangKit
import Foundation

/// What rules need to know about the tree beyond the file at hand, read
/// from the tree once per run.
public enum TreeKnowledge {
    /// For each internal-exposure rule: the static functions of its defining
    /// file and the functions its internal header declares that the file
    /// defines, from a libclang parse of the defining file.
    ///
    /// The result is kept in the cache directory (`knowledge/<key>.json`),
    /// keyed by the bytes of the defining file and the internal header, the
    /// configuration (the overlay's directory, compile_commands.json's
    /// flags) and the rule's
    /// fields, so a run that checks one patch does not parse mm/vmalloc.c
    /// again; any change to those files makes a new key. A cache that
    /// cannot be read or written is ignored.
    ///
    /// With a result `cache` (a check run; `salt`: what else the result
    /// depends on), the derivation is kept there until the defining file or
    /// a header it includes changes; without one, in the file cache above.
    public static func internals(for rules: RuleSet, parser: SourceParser, cache: ResultCache? = nil, salt: String = "") throws -> [String: DerivedInternals] {
        var out: [String: DerivedInternals] = [:]
        let workspace = parser.workspace
        for rule in rules.rules {
            guard case .internalExposure(let m) = rule.match else { continue }
            let file = workspace.tree.root.appendingPathComponent(m.definedIn)
            guard FileManager.default.fileExists(atPath: file.path) else {
                out[rule.id] = DerivedInternals()
                continue
            }
            if let cache {
                var key: String?
                if let content = cache.identity(of: file.standardizedFileURL.path),
                   let configuration = try? parser.workspace.configuration(for: file) {
                    key = ContentHash.of([salt, m.definedIn, m.internalHeader, content, parser.arguments(for: configuration).joined(separator: "\u{0}")]
                        .joined(separator: "\n"))
                    if let data = cache.lookup(kind: "knowledge", key: key!),
                       let derived = try? JSONDecoder().decode(DerivedInternals.self, from: data) {
                        out[rule.id] = derived
                        continue
                    }
                }
                let parsed = try parser.parse(file)
                let derived = derive(parsed.unit, internalHeader: m.internalHeader, treeRoot: workspace.tree.root)
                out[rule.id] = derived
                if let key, let data = try? JSONEncoder().encode(derived) {
                    cache.store(kind: "knowledge", key: key, dependencies: parsed.unit.inclusions, value: data)
                }
                continue
            }
            let cached = cacheFile(rule: rule.id, definedIn: m.definedIn, internalHeader: m.internalHeader, workspace: workspace)
            if let cached, let data = try? Data(contentsOf: cached),
               let known = try? JSONDecoder().decode(DerivedInternals.self, from: data) {
                out[rule.id] = known
                continue
            }
            let parsed = try parser.parse(file)
            let derived = derive(parsed.unit, internalHeader: m.internalHeader, treeRoot: workspace.tree.root)
            out[rule.id] = derived
            if let cached, let data = try? JSONEncoder().encode(derived) {
                try? FileManager.default.createDirectory(at: cached.deletingLastPathComponent(), withIntermediateDirectories: true)
                try? data.write(to: cached, options: .atomic)
            }
        }
        return out
    }

    /// Where one rule's derived internals are cached; nil when the files
    /// cannot be read (then nothing is cached).
    static func cacheFile(rule: String, definedIn: String, internalHeader: String, workspace: Workspace) -> URL? {
        let root = workspace.tree.root
        // The configuration through the overlay's directory (its name hashes
        // the configuration) and a built tree's own flags; not through
        // configuration(for:), which reads every Kconfig file (0.6 s).
        let file = root.appendingPathComponent(definedIn).standardizedFileURL
        guard let source = try? Data(contentsOf: file),
              let overlay = try? workspace.overlay(arch: workspace.defaultArch) else { return nil }
        let header = (try? Data(contentsOf: root.appendingPathComponent(internalHeader))) ?? Data()
        var key = ["kpolicy-knowledge/1", rule, definedIn, internalHeader, root.standardizedFileURL.path, "\(workspace.tree.version)",
                   overlay.root.standardizedFileURL.path]
        key += workspace.compileCommands?.arguments[file.path] ?? []
        key.append(String(FNV1a.hash(String(decoding: source, as: UTF8.self)), radix: 16) + ":\(source.count)")
        key.append(String(FNV1a.hash(String(decoding: header, as: UTF8.self)), radix: 16) + ":\(header.count)")
        let name = String(FNV1a.hash(key.joined(separator: "\u{0}")), radix: 16)
        return workspace.cacheRoot.appendingPathComponent("knowledge").appendingPathComponent("\(rule)-\(name).json")
    }

    /// A digest of derived internals (sorted, so the same on every run).
    public static func digest(_ internals: [String: DerivedInternals]) -> String {
        ContentHash.of(internals.keys.sorted().map { id in
            "\(id):\(internals[id]!.staticFunctions.sorted().joined(separator: ",")):\(internals[id]!.internalHeaderDeclarations.sorted().joined(separator: ","))"
        }.joined(separator: "\n"))
    }

    static func derive(_ unit: TranslationUnit, internalHeader: String, treeRoot: URL) -> DerivedInternals {
        var statics: Set<String> = []
        var definedHere: Set<String> = []
        var declaredInHeader: Set<String> = []
        let header = treeRoot.standardizedFileURL.appendingPathComponent(internalHeader).path
        unit.cursor.visitChildren { cursor, _ in
            guard cursor.kind == .functionDecl else { return .continue }
            if cursor.isInMainFile {
                if cursor.isDefinition {
                    definedHere.insert(cursor.spelling)
                    if cursor.storageClass == .static { statics.insert(cursor.spelling) }
                }
            } else if let file = cursor.location.file, URL(fileURLWithPath: file).standardizedFileURL.path == header {
                declaredInHeader.insert(cursor.spelling)
            }
            return .continue
        }
        return DerivedInternals(staticFunctions: statics, internalHeaderDeclarations: declaredInHeader.intersection(definedHere))
    }
}
