/// bpf_prog_pack (kernel/bpf/core.c): 64-byte chunks carved from shared ROX
/// packs, written only through bpf_arch_text_copy.
extension ModelState {
    public var packSize: Int { Size.pmd * config.numNodes }

    /// Allocates and protects a pack (or a dedicated area for a large
    /// program) the way alloc_new_pack does in each tree.
    mutating func newPackArea(size: Int) -> Int? {
        let tmp = "bpf_prog_pack#\(areas.count)"
        let i: Int?
        if config.generation == .v6_1 {
            i = moduleAlloc(size: size, allocator: .bpfProgPack, purpose: .bpf, bind: tmp)
        } else {
            i = bpfJitAllocExec(size: size, bind: tmp)
            if let i { areas[i].allocator = .bpfProgPack }
        }
        bindings[tmp] = nil
        guard let i else { return nil }
        areas[i].name = "bpf_prog_pack"
        let start = PtrExpr(.absolute(areas[i].start))
        // bpf_fill_ill_insns while the pack is still writable.
        plainWrite(start, length: areas[i].usable, what: "bpf_fill_ill_insns")
        areas[i].flags.insert(.flushResetPerms)
        let n = areas[i].map.count
        if config.generation == .v6_1 {
            _ = setMemory(.ro, start, pages: n, internalCall: true)
            _ = setMemory(.x, start, pages: n, internalCall: true)
            emit(.ret, nil, ref(i), "6.1 alloc_new_pack ignores the results of set_memory_ro/set_memory_x")
        } else if setMemory(.rox, start, pages: n, internalCall: true) != 0 {
            release(i, effect: .release, via: "bpf_jit_free_exec")
            return nil
        }
        return i
    }

    /// Returns the chunk index, binding `bind` to its address (or NULL).
    mutating func packAlloc(size: Int, bind: String) -> Int? {
        guard size > 0 else { bindings[bind] = .address(0); lastResult = .pointer(0); return nil }
        let id = chunks.count
        if size > packSize {
            guard let i = newPackArea(size: Size.pages(size) * Size.page) else {
                bindings[bind] = .address(0); lastResult = .pointer(0); return nil
            }
            areas[i].name = bind
            chunks.append(Chunk(id: id, name: bind, area: i, unit: 0, units: 0, size: size, live: true, dedicated: true, allocStep: step, persistent: false))
            bindings[bind] = .address(areas[i].start)
            lastResult = .pointer(areas[i].start)
            return id
        }
        let units = (size + 63) / 64
        let total = packSize / 64
        var found: (Int, Int)?
        for p in packs where areas[p].state == .live {
            let used = chunks.filter { $0.live && $0.area == p && !$0.dedicated }.sorted { $0.unit < $1.unit }
            var cursor = 0
            for c in used {
                if c.unit - cursor >= units { break }
                cursor = c.unit + c.units
            }
            let nextStart = used.first(where: { $0.unit >= cursor })?.unit ?? total
            if nextStart - cursor >= units { found = (p, cursor); break }
        }
        if found == nil {
            guard let p = newPackArea(size: packSize) else {
                bindings[bind] = .address(0); lastResult = .pointer(0); return nil
            }
            packs.append(p)
            found = (p, 0)
        }
        let (p, unit) = found!
        touch(p)
        chunks.append(Chunk(id: id, name: bind, area: p, unit: unit, units: units, size: size, live: true, dedicated: false, allocStep: step, persistent: false))
        let addr = areas[p].start + UInt64(unit * 64)
        bindings[bind] = .address(addr)
        lastResult = .pointer(addr)
        return id
    }

    mutating func packFree(_ p: PtrExpr, size: Int?, api: String, signatureFree: Bool = false) {
        if !signatureFree {
            if config.generation == .v6_1 && size != nil {
                emit(.version, nil, callRef(api), "6.1 bpf_prog_pack_free takes (hdr) and reads the size from the header")
            } else if config.generation == .v6_12 && size == nil {
                emit(.version, nil, callRef(api), "6.12 bpf_prog_pack_free takes (ptr, size)")
            }
        }
        if context.exec != .process {
            emit(.ctx, nil, callRef(api), "\(api) in \(context.exec.rawValue) context (it takes bpf_prog_pack_mutex)")
        }
        guard let addr = resolve(p), addr != 0 else {
            emit(.freeMatch, nil, callRef(api), "\(api)(\(p)): NULL or unbound")
            return
        }
        guard let c = chunkIndex(startingAt: addr) else {
            if let c = chunkIndex(containing: addr) {
                emit(.freeMatch, nil, chunkRef(c), "\(api)(\(p)) is inside \(chunks[c].label), not its start")
            } else {
                emit(.freeMatch, nil, callRef(api), "\(api)(\(p)) is not a bpf_prog_pack chunk",
                     instead: "free it with the pair of its allocator")
            }
            return
        }
        let ch = chunks[c]
        touch(ch.area)
        if !ch.live { emit(.doubleFree, nil, chunkRef(c), "\(api) on \(ch.label), already freed"); return }
        if let size, size != ch.size {
            emit(.freeMatch, nil, chunkRef(c), "\(api) with size \(size); the chunk holds \(ch.size) bytes")
        }
        chunks[c].live = false
        if ch.dedicated {
            release(ch.area, effect: .release, via: "bpf_jit_free_exec")
            return
        }
        // bpf_arch_text_invalidate: x86 fills the chunk with int3 via text_poke_set.
        if config.arch == .x86_64 {
            textPatch(.textPokeSet, PtrExpr(.absolute(addr)), length: ch.units * 64)
        }
        if !chunks.contains(where: { $0.live && $0.area == ch.area && !$0.dedicated }) {
            release(ch.area, effect: .release, via: config.generation == .v6_1 ? "module_memfree" : "bpf_jit_free_exec")
        }
    }

    mutating func packFinalize(ro: PtrExpr, rw: PtrExpr) {
        guard let addr = resolve(ro), addr != 0, let c = chunkIndex(startingAt: addr) else {
            emit(.freeMatch, nil, callRef("bpf_jit_binary_pack_finalize"), "\(ro) is not a bpf_prog_pack chunk")
            return
        }
        let size = chunks[c].size
        if !bpfArchTextCopy(ro, length: size) {
            lastResult = .status(-12)
            packFree(ro, size: nil, api: "bpf_prog_pack_free", signatureFree: true)
        } else {
            lastResult = .status(0)
        }
        if let r = resolve(rw), r != 0 { free(.kvfree, rw) }
        if case .symbol(let s) = rw.base { bindings[s] = .address(0) }
    }
}
