import Foundation
import KPolicyFiles
import PatchInput
import KPolicyCache

/// The rules kpolicy runs: by default those built into the tool
/// (generated from Rules/ by scripts/generate-rules), or a directory's.
public struct RuleSet: Sendable {
    public let rules: [Rule]
    /// A hash of the rule files' texts the set was loaded from; nil for a
    /// set built in code. The result cache keys on it (no digest, no cache).
    public var digest: String?

    public init(rules: [Rule], digest: String? = nil) {
        self.rules = rules.sorted { $0.id < $1.id }
        self.digest = digest
    }

    static func digest(of files: [(String, String)]) -> String {
        ContentHash.of(files.sorted { $0.0 < $1.0 }.map { "\($0.0)\u{0}\($0.1)" }.joined(separator: "\u{1}"))
    }

    /// The rules compiled into kpolicy: an installed binary needs no checkout.
    public static func builtIn() throws -> RuleSet {
        try RuleSet(rules: EmbeddedRules.files.map { entry in
            let (category, id) = RuleSet.split(entry.path)
            return try RuleLoader.load(yaml: entry.text, file: "Rules/" + entry.path, id: id, category: category)
        }, digest: digest(of: EmbeddedRules.files.map { ($0.path, $0.text) }))
    }

    /// The built-in rule files' texts by path relative to Rules/ (for the staleness test).
    public static func builtInFiles() throws -> [String: String] {
        Dictionary(EmbeddedRules.files.map { ($0.path, $0.text) }, uniquingKeysWith: { a, _ in a })
    }

    /// Every `<category>/<id>.yaml` under `directory`.
    public static func load(directory: URL) throws -> RuleSet {
        var rules: [Rule] = []
        var texts: [(String, String)] = []
        for (relative, url) in try files(in: directory) {
            // Bounded like every input: a rule file is never a device, a FIFO
            // or gigabytes.
            let text = String(decoding: try InputSource.read(url.path, limit: InputLimits.maxRuleFileBytes), as: UTF8.self)
            texts.append((relative, text))
            let (category, id) = split(relative)
            rules.append(try RuleLoader.load(yaml: text, file: url.path, id: id, category: category))
        }
        guard !rules.isEmpty else {
            throw KPolicyError.badInput(path: directory.path, reason: "holds no rule files (expected <category>/<id>.yaml)")
        }
        var seen: Set<String> = []
        for rule in rules where !seen.insert(rule.id).inserted {
            throw KPolicyError.badInput(path: directory.path, reason: "rule id \(rule.id) is defined twice")
        }
        return RuleSet(rules: rules, digest: digest(of: texts))
    }

    /// The rule files of a directory as (path relative to it, URL), sorted.
    public static func files(in directory: URL) throws -> [(String, URL)] {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw KPolicyError.missingFile(path: directory.path)
        }
        var out: [(String, URL)] = []
        for category in try fm.contentsOfDirectory(atPath: directory.path).sorted() where !category.hasPrefix(".") {
            let sub = directory.appendingPathComponent(category)
            guard fm.fileExists(atPath: sub.path, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw KPolicyError.badInput(path: sub.path, reason: "rules live in Rules/<category>/<id>.yaml; this is not a directory")
            }
            for name in try fm.contentsOfDirectory(atPath: sub.path).sorted() where !name.hasPrefix(".") {
                guard name.hasSuffix(".yaml") else {
                    throw KPolicyError.badInput(path: sub.appendingPathComponent(name).path, reason: "not a rule file (expected <id>.yaml)")
                }
                out.append(("\(category)/\(name)", sub.appendingPathComponent(name)))
            }
        }
        return out
    }

    static func split(_ relative: String) -> (category: String, id: String) {
        let parts = relative.split(separator: "/")
        let id = String(parts.last!.dropLast(".yaml".count))
        return (parts.count > 1 ? String(parts[parts.count - 2]) : "", id)
    }

    public func rule(_ id: String) -> Rule? { rules.first { $0.id == id } }

    /// Function names whose declarations in headers the facts must keep:
    /// every internal name of the internal-exposure rules.
    package func headerDeclarationsOfInterest(internals: [String: DerivedInternals]) -> Set<String> {
        var names: Set<String> = []
        for rule in rules {
            guard let m = rule.match as? InternalExposureMatcher else { continue }
            names.formUnion(m.alsoInternal)
            if let derived = internals[rule.id] {
                names.formUnion(derived.staticFunctions)
                names.formUnion(derived.internalHeaderDeclarations)
            }
        }
        return names
    }
}
