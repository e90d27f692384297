extension ExportOfAllocatorMatcher {
    func matches(in facts: FileFacts) -> [Match] {
        guard !facts.exports.isEmpty else { return [] }
        let allocatorNames = Set(allocators)
        // Functions of the file that return what an executable allocator
        // returned, directly or through another such function: a fixpoint.
        var returning: [String: String] = [:]  // function -> the allocator behind it
        var changed = true
        while changed {
            changed = false
            for call in facts.calls where call.isReturned && !call.isReference {
                guard let function = call.function, returning[function] == nil else { continue }
                var source: String?
                if call.isCall(to: allocatorNames) {
                    source = call.matchedName(in: allocatorNames)
                } else if let pgprot = MappingMatcher.offendingPgprot(call, calls: mappings, pgprots: pgprots) {
                    source = "\(call.baseCallee)(\(pgprot))"
                } else if let inner = returning[call.callee] {
                    source = inner
                }
                if let source {
                    returning[function] = source
                    changed = true
                }
            }
        }
        return facts.exports.compactMap { export in
            guard let source = returning[export.symbol] else { return nil }
            return Match(position: export.position, function: nil,
                         values: ["subject": export.symbol, "allocator": source, "macro": export.macro], call: nil)
        }
    }
}
