import Foundation
import KernelModel
import KPolicyFiles
import PatchInput
import Extract

public struct CallMatcher: Sendable {
    public var functions: [String]
    /// Whether taking the function's address counts as a use.
    public var references: Bool
    /// Paths where the calls are legitimate.
    public var allowedIn: [PathGlob]
    /// From this version on the allowance no longer holds (the API is gone).
    public var allowedUntil: KernelVersion?
}

extension CallMatcher: RuleMatcher {
    public static let kind = "call"
    public static let summary = "a call to one of `functions` (or, with `references`, taking its address) in a file outside `allowed-in`; from `allowed-until` on, `allowed-in` no longer exempts anything"
    public static let fields = [
        MatcherField("functions", "function names (the name written at the call or the function the compiler resolved)"),
        MatcherField("references", "bool: taking a function's address counts as a use"),
        MatcherField("allowed-in", "globs where the calls are legitimate"),
        MatcherField("allowed-until", "quoted version from which `allowed-in` no longer exempts anything"),
    ]

    public init(reading m: FieldReader) throws {
        self.init(functions: try m.strings("functions", nonEmpty: true), references: try m.optionalBool("references") ?? false,
                  allowedIn: try m.optionalGlobs("allowed-in"), allowedUntil: try m.optionalVersion("allowed-until"))
    }

    public var namesLookedFor: [String] { functions }

    public var matchDescription: String {
        var s = "Calls to \(codeList(functions))"
        if references { s += ", and references to their address" }
        s += ", by the name written or the function the compiler resolved"
        if !allowedIn.isEmpty { s += ", except in \(codeList(allowedIn.map(\.pattern)))" }
        if let u = allowedUntil { s += "; from Linux \(u.series) on, the exception no longer holds" }
        return s + "."
    }

    public func matches(in file: MatchInput, rule: Rule) -> [Match] { matches(in: file.facts, context: file.context) }
}

extension CallMatcher {
    func matches(in facts: FileFacts, context: RuleContext) -> [Match] {
        let allowanceHolds = allowedUntil.map { context.kernelVersion < $0 } ?? true
        if allowanceHolds && allowedIn.contains(where: { $0.matches(facts.path) }) { return [] }
        let names = Set(functions)
        return facts.calls.filter { $0.isCall(to: names) && (references || !$0.isReference) }.map { call in
            var values = call.matchValues
            values["subject"] = call.matchedName(in: names)
            values["use"] = call.isReference ? "referenced" : "called"
            return Match(position: call.position, function: call.function, values: values, call: call)
        }
    }
}
