import Foundation
import KernelModel
import KPolicyFiles
import PatchInput
import Extract

public struct SymbolUseMatcher: Sendable {
    public var macros: [String]
    public var functions: [String]
    public var allowedIn: [PathGlob]
}

extension SymbolUseMatcher: RuleMatcher {
    public static let kind = "symbol-use"
    public static let summary = "a use of one of `macros` (directly, or through a macro the file itself defines) or a call to one of `functions`, outside `allowed-in`"
    public static let fields = [
        MatcherField("macros", "macro names"),
        MatcherField("functions", "function names"),
        MatcherField("allowed-in", "globs where the uses are legitimate"),
    ]

    public init(reading m: FieldReader) throws {
        self.init(macros: try m.optionalStrings("macros"), functions: try m.optionalStrings("functions"), allowedIn: try m.optionalGlobs("allowed-in"))
    }

    public var namesLookedFor: [String] { macros + functions }

    public var matchDescription: String {
        "Uses of the macros \(codeList(macros)) (also through a macro the file defines) and calls to \(codeList(functions)), outside \(codeList(allowedIn.map(\.pattern)))."
    }

    public func matches(in file: MatchInput, rule: Rule) -> [Match] { matches(in: file.facts) }
}

extension SymbolUseMatcher {
    func matches(in facts: FileFacts) -> [Match] {
        if allowedIn.contains(where: { $0.matches(facts.path) }) { return [] }
        var out: [Match] = []
        let macroNames = Set(macros)
        for use in facts.macroUses {
            if macroNames.contains(use.name) {
                out.append(Match(position: use.position, function: use.function, values: ["subject": use.name], call: nil))
            } else if use.definedIn == facts.path, let hidden = use.expandsTo.intersection(macroNames).sorted().first {
                // A macro of the file's own that wraps one of them.
                out.append(Match(position: use.position, function: use.function,
                                 values: ["subject": hidden, "via": use.name], call: nil))
            }
        }
        let names = Set(functions)
        for call in facts.calls where call.isCall(to: names) {
            var values = call.matchValues
            values["subject"] = call.matchedName(in: names)
            out.append(Match(position: call.position, function: call.function, values: values, call: call))
        }
        return out
    }
}
