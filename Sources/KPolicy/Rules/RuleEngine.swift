import Foundation

/// Runs rules over one file's facts.
public struct RuleEngine: Sendable {
    public let rules: RuleSet

    public init(rules: RuleSet) { self.rules = rules }

    /// The rules that apply to `path` on a tree of `version`.
    public func applicable(to path: String, version: KernelVersion) -> [Rule] {
        rules.rules.filter { $0.kernel.contains(version) && $0.scope.contains(path) }
    }

    public func findings(in facts: FileFacts, context: RuleContext) -> [Finding] {
        var out: [Finding] = []
        for rule in applicable(to: facts.path, version: context.kernelVersion) {
            let matches: [Match]
            switch rule.match {
            case .call(let m): matches = m.matches(in: facts, context: context)
            case .symbolUse(let m): matches = m.matches(in: facts)
            case .mapping(let m): matches = m.matches(in: facts)
            case .internalExposure(let m): matches = m.matches(in: facts, internal: context.internalFunctions[rule.id] ?? DerivedInternals())
            case .exportOfAllocator(let m): matches = m.matches(in: facts)
            case .recipients: matches = []   // mail headers, not C: RecipientCheck
            }
            for match in matches {
                out.append(finding(rule, match, facts: facts, context: context))
            }
        }
        var unique = Finding.onePerPlace(out)
        var occurrences: [String: Int] = [:]
        for i in unique.indices {
            let key = unique[i].identity
            unique[i].occurrence = occurrences[key, default: 0]
            occurrences[key, default: 0] += 1
        }
        return unique
    }

    func finding(_ rule: Rule, _ match: Match, facts: FileFacts, context: RuleContext) -> Finding {
        var values = match.values
        values["path"] = match.position.file
        values["function"] = match.function ?? "file scope"
        values["kernel"] = context.kernelVersion.series
        var suggestion: Suggestion?
        if let template = rule.suggestion {
            suggestion = SuggestionBuilder(template: template, context: context).build(for: match, values: &values)
        }
        return Finding(rule: rule.id, severity: rule.severity, position: match.position, function: match.function,
                       message: rule.message.filled(values), suggestion: suggestion, values: values)
    }
}

/// What a matcher found: where, in which function, and the template values
/// (`subject` always: the name the finding is about).
public struct Match: Sendable {
    public var position: Position
    public var function: String?
    public var values: [String: String]
    /// The call behind the match, when there is one (for suggestions).
    public var call: CallFact?
}

extension CallFact {
    /// The resolved name without 6.10+'s allocation-profiling suffix.
    var baseCallee: String { callee.hasSuffix("_noprof") ? String(callee.dropLast("_noprof".count)) : callee }

    func isCall(to names: Set<String>) -> Bool {
        names.contains(spelled) || names.contains(callee) || names.contains(baseCallee)
    }

    /// The name of `names` this call is to (the resolved one first).
    func matchedName(in names: Set<String>) -> String {
        [baseCallee, callee, spelled].first(where: names.contains) ?? callee
    }

    var matchValues: [String: String] {
        var v = ["callee": baseCallee, "spelled": spelled]
        for (i, a) in arguments.enumerated() { v["arg\(i)"] = a.text }
        return v
    }
}
