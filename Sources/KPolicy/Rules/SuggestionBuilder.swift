import KernelModel

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
        var validation: ModelValidation?
        // Path rules (`rewrite`) are validated on the function's own paths (RuleEngine, PathSuggestion).
        if template.validate && (template.rewrite == nil || match.pathSite == nil) {
            validation = ModelCheck(arch: Arch(kernelArch: context.arch), match: match, type: type?.type ?? "EXECMEM_DEFAULT",
                                    tree: context.capabilities).run()
        }
        let validated = validation.map { $0.replacementViolations.isEmpty } ?? false
        let replacement = replacementTemplate.filled(values)
        var suggestion = Suggestion(replacement: replacement, explanation: explanation, validated: validated, validation: validation)
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

/// The two model runs behind a suggestion: what the code does now, and the
/// replacement, each allocating, writing code the arch's way, and freeing.
struct ModelCheck {
    let arch: Arch
    let match: Match
    let type: String
    /// The tree the original runs in; the replacement runs in its
    /// `execmemWorld`.
    let tree: TreeCapabilities

    func run() -> ModelValidation? {
        guard let subject = match.values["subject"] else { return nil }
        let execType = ExecmemType(name: type) ?? .moduleText
        let size = 4096
        let before = ModelConfig(arch: arch, tree: tree)
        let after = ModelConfig(arch: arch, tree: tree.execmemWorld)
        // Every step goes through the model's one lowering of kernel calls.
        func k(_ name: String, _ args: [String: KernelValue]) -> APICall {
            switch KernelCall(name, args).lower() {
            case .success(let c): return c
            case .failure(let why): preconditionFailure("ModelCheck lowers \(name): \(why)")
            }
        }
        let p: KernelValue = .pointer(.sym("p"))
        let original: [APICall]
        switch subject {
        case "module_alloc", "module_alloc_huge":
            original = [k("module_alloc", ["size": .size(size), "as": .bind("p")])] + before.capabilities.codeWriteSteps(on: arch, at: .sym("p"), length: 64)
                + [.checkWX, k("module_memfree", ["ptr": p])]
        case "module_memfree":
            original = [k("module_alloc", ["size": .size(size), "as": .bind("p")]), k("module_memfree", ["ptr": p])]
        case "__vmalloc_node_range", "vmalloc_exec":
            original = [k("__vmalloc_node_range", ["size": .size(size), "prot": .prot(.kernelExec), "flags": .flags([.alloc]), "as": .bind("p")]),
                        k("write", ["ptr": p, "len": .size(64)]), .checkWX, k("vfree", ["ptr": p])]
        case "vmap":
            original = [k("alloc_pages", ["count": .size(1), "as": .bind("pages")]),
                        k("vmap", ["pages": .pageSet("pages"), "count": .size(1), "prot": .prot(.kernelExec), "as": .bind("p")]),
                        k("write", ["ptr": p, "len": .size(64)]), .checkWX, k("vunmap", ["ptr": p]), k("__free_pages", ["pages": .pageSet("pages")])]
        default:
            return nil
        }
        let alloc = k("execmem_alloc", ["type": .type(execType), "size": .size(size), "as": .bind("p")])
        let replacement: [APICall] = subject == "module_memfree"
            ? [alloc, k("execmem_free", ["ptr": p])]
            : [alloc] + after.capabilities.codeWriteSteps(on: arch, at: .sym("p"), length: 64) + [.checkWX, k("execmem_free", ["ptr": p])]
        let prefix: [APICall] = [.setCaller(.core)]
        let a = Executor.run(prefix + original, config: before)
        let b = Executor.run(prefix + replacement, config: after)
        func errors(_ vs: [Violation]) -> [String] {
            vs.filter { $0.severity == .error }.map { "\($0.invariant.id) at step \($0.stepIndex): \($0.message)" }
        }
        return ModelValidation(configuration: "\(before.label) -> \(after.label)",
                               original: (prefix + original).map(\.description), originalViolations: errors(a.violations),
                               replacement: (prefix + replacement).map(\.description), replacementViolations: errors(b.violations))
    }
}
