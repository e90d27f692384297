import KernelModel

extension FunctionIR {
    /// The places of memory kept across calls its events (and its helpers') name.
    package var keptPlaces: Set<String> {
        var s: Set<String> = []
        for e in events {
            if let r = e.resultSlot { s.insert(r) }
            for a in e.arguments { if let p = a.slot { s.insert(p) } }
        }
        for h in helpers.values { s.formUnion(h.events.flatMap { e in e.arguments.compactMap(\.slot) + [e.resultSlot].compactMap { $0 } }) }
        return s
    }
}

extension IRBuilder {
    /// The other functions of the file that call an allocation, free or
    /// permission event on memory the `wanted` ones keep across calls
    /// (`vmalloc()` into a pointer another function protects, `vfree()` of
    /// it): their exits give the kept memory its states
    /// (`PathChecker.checkFile`), so they get IRs too.
    func keptPlacePartners(of wanted: [FunctionIR], index: UnitIndex, facts: FileFacts,
                           build: (String) -> FunctionIR?) -> [FunctionIR] {
        let places = Set(wanted.flatMap(\.keptPlaces))
        guard !places.isEmpty else { return [] }
        let have = Set(wanted.map(\.name))
        var callers: Set<String> = []
        // Plain writes and heap (kmalloc) calls give kept memory no state
        // the path rules look at: a function that only memcpy()s into a
        // member is not worth an IR for it.
        func gives(_ name: String) -> Bool {
            IRBuilder.isEvent(name) && !["write", "kmalloc", "kvmalloc", "kfree"].contains(KernelCall.canonicalName(name))
        }
        for c in facts.calls where !c.isReference && (gives(c.callee) || gives(c.spelled)) {
            if let f = c.function, !have.contains(f) { callers.insert(f) }
        }
        var out: [FunctionIR] = []
        var seen: Set<String> = []
        for def in index.definitions where callers.contains(def.spelling) && seen.insert(def.spelling).inserted {
            guard let f = build(def.spelling), !f.keptPlaces.isDisjoint(with: places) else { continue }
            out.append(f)
        }
        return out
    }
}
