import Foundation
import ModelScenarios
import Yams
import KernelModel
import KPolicyFiles
import PatchInput
import Suggest

/// Reads and validates rule files. Every problem is one `KPolicyError.badInput`
/// naming the file and the field.
public enum RuleLoader {
    /// Parses one rule file's text. `category` is the directory the file is in;
    /// `id` its stem.
    public static func load(yaml text: String, file: String, id: String, category: String) throws -> Rule {
        // The shared reader bounds nesting and alias expansion and rejects
        // duplicate keys, as for scenario files.
        let node: Any?
        do { node = try YAMLInput.compose(text)?.any } catch {
            let place = error.line > 0 ? "line \(error.line): " : ""
            let field = error.field.isEmpty ? "" : "field '\(error.field)' "
            throw KPolicyError.badInput(path: file, reason: "not valid YAML: \(place)\(field)\(error.message)")
        }
        guard let map = node as? [String: Any] else {
            throw KPolicyError.badInput(path: file, reason: "a rule file is a mapping of fields")
        }
        let r = FieldReader(file: file, map: map, prefix: "")
        try r.onlyKeys(Set(RuleSchema.ruleFields.map(\.name)))
        let declared = try r.string("id")
        guard declared == id else {
            throw r.error("id", "is \"\(declared)\" but the file is named \(id).yaml (the id is the file stem)")
        }
        guard id.range(of: "^[a-z0-9]+(-[a-z0-9]+)*$", options: .regularExpression) != nil else {
            throw r.error("id", "must be kebab-case")
        }
        let scope = try r.map("scope")
        try scope.onlyKeys(["include", "exclude"])
        let kernel = try r.optionalMap("kernel")
        try kernel?.onlyKeys(["since", "until"])
        let range = VersionRange(since: try kernel?.optionalVersion("since"), until: try kernel?.optionalVersion("until"))
        if let since = range.since, let until = range.until, !(since < until) {
            throw r.error("kernel.until", "(\(until)) must be later than kernel.since (\(since)): the rule would apply to no tree")
        }
        let match = try MatcherKinds.decode(r.map("match"))
        let triggers = try RuleLoader.triggers(r, match: match)
        let rule = Rule(
            id: id, category: category,
            title: try r.string("title"),
            summary: try r.string("summary"),
            rationale: try r.string("rationale"),
            threads: try r.strings("threads", nonEmpty: true),
            severity: try r.enumValue("severity"),
            confidence: try r.enumValue("confidence"),
            scope: PathScope(include: try scope.globs("include", nonEmpty: true), exclude: try scope.optionalGlobs("exclude")),
            kernel: range,
            triggers: triggers,
            match: match,
            message: try r.string("message"),
            suggestion: try r.optionalMap("suggestion").map(suggestion),
            examples: try r.list("examples", nonEmpty: true).map(example))
        return rule
    }

    /// The rule's trigger identifiers: those its kind derives (a `path`
    /// rule's, which must then not be listed), else the file's.
    static func triggers(_ r: FieldReader, match: any RuleMatcher) throws -> [String] {
        if let derived = match.derivedTriggers {
            guard !r.has("triggers") else {
                throw r.error("triggers", "is derived for a \(match.kind) rule from its match (\(derived.joined(separator: ", "))): remove it")
            }
            guard !derived.isEmpty else { throw r.error("match", "leads to no call the path checker follows: the rule could never fire") }
            return derived
        }
        let triggers = try r.optionalStrings("triggers")
        for (i, t) in triggers.enumerated() where !RuleLoader.isIdentifier(t) {
            throw r.error("triggers[\(i)]", "\"\(t)\" is not a C identifier (the prefilter looks for whole identifiers in the file)")
        }
        // Rules over C need trigger identifiers for the prefilter; rules over
        // mail headers read no C.
        if match is RecipientsMatcher {
            guard triggers.isEmpty else { throw r.error("triggers", "a recipients rule reads mail headers, not C: it has no triggers") }
        } else if triggers.isEmpty {
            throw r.error("triggers", "must not be empty")
        }
        let missing = match.namesLookedFor.filter { !triggers.contains($0) }
        if !missing.isEmpty {
            throw r.error("triggers", "lacks \(missing.joined(separator: ", ")), which match looks for: files naming only those would never be parsed")
        }
        return triggers
    }

    static func isIdentifier(_ s: String) -> Bool {
        guard let first = s.utf8.first, first == UInt8(ascii: "_") || (first | 0x20) >= UInt8(ascii: "a") && (first | 0x20) <= UInt8(ascii: "z") else {
            return false
        }
        return s.utf8.allSatisfy { c in
            c == UInt8(ascii: "_") || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9"))
                || ((c | 0x20) >= UInt8(ascii: "a") && (c | 0x20) <= UInt8(ascii: "z"))
        }
    }


    static func suggestion(_ s: FieldReader) throws -> SuggestionTemplate {
        try s.onlyKeys(Set(RuleSchema.suggestionFields.map(\.name)))
        let replacements = try s.stringMap("replacements")
        var before: SuggestionTemplate.Before?
        if let b = try s.optionalMap("before") {
            try b.onlyKeys(["lacks", "replacement", "explanation"])
            let lacks = try b.string("lacks")
            guard ModelAPI.named(lacks)?.since != nil else {
                let versioned = ModelAPI.all.filter { $0.since != nil }.map(\.name)
                throw b.error("lacks", "\"\(lacks)\" is not an API that arrived in some kernel version (one of \(versioned.joined(separator: ", ")))")
            }
            before = SuggestionTemplate.Before(lacks: lacks, replacement: try b.optionalString("replacement"), explanation: try b.string("explanation"))
        }
        let types = try s.list("execmem-types", nonEmpty: false).map { t -> ExecmemTypeRule in
            try t.onlyKeys(["type", "paths", "functions", "because"])
            let type = try t.string("type")
            guard type.hasPrefix("EXECMEM_") else { throw t.error("type", "must name an EXECMEM_* type") }
            return ExecmemTypeRule(type: type, paths: try t.optionalGlobs("paths"), functions: try t.optionalStrings("functions"),
                                   because: try t.string("because"))
        }
        let rewrite = try s.optionalString("rewrite")
        if let rewrite, PathSuggestion.Rewrite(rawValue: rewrite) == nil {
            throw s.error("rewrite", "\"\(rewrite)\" is not a rewrite (\(PathSuggestion.Rewrite.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return SuggestionTemplate(replacements: replacements, explanation: try s.string("explanation"), before: before,
                                  execmemTypes: types, validate: try s.optionalBool("validate") ?? false, rewrite: rewrite)
    }

    static func example(_ e: FieldReader) throws -> RuleExample {
        try e.onlyKeys(["name", "path", "kernel", "bad", "good"])
        let kernel = try e.string("kernel")
        guard KernelVersion(string: kernel) != nil else { throw e.error("kernel", "is not a kernel version like 6.1") }
        return RuleExample(name: try e.string("name"), path: try e.string("path"), kernel: kernel,
                           bad: try e.string("bad"), good: try e.string("good"))
    }
}

/// Typed access to one YAML mapping, with errors that name the field.
public struct FieldReader {
    let file: String
    let map: [String: Any]
    let prefix: String

    func error(_ key: String, _ problem: String) -> KPolicyError {
        .badInput(path: file, reason: "field '\(prefix)\(key)' \(problem)")
    }

    func has(_ key: String) -> Bool { map[key] != nil }

    func onlyKeys(_ allowed: Set<String>) throws {
        if let extra = map.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw error(extra, "is not a known field here (known: \(allowed.sorted().joined(separator: ", ")))")
        }
    }

    func string(_ key: String) throws -> String {
        guard let value = map[key] else { throw error(key, "is missing") }
        guard let s = value as? String, !s.isEmpty else { throw error(key, "must be a non-empty string") }
        return s
    }
    func optionalString(_ key: String) throws -> String? { map[key] == nil ? nil : try string(key) }

    func strings(_ key: String, nonEmpty: Bool) throws -> [String] {
        guard let value = map[key] else { throw error(key, "is missing") }
        guard let items = value as? [String] else { throw error(key, "must be a list of strings") }
        if nonEmpty && items.isEmpty { throw error(key, "must not be empty") }
        return items
    }
    func optionalStrings(_ key: String) throws -> [String] { map[key] == nil ? [] : try strings(key, nonEmpty: false) }

    func stringMap(_ key: String) throws -> [String: String] {
        guard let value = map[key] else { throw error(key, "is missing") }
        guard let m = value as? [String: Any] else { throw error(key, "must be a mapping of strings") }
        var out: [String: String] = [:]
        for (k, v) in m {
            guard let s = v as? String else { throw error("\(key).\(k)", "must be a string") }
            out[k] = s
        }
        return out
    }

    func globs(_ key: String, nonEmpty: Bool) throws -> [PathGlob] {
        try strings(key, nonEmpty: nonEmpty).enumerated().map { i, s in try glob(s, "\(key)[\(i)]") }
    }
    func optionalGlobs(_ key: String) throws -> [PathGlob] {
        try optionalStrings(key).enumerated().map { i, s in try glob(s, "\(key)[\(i)]") }
    }
    func glob(_ pattern: String, _ field: String) throws -> PathGlob {
        if let problem = PathGlob.problem(pattern) { throw error(field, problem) }
        return PathGlob(pattern)
    }

    func optionalBool(_ key: String) throws -> Bool? {
        guard let value = map[key] else { return nil }
        guard let b = value as? Bool else { throw error(key, "must be true or false") }
        return b
    }

    func optionalInt(_ key: String) throws -> Int? {
        guard let value = map[key] else { return nil }
        guard let i = value as? Int, i >= 0 else { throw error(key, "must be a non-negative integer") }
        return i
    }

    func version(_ key: String) throws -> KernelVersion {
        if map[key] is Double || map[key] is Int {
            throw error(key, "must be quoted (\"6.10\"): unquoted, YAML reads 6.10 as the number 6.1")
        }
        let s = try string(key)
        guard let v = KernelVersion(string: s) else { throw error(key, "\"\(s)\" is not a kernel version like 6.10") }
        return v
    }
    func optionalVersion(_ key: String) throws -> KernelVersion? { map[key] == nil ? nil : try version(key) }

    func enumValue<E: RawRepresentable & CaseIterable>(_ key: String) throws -> E where E.RawValue == String {
        let s = try string(key)
        guard let v = E(rawValue: s) else {
            throw error(key, "must be one of \(E.allCases.map(\.rawValue).joined(separator: ", ")), not \"\(s)\"")
        }
        return v
    }

    func map(_ key: String) throws -> FieldReader {
        guard let value = map[key] else { throw error(key, "is missing") }
        guard let m = value as? [String: Any] else { throw error(key, "must be a mapping") }
        return FieldReader(file: file, map: m, prefix: prefix + key + ".")
    }
    func optionalMap(_ key: String) throws -> FieldReader? { map[key] == nil ? nil : try self.map(key) }

    func list(_ key: String, nonEmpty: Bool) throws -> [FieldReader] {
        guard let value = map[key] else {
            if nonEmpty { throw error(key, "is missing") }
            return []
        }
        guard let items = value as? [Any] else { throw error(key, "must be a list") }
        if nonEmpty && items.isEmpty { throw error(key, "must not be empty") }
        return try items.enumerated().map { i, item in
            guard let m = item as? [String: Any] else { throw error("\(key)[\(i)]", "must be a mapping") }
            return FieldReader(file: file, map: m, prefix: "\(prefix)\(key)[\(i)].")
        }
    }
}
