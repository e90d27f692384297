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
