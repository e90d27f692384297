import Foundation
import KernelModel
import KPolicyFiles
import PatchInput
import Extract

public struct MappingMatcher: Sendable {
    /// Mapping functions and the index of their pgprot argument (nil: the
    /// function always maps writable and executable).
    public var calls: [MappingCall]
    /// pgprot names that are writable and executable.
    public var pgprots: [String]
    /// Paths where such mappings are the sanctioned allocator itself.
    public var allowedIn: [PathGlob]
}

extension MappingMatcher: RuleMatcher {
    public static let kind = "mapping"
    public static let summary = "a call to one of the functions whose pgprot argument resolves to one of `pgprots`"
    public static let fields = [
        MatcherField("calls", "list of `{function, prot}`; `prot` is the 0-based index of the pgprot argument, absent when the function always maps W+X"),
        MatcherField("pgprots", "pgprot names that are writable and executable (each must be one the model knows, `Perm.pgprots`)"),
        MatcherField("allowed-in", "globs where such mappings are the sanctioned allocator itself"),
    ]

    public init(reading m: FieldReader) throws {
        let pgprots = try m.strings("pgprots", nonEmpty: true)
        try MappingMatcher.checkPgprots(pgprots, m)
        self.init(calls: try m.list("calls", nonEmpty: true).map(MappingCall.init(reading:)), pgprots: pgprots,
                  allowedIn: try m.optionalGlobs("allowed-in"))
    }

    /// A rule's pgprot names must be ones the model knows (`Perm.pgprots`).
    static func checkPgprots(_ names: [String], _ m: FieldReader) throws {
        for (i, p) in names.enumerated() where Perm.pgprots[p] == nil {
            throw m.error("pgprots[\(i)]", "\"\(p)\" is not a pgprot the model knows (\(Perm.pgprots.keys.sorted().joined(separator: ", ")))")
        }
    }

    public var namesLookedFor: [String] { calls.map(\.function) }

    public var matchDescription: String {
        let described = calls.map { c in c.prot.map { "`\(c.function)` (argument \($0 + 1))" } ?? "`\(c.function)` (always)" }
        let except = allowedIn.isEmpty ? "" : " Not in \(codeList(allowedIn.map(\.pattern)))."
        return "The pgprot argument of \(described.joined(separator: ", ")), resolved through local variables, conditionals and macros, is one of \(codeList(pgprots)).\(except)"
    }

    public func matches(in file: MatchInput, rule: Rule) -> [Match] { matches(in: file.facts) }
}

public struct MappingCall: Sendable {
    public var function: String
    public var prot: Int?
}

extension MappingCall {
    init(reading m: FieldReader) throws {
        try m.onlyKeys(["function", "prot"])
        self.init(function: try m.string("function"), prot: try m.optionalInt("prot"))
    }
}

extension MappingMatcher {
    func matches(in facts: FileFacts) -> [Match] {
        if allowedIn.contains(where: { $0.matches(facts.path) }) { return [] }
        return facts.calls.compactMap { call -> Match? in
            guard !call.isReference, let pgprot = MappingMatcher.offendingPgprot(call, calls: calls, pgprots: pgprots) else { return nil }
            var values = call.matchValues
            values["subject"] = call.baseCallee
            values["pgprot"] = pgprot
            return Match(position: call.position, function: call.function, values: values, call: call)
        }
    }

    /// The pgprot that makes `call` one of `calls` mapping with one of
    /// `pgprots`, or "" for a function that always does; nil when it does not.
    static func offendingPgprot(_ call: CallFact, calls: [MappingCall], pgprots: [String]) -> String? {
        guard let mapping = calls.first(where: { call.isCall(to: [$0.function]) }) else { return nil }
        guard let index = mapping.prot else { return "(always)" }
        guard index < call.arguments.count else { return nil }
        let argument = call.arguments[index]
        // Prefer the name written at the call, then what it resolves to.
        let written = Set(argument.text.split(separator: " ").map(String.init))
        if let direct = pgprots.first(where: written.contains) { return direct }
        return pgprots.first(where: argument.identifiers.contains)
    }
}
