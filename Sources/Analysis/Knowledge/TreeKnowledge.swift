import ClangKit
import Foundation
import KernelModel
import KPolicyFiles
import PatchInput
import KPolicyCache
import Parse
import PathCheck

/// What rules know about the tree beyond the file at hand, derived once per
/// run: the internal vmalloc sets (a parse of mm/vmalloc.c) and the tree's
/// capabilities (its headers, Kconfig and arch code). Every cached result
/// depends on `digest`.
public struct TreeFacts: Sendable {
    /// Per internal-exposure rule id, what the tree says is internal.
    public var internals: [String: DerivedInternals]
    public var capabilities: TreeCapabilities
    /// The tree's executable-memory functions and their definitions per
    /// arch, and its allocator/free pairs (read as text).
    public var functions: TreeFunctions

    public init(internals: [String: DerivedInternals] = [:], capabilities: TreeCapabilities, functions: TreeFunctions = TreeFunctions()) {
        self.internals = internals
        self.capabilities = capabilities
        self.functions = functions
    }

    /// What a tree of `version` is expected to be, with nothing read.
    public init(expectedFor version: KernelVersion) {
        self.init(capabilities: .expected(for: version))
    }

    /// Sorted, so the same on every run.
    public var digest: String {
        // `functions` is not in it: each cached result carries the footprint
        // of the names it calls and defines (`FileResult.treeFootprint`).
        TreeKnowledge.digest(internals) + "|" + String(capabilities.hashValueStable, radix: 16) + "|" + TreeFunctions.footprintFormat
    }
}

extension TreeCapabilities {
    /// A hash that is the same in every process (Swift's `hashValue` is
    /// seeded per process).
    var hashValueStable: UInt64 {
        FNV1a.hash((try? String(decoding: JSONEncoder.sorted.encode(self), as: UTF8.self)) ?? description)
    }
}

extension JSONEncoder {
    /// Keys sorted: the same bytes for the same value.
    static var sorted: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }
}

/// What rules need to know about the tree beyond the file at hand, read
/// from the tree once per run.
public enum TreeKnowledge {
    /// For each internal-exposure rule: the static functions of its defining
    /// file and the functions its internal header declares that the file
    /// defines, from a libclang parse of the defining file.
    ///
    /// With a result `cache` (`salt`: what else the result depends on), the
    /// derivation is kept there until the defining file or a header it
    /// includes changes, so that checking one patch or one staged change
    /// does not parse mm/vmalloc.c every time; without one (--no-cache) it
    /// is derived again.
    public static func internals(for rules: RuleSet, parser: SourceParser, cache: ResultCache? = nil, salt: String = "") throws -> [String: DerivedInternals] {
        var out: [String: DerivedInternals] = [:]
        let workspace = parser.workspace
        for rule in rules.rules {
            guard let m = rule.match as? InternalExposureMatcher else { continue }
            let file = workspace.tree.root.appendingPathComponent(m.definedIn)
            guard FileManager.default.fileExists(atPath: file.path) else {
                out[rule.id] = DerivedInternals()
                continue
            }
            var key: String?
            if let cache, let content = cache.identity(of: file.standardizedFileURL.path),
               let configuration = try? parser.workspace.configuration(for: file) {
                key = ContentHash.of([salt, TreeKnowledge.derivation, m.definedIn, m.internalHeader, content, parser.arguments(for: configuration).joined(separator: "\u{0}")]
                    .joined(separator: "\n"))
                if let data = cache.lookup(kind: "knowledge", key: key!),
                   let derived = try? JSONDecoder().decode(DerivedInternals.self, from: data) {
                    out[rule.id] = derived
                    continue
                }
            }
            let parsed = try parser.parse(file)
            let derived = derive(parsed.unit, matcher: m, treeRoot: workspace.tree.root)
            out[rule.id] = derived
            if let cache, let key, let data = try? JSONEncoder().encode(derived) {
                cache.store(kind: "knowledge", key: key, dependencies: parsed.inclusions, value: data)
            }
        }
        return out
    }

    /// The version of `derive`: a cached derivation of another is not used.
    static let derivation = "internals-2"

    /// A digest of derived internals (sorted, so the same on every run).
    public static func digest(_ internals: [String: DerivedInternals]) -> String {
        ContentHash.of(internals.keys.sorted().map { id in
            let d = internals[id]!
            return "\(id):\(d.staticFunctions.sorted().joined(separator: ",")):\(d.internalHeaderDeclarations.sorted().joined(separator: ","))"
                + (d.publicDeclarations.isEmpty ? "" : ":" + d.publicDeclarations.sorted { $0.key < $1.key }.map { "\($0.key)@\($0.value)" }.joined(separator: ","))
        }.joined(separator: "\n"))
    }

    /// Internal: the defining file's static functions, and the functions it
    /// defines that its internal header (or another header inside the
    /// allowed paths, such as 7.x's mm/vmalloc.h) declares. Public: which of
    /// those, or of the matcher's `also-internal` names, a public header of
    /// the tree declares (the tree's owners made them public).
    static func derive(_ unit: TranslationUnit, matcher m: InternalExposureMatcher, treeRoot: URL) -> DerivedInternals {
        var statics: Set<String> = []
        var definedHere: Set<String> = []
        var declaredInHeader: Set<String> = []
        var declaredPublic: [String: String] = [:]
        let root = treeRoot.standardizedFileURL.path + "/"
        unit.cursor.visitChildren { cursor, _ in
            guard cursor.kind == .functionDecl else { return .continue }
            if cursor.isInMainFile {
                if cursor.isDefinition {
                    definedHere.insert(cursor.spelling)
                    if cursor.storageClass == .static { statics.insert(cursor.spelling) }
                }
            } else if let file = cursor.location.file {
                let path = URL(fileURLWithPath: file).standardizedFileURL.path
                guard path.hasPrefix(root) else { return .continue }
                let relative = String(path.dropFirst(root.count))
                if relative == m.internalHeader || (relative.hasSuffix(".h") && m.allowedIn.contains { $0.matches(relative) }) {
                    declaredInHeader.insert(cursor.spelling)
                } else if m.publicHeaders.contains(where: { $0.matches(relative) }), declaredPublic[cursor.spelling] == nil {
                    declaredPublic[cursor.spelling] = relative
                }
            }
            return .continue
        }
        let internalNames = statics.union(declaredInHeader.intersection(definedHere)).union(m.alsoInternal)
        return DerivedInternals(staticFunctions: statics, internalHeaderDeclarations: declaredInHeader.intersection(definedHere),
                                publicDeclarations: declaredPublic.filter { internalNames.contains($0.key) })
    }
}
