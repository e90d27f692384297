import Foundation
import KernelModel
import KPolicyFiles
import PatchInput
import Extract
import PathCheck
import Suggest
import Findings

/// Runs rules over one file's facts.
public struct RuleEngine: Sendable {
    public let rules: RuleSet

    public init(rules: RuleSet) { self.rules = rules }

    /// The rules that apply to `path` on a tree of `version`.
    public func applicable(to path: String, version: KernelVersion) -> [Rule] {
        rules.rules.filter { $0.kernel.contains(version) && $0.scope.contains(path) }
    }

    /// Whether a rule over function paths applies to `path`: only then is
    /// the control-flow IR built.
    public func needsPaths(_ path: String, version: KernelVersion) -> Bool {
        applicable(to: path, version: version).contains { $0.match is PathMatcher }
    }

    /// Whether any path rule applies on a tree of `version`.
    public func needsPaths(anywhere version: KernelVersion) -> Bool {
        rules.rules.contains { $0.kernel.contains(version) && $0.match is PathMatcher }
    }

    /// Findings of the rules that apply to the file. `functions`: the
    /// control-flow IR of its functions (IRBuilder), which `path` rules run
    /// through the model; without them those rules find nothing.
    public func findings(in facts: FileFacts, functions: [FunctionIR] = [], context: RuleContext) -> [Finding] {
        var times = StageTimes()
        return findings(in: facts, functions: functions, context: context, times: &times)
    }

    /// `findings`, adding the CPU seconds of the path check, the matchers
    /// and the findings' suggestions to `times`.
    public func findings(in facts: FileFacts, functions: [FunctionIR] = [], context: RuleContext, times: inout StageTimes) -> [Finding] {
        var out: [Finding] = []
        var pathResults: [(ir: FunctionIR, result: PathChecker.Result)]?
        for rule in applicable(to: facts.path, version: context.kernelVersion) {
            let matchStart = StageTimes.now()
            var pathSeconds = 0.0
            // Every function's paths, checked once for all the path rules.
            if rule.match is PathMatcher, pathResults == nil {
                let arches = Arch.checked(forPath: facts.path)
                let t0 = StageTimes.now()
                pathResults = Array(zip(functions, PathChecker.checkFile(functions, arches: arches, tree: context.capabilities,
                                                                         summaries: context.summaries)))
                for (pair, ir) in PairCheck.functions(for: context.summaries?.pairs ?? [], in: functions) {
                    let r = PathChecker.check(ir, arches: arches, tree: context.capabilities, summaries: context.summaries)
                    pathResults?.append((ir, PairCheck.findings(of: r, pair: pair)))
                }
                pathSeconds = StageTimes.now() - t0
            }
            let matches = rule.match.matches(in: MatchInput(facts: facts, context: context, paths: pathResults ?? []), rule: rule)
            let suggestionStart = StageTimes.now()
            times.paths += pathSeconds
            times.rules += suggestionStart - matchStart - pathSeconds
            defer { times.suggestions += StageTimes.now() - suggestionStart }
            for var match in matches {
                // A call rule whose suggestion rewrites the call is proven on
                // the function's paths too, in the world the rewrite targets.
                if match.pathSite == nil, rule.suggestion?.rewrite != nil, let fn = match.function,
                   let ir = functions.first(where: { $0.name == fn && $0.events.contains { $0.position == match.position } }),
                   let e = ir.events.first(where: { $0.position == match.position }) {
                    match.pathSite = PathSite(ir: ir, event: match.position, object: e.result ?? e.arguments.first?.object ?? "",
                                              arches: Arch.checked(forPath: facts.path), tree: context.capabilities.execmemWorld,
                                              originalTree: context.capabilities, summaries: context.summaries)
                }
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
            if template.validate, let site = match.pathSite, let name = template.rewrite, let rewrite = PathSuggestion.Rewrite(rawValue: name) {
                let matchers = rules.rules.compactMap { r -> PathMatcher? in
                    r.kernel.contains(context.kernelVersion) ? r.match as? PathMatcher : nil
                }
                let pathRules: PathSuggestion.PathRules = { paths in
                    matchers.flatMap { $0.matches(in: paths) }.map { PathSuggestion.RuleMatch(position: $0.position, values: $0.values, trace: $0.trace) }
                }
                let proof = PathSuggestion.validate(rewrite, at: site, pathRules: pathRules, original: match.trace,
                                                    execmemType: ExecmemType(name: values["type"] ?? "") ?? .moduleText)
                suggestion?.validated = proof.validated
                suggestion?.validation = proof.validation
                suggestion?.trace = proof.trace
                suggestion?.changes = PathSuggestion.changes(rewrite, at: site)
            }
        }
        var f = Finding(rule: rule.id, severity: rule.severity, position: match.position, function: match.function,
                        message: rule.message.filled(values), suggestion: suggestion, values: values)
        f.trace = match.trace
        f.through = match.through
        return f
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
    /// For path rules: the path (first witness) on which the model found it.
    public var trace: [PathChecker.TraceStep]? = nil
    /// For path rules: where in the function's IR, for suggestions proven on its paths.
    public var pathSite: PathSite? = nil
    /// For path rules: the definitions of other files the paths ran through, per arch.
    public var through: [String]? = nil
}

extension CallFact {
    /// The resolved name without 6.10+'s allocation-profiling suffix.
    var baseCallee: String { KernelCall.withoutProfilingSuffix(callee) }

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
