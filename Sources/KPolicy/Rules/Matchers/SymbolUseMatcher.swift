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
