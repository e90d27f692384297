import KernelModel
import KPolicyFiles
import PatchInput
import Findings

/// Fills a rule's suggestion template for one finding and, when the rule
/// asks for it, runs the original and the replacement through the
/// reference model (KernelModel). `validated` is never set without a run.
struct SuggestionBuilder {
    let template: SuggestionTemplate
    let context: RuleContext

    func build(for match: Match, values: inout [String: String]) -> Suggestion? {
        let type = inferType(match)
        values["type"] = type?.type ?? "EXECMEM_DEFAULT"
        values["because"] = type?.because ?? "nothing in the calling code names a subsystem, so the type must be chosen by hand"
        let subject = values["subject"] ?? ""
        let modernTemplate = template.replacements[subject] ?? template.replacements["*"]
        var replacementTemplate = modernTemplate
        var explanation = template.explanation.filled(values)
        var olderTree = false
        if let before = template.before, !context.capabilities.has(before.lacks) {
            olderTree = true
            // The older tree's own move, and where the code goes once it is on a newer kernel.
            replacementTemplate = before.replacement ?? modernTemplate
            explanation = before.explanation.filled(values)
            if let modernTemplate {
                explanation += " From Linux \(before.since.series) on: \(modernTemplate.filled(values))."
            }
        }
        guard let replacementTemplate else {
            return Suggestion(replacement: "", explanation: explanation, validated: false, validation: nil)
        }
        // Validation runs the rule's rewrite on the function's own paths
        // (RuleEngine, PathSuggestion); a match outside a function the
        // checker follows (a reference at file scope) is not validated.
        let replacement = replacementTemplate.filled(values)
        var suggestion = Suggestion(replacement: replacement, explanation: explanation, validated: false, validation: nil)
        // A call written out for this tree's kernel replaces the matched call;
        // advice in words, or an API the tree does not have yet, does not.
        suggestion.replacesCall = !olderTree && Suggestion.isCallExpression(replacement)
        return suggestion
    }

    func inferType(_ match: Match) -> ExecmemTypeRule? {
        let function = match.function ?? ""
        return template.execmemTypes.first { rule in
            rule.paths.contains { $0.matches(match.position.file) } || rule.functions.contains { function.contains($0) }
        }
    }
}
