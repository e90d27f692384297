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
