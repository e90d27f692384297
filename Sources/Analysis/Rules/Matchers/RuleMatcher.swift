import Foundation
import KPolicyFiles
import PatchInput
import Extract
import PathCheck

/// A kind of matcher, the `match:` of a rule file. Each kind decodes
/// itself from the rule file, names what a file must mention for it to find
/// anything, matches one file's analysis, and documents itself: the rule
/// loader, the prefilter, the rule engine, rule pages (`RuleDoc`) and
/// docs/rules-schema.md (`RuleSchema`) all ask it. A new kind is one type
/// conforming to this and one line in `MatcherKinds.all`.
public protocol RuleMatcher: Sendable {
    /// The `match.kind` value.
    static var kind: String { get }
    /// What a matcher of this kind reports, for the schema page.
    static var summary: String { get }
    /// Its fields besides `kind`: the loader refuses any other, the schema
    /// page lists them.
    static var fields: [MatcherField] { get }
    /// Reads a `match:` map of this kind (its keys already checked).
    init(reading m: FieldReader) throws
    /// The names a file must mention for this matcher to find anything in
    /// it; a rule's triggers must include them.
    var namesLookedFor: [String] { get }
    /// What a rule with this matcher matches, for the rule's page.
    var matchDescription: String { get }
    /// The rule's triggers when the kind derives them from its own fields
    /// (`path`: from the model's invariants); nil when the rule file lists
    /// them (then they must include `namesLookedFor`).
    var derivedTriggers: [String]? { get }
    /// The places in one file's analysis it matches.
    func matches(in file: MatchInput, rule: Rule) -> [Match]
}

extension RuleMatcher {
    public var kind: String { Self.kind }
    public var namesLookedFor: [String] { [] }
    public var derivedTriggers: [String]? { nil }
}

/// One field of a matcher kind, for the loader and the schema page.
public struct MatcherField: Sendable {
    public var name: String
    public var meaning: String
    public init(_ name: String, _ meaning: String) {
        self.name = name
        self.meaning = meaning
    }
}

/// What a matcher sees of one file: its facts, what the rules know of the
/// tree, and (for path rules) every function's IR with its path check.
public struct MatchInput {
    public var facts: FileFacts
    public var context: RuleContext
    public var paths: [(ir: FunctionIR, result: PathChecker.Result)]
}

/// Every matcher kind, in the order the schema page lists them.
public enum MatcherKinds {
    public static let all: [any RuleMatcher.Type] = [
        CallMatcher.self, SymbolUseMatcher.self, MappingMatcher.self, InternalExposureMatcher.self,
        ExportOfAllocatorMatcher.self, RecipientsMatcher.self, PathMatcher.self,
    ]

    /// The kind named `kind`, or nil.
    public static func named(_ kind: String) -> (any RuleMatcher.Type)? { all.first { $0.kind == kind } }

    /// Decodes a rule file's `match:` map: its kind, then its fields.
    static func decode(_ m: FieldReader) throws -> any RuleMatcher {
        let kind = try m.string("kind")
        guard let type = named(kind) else {
            throw m.error("kind", "unknown matcher kind \"\(kind)\" (\(all.map { $0.kind }.joined(separator: ", ")))")
        }
        try m.onlyKeys(Set(["kind"] + type.fields.map(\.name)))
        return try type.init(reading: m)
    }
}

/// `` `a`, `b` `` for the documentation texts.
func codeList(_ xs: [String]) -> String { xs.map { "`\($0)`" }.joined(separator: ", ") }
