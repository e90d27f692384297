import KernelModel
import Findings
import KPolicyFiles
import PatchInput
/// A policy rule, loaded from `Rules/<category>/<id>.yaml`
/// (docs/rules-schema.md). Rules are data; the matcher kinds are the only
/// code behind them.
public struct Rule: Sendable {
    /// A finding's severity (its type lives with the findings).
    public typealias Severity = Finding.Severity
    public enum Confidence: String, Sendable, CaseIterable, Codable { case high, medium, low }

    public var id: String
    public var category: String
    public var title: String
    public var summary: String
    public var rationale: String
    /// Mailing-list threads the rule comes from (titles with dates).
    public var threads: [String]
    public var severity: Severity
    public var confidence: Confidence
    public var scope: PathScope
    /// Trees this rule applies to.
    public var kernel: VersionRange
    /// Identifiers a file must contain (as raw bytes) to be parsed for this rule.
    public var triggers: [String]
    public var match: any RuleMatcher
    /// The finding's message; `{name}` placeholders are filled per finding.
    public var message: String
    public var suggestion: SuggestionTemplate?
    public var examples: [RuleExample]
}

/// Include/exclude path globs, relative to the tree root.
public struct PathScope: Sendable {
    public var include: [PathGlob]
    public var exclude: [PathGlob]

    public func contains(_ path: String) -> Bool {
        include.contains { $0.matches(path) } && !exclude.contains { $0.matches(path) }
    }
}

/// `since` inclusive, `until` exclusive.
public struct VersionRange: Sendable {
    public var since: KernelVersion?
    public var until: KernelVersion?

    public func contains(_ v: KernelVersion) -> Bool {
        if let since, v < since { return false }
        if let until, v >= until { return false }
        return true
    }
    public var isUnbounded: Bool { since == nil && until == nil }
}

/// A path glob: `*` matches within one path component, `**` any number of
/// components, `?` one character.
///
/// Matching is iterative and takes time proportional to the pattern's length
/// times the path's (the classic two-pointer wildcard match, once over the
/// components and once within each), so no pattern can make it recurse deeply
/// or backtrack exponentially. `problem(_:)` bounds the pattern's size when a
/// rule file is loaded.
public struct PathGlob: Sendable, CustomStringConvertible {
    public let pattern: String
    let parts: [[UInt8]]

    /// Longer patterns are refused at rule load: kernel paths are short.
    public static let maxLength = 1024
    public static let maxComponents = 64

    public init(_ pattern: String) {
        self.pattern = pattern
        parts = pattern.split(separator: "/", omittingEmptySubsequences: true).map { Array($0.utf8) }
    }

    /// Why `pattern` is not acceptable in a rule, or nil.
    public static func problem(_ pattern: String) -> String? {
        if pattern.isEmpty { return "is an empty glob" }
        if pattern.utf8.count > maxLength { return "is a glob of \(pattern.utf8.count) bytes (at most \(maxLength))" }
        let components = pattern.split(separator: "/", omittingEmptySubsequences: true).count
        if components > maxComponents { return "is a glob of \(components) path components (at most \(maxComponents))" }
        return nil
    }

    public var description: String { pattern }

    public func matches(_ path: String) -> Bool {
        let components = path.split(separator: "/", omittingEmptySubsequences: true).map { Array($0.utf8) }
        return PathGlob.match(parts, components)
    }

    static let doubleStar: [UInt8] = Array("**".utf8)

    /// Components against components; `**` is the wildcard. After a `**`
    /// only the last one is ever retried (a later `**` subsumes every
    /// earlier choice), which keeps this O(pattern × path).
    static func match(_ pattern: [[UInt8]], _ path: [[UInt8]]) -> Bool {
        var p = 0, s = 0
        var star: Int?, starS = 0
        while s < path.count {
            if p < pattern.count, pattern[p] == doubleStar {
                star = p; starS = s; p += 1
            } else if p < pattern.count, matchComponent(pattern[p][...], path[s][...]) {
                p += 1; s += 1
            } else if let st = star {
                p = st + 1; starS += 1; s = starS
            } else {
                return false
            }
        }
        while p < pattern.count, pattern[p] == doubleStar { p += 1 }
        return p == pattern.count
    }

    /// One component: `*` any run of bytes, `?` one byte. Same scheme.
    static func matchComponent(_ pattern: ArraySlice<UInt8>, _ name: ArraySlice<UInt8>) -> Bool {
        let asterisk = UInt8(ascii: "*"), question = UInt8(ascii: "?")
        var p = pattern.startIndex, s = name.startIndex
        var star: Int?, starS = s
        while s < name.endIndex {
            if p < pattern.endIndex, pattern[p] == asterisk {
                star = p; starS = s; p += 1
            } else if p < pattern.endIndex, pattern[p] == question || pattern[p] == name[s] {
                p += 1; s += 1
            } else if let st = star {
                p = st + 1; starS += 1; s = starS
            } else {
                return false
            }
        }
        while p < pattern.endIndex, pattern[p] == asterisk { p += 1 }
        return p == pattern.endIndex
    }
}










/// What to suggest instead, filled per finding.
public struct SuggestionTemplate: Sendable {
    /// Replacement text per matched function (`{arg0}`, `{type}` placeholders);
    /// `*` is the fallback.
    public var replacements: [String: String]
    /// Why the replacement fits; placeholders as in `message`.
    public var explanation: String
    /// On trees that lack an API (`SuggestionTemplate.Before.lacks`), what
    /// to say instead.
    public var before: Before?

    /// The advice for a tree without the API the replacement needs: which
    /// tree that is is a capability of the tree (`TreeCapabilities.has`),
    /// never a version compared here.
    public struct Before: Sendable {
        /// The catalogue API whose absence selects this advice
        /// (`set_memory_rox`, `execmem_alloc`).
        public var lacks: String
        public var replacement: String?
        public var explanation: String

        /// The version that brought the API, as the catalogue states it.
        public var since: KernelVersion { ModelAPI.named(lacks)!.since! }
    }
    /// How to infer the execmem type from the calling code.
    public var execmemTypes: [ExecmemTypeRule]
    /// Whether the suggestion is re-run through the reference model.
    public var validate: Bool
    /// Path rules: how the suggestion changes the function's events
    /// (`PathSuggestion.Rewrite`); with `validate`, every path of the
    /// changed function is re-run.
    public var rewrite: String? = nil
}

/// `EXECMEM_<type>` for calling code that matches paths or function names.
public struct ExecmemTypeRule: Sendable {
    public var type: String
    public var paths: [PathGlob]
    /// Substrings of the calling function's name.
    public var functions: [String]
    public var because: String
}

/// An example from the rule file: `bad` must be reported, `good` must not.
/// Both are complete C snippets over Corpus/include/kpolicy-corpus.h.
public struct RuleExample: Sendable {
    public var name: String
    public var path: String
    public var kernel: String
    public var bad: String
    public var good: String
}
