import KernelModel
/// A policy rule, loaded from `Rules/<category>/<id>.yaml`
/// (docs/rules-schema.md). Rules are data; the matcher kinds are the only
/// code behind them.
public struct Rule: Sendable {
    public enum Severity: String, Sendable, CaseIterable, Comparable, Codable {
        case info, warning, error
        public static func < (a: Self, b: Self) -> Bool {
            allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
        }
    }
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
    public var match: Matcher
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

/// How a rule finds its cases. Each kind is implemented once in Swift
/// (Sources/KPolicy/Rules/Matchers/) and parameterised by the rule file.
public enum Matcher: Sendable {
    /// Calls to (or references to) named functions, outside allowed paths.
    case call(CallMatcher)
    /// Uses of named macros or calls to named functions outside allowed paths.
    case symbolUse(SymbolUseMatcher)
    /// Vmalloc-family mappings whose protection argument resolves to a
    /// writable and executable pgprot.
    case mapping(MappingMatcher)
    /// Internal functions made reachable: exported, declared in public
    /// headers, made non-static, or called from outside their subsystem.
    case internalExposure(InternalExposureMatcher)
    /// EXPORT_SYMBOL* of a function that returns what an allocator returned.
    case exportOfAllocator(ExportOfAllocatorMatcher)
    /// Patch mails touching the rule's scope whose recipients miss who the
    /// tree's MAINTAINERS names for those files (patch mode only).
    case recipients(RecipientsMatcher)
    /// Violations of model invariants on some path of a function, found by
    /// running each function's control-flow IR through the reference model
    /// (PathCheck/).
    case path(PathMatcher)

    /// Whether the rule reports mm internals reached from outside
    /// (UpstreamState reads the tree's accepted state for these).
    public var isInternalExposure: Bool { if case .internalExposure = self { return true }; return false }

    /// The names a file must mention for this matcher to find anything in
    /// it; a rule's triggers must include them. Internal-exposure names come
    /// from the tree and are added to the prefilter at run time.
    public var namesLookedFor: [String] {
        switch self {
        case .call(let m): return m.functions
        case .symbolUse(let m): return m.macros + m.functions
        case .mapping(let m): return m.calls.map(\.function)
        case .internalExposure: return []
        case .exportOfAllocator(let m): return m.allocators
        case .recipients: return []
        case .path: return []
        }
    }

    public var kind: String {
        switch self {
        case .call: return "call"
        case .symbolUse: return "symbol-use"
        case .mapping: return "mapping"
        case .internalExposure: return "internal-exposure"
        case .exportOfAllocator: return "export-of-allocator"
        case .recipients: return "recipients"
        case .path: return "path"
        }
    }
}

public struct CallMatcher: Sendable {
    public var functions: [String]
    /// Whether taking the function's address counts as a use.
    public var references: Bool
    /// Paths where the calls are legitimate.
    public var allowedIn: [PathGlob]
    /// From this version on the allowance no longer holds (the API is gone).
    public var allowedUntil: KernelVersion?
}

public struct SymbolUseMatcher: Sendable {
    public var macros: [String]
    public var functions: [String]
    public var allowedIn: [PathGlob]
}

public struct MappingMatcher: Sendable {
    /// Mapping functions and the index of their pgprot argument (nil: the
    /// function always maps writable and executable).
    public var calls: [MappingCall]
    /// pgprot names that are writable and executable.
    public var pgprots: [String]
    /// Paths where such mappings are the sanctioned allocator itself.
    public var allowedIn: [PathGlob]
}

public struct MappingCall: Sendable {
    public var function: String
    public var prot: Int?
}

public struct InternalExposureMatcher: Sendable {
    /// The file whose static functions are internal (mm/vmalloc.c).
    public var definedIn: String
    /// The internal header whose declarations are internal (mm/internal.h).
    public var internalHeader: String
    /// Names internal whatever the tree says (in case a tree already exposed one).
    public var alsoInternal: [String]
    /// Where using them is fine (mm/**).
    public var allowedIn: [PathGlob]
    /// Headers that make a declaration public (include/**).
    public var publicHeaders: [PathGlob]
}

public struct ExportOfAllocatorMatcher: Sendable {
    /// Functions whose result is executable memory.
    public var allocators: [String]
    /// Mapping functions that return executable memory when given one of `pgprots`.
    public var mappings: [MappingCall]
    public var pgprots: [String]
}

public struct RecipientsMatcher: Sendable {
    /// Require the M: maintainers of the touched files' sections.
    public var maintainers: Bool
    /// Require the L: lists.
    public var lists: Bool
}

public struct PathMatcher: Sendable {
    /// Model invariants (`INV-ORDER`, `INV-WRITE`...) whose violation is a finding.
    public var invariants: [String]
    /// The kinds of event the violation must happen at: `set-memory`,
    /// `write`, `free`, `allocation`, `text-patch`, `flag` (empty: any).
    public var at: [String]
    /// `read-only`: the written page was present and read-only just before
    /// the step (not NULL, not unmapped, not past the end); `perms-changed`:
    /// set_memory_*() changed the object's permissions before the step;
    /// `any` otherwise.
    public var target: String
    /// Model severities that count (`error` by default: an advisory, such
    /// as W+X allowed by the configuration, is not a finding).
    public var severities: [String]
    /// `allocated`: only memory the function allocated on the path (its
    /// allocator and flags are known); `evident`: also memory it received
    /// when the function itself shows it writable (it writes to it or makes
    /// it writable before, or makes it read-only somewhere); `any`: all.
    public var memory: String
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
