/// The free side: pairing (INV-FREE-MATCH), context (INV-CTX), deferral,
/// and what happens to the pages and their direct-map alias (INV-RESET).
extension ModelState {
    /// The documented pair of an area's allocator, for messages.
    /// The catalogue's pair, except that a VM_MAP_PUT_PAGES vmap area hands
    /// its pages to vfree.
    func documentedFree(_ a: Area) -> String {
        if a.allocator == .vmap && a.flags.contains(.mapPutPages) { return "vfree" }
        return ModelAPI.pairedFree(ofAllocator: a.allocator.api) ?? "vfree"
    }

    /// Judges `api` against the allocator of `a`: nil severity = the pair.
    func pairing(_ api: FreeAPI, _ a: Area) -> (Severity?, String, FreeEffect) {
        let pair = documentedFree(a)
        let alloc = a.allocator.rawValue
        if a.isHeap {
            switch api {
            case .kvfree: return (nil, "", .release)
            case .kfree: return (a.allocator == .kmalloc ? nil : .advisory, "kfree on kvmalloc memory works only while it is slab-backed; use kvfree", .release)
            default: return (.error, "\(api.rawValue) on \(alloc) memory: use \(pair)", .nothing)
            }
        }
        if api == .kfree { return (.error, "kfree on vmalloc-space memory (\(alloc)) BUGs: use \(pair)", .nothing) }
        if a.allocator == .ioremap { return (.error, "\(api.rawValue) on an ioremapped region: use iounmap", .nothing) }
        if a.allocator == .vmMapRam && api != .vunmap {
            return (.error, "\(api.rawValue) on vm_map_ram memory: there is no vm_struct (WARN, nothing freed); use vm_unmap_ram", .nothing)
        }
        switch api {
        case .vfree, .vfreeAtomic, .kvfree, .moduleMemfree, .execmemFree, .bpfJitFreeExec:
            switch a.allocator {
            case .vmap:
                if a.flags.contains(.mapPutPages) { return api == .vfree || api == .vfreeAtomic ? (nil, "", .release) : (.advisory, "\(api.rawValue) on a VM_MAP_PUT_PAGES vmap area; the pair is vfree", .release) }
                return (.error, "\(api.rawValue) on a vmap area without VM_MAP_PUT_PAGES: use vunmap", .unmapOnly)
            case .getVMArea:
                return (.advisory, "\(api.rawValue) on a get_vm_area area: the pair is free_vm_area", .unmapOnly)
            case .bpfProgPack:
                return (.error, "\(api.rawValue) on a bpf_prog_pack area frees the chunks of other programs", .release)
            default: break
            }
            let expected = FreeAPI(rawValue: pair)
            if api == expected || (expected == .vfree && api == .vfreeAtomic) { return (nil, "", .release) }
            if api == .kvfree && expected == .vfree { return (.advisory, "kvfree on \(alloc) memory calls vfree; the documented pair is vfree", .release) }
            return (.advisory, "\(api.rawValue) on \(alloc) memory works through vfree but the documented pair is \(pair)", .release)
        case .vunmap:
            switch a.allocator {
            case .vmap:
                if a.flags.contains(.mapPutPages) { return (.error, "vunmap on a VM_MAP_PUT_PAGES area leaks the pages: use vfree", .unmapOnly) }
                return (nil, "", .unmapOnly)
            case .vmMapRam: return (.error, "vunmap on vm_map_ram memory: use vm_unmap_ram", .nothing)
            case .getVMArea: return (.advisory, "vunmap on a get_vm_area area: the pair is free_vm_area", .unmapOnly)
            default: return (.error, "vunmap on \(alloc) memory unmaps it but leaks its pages: use \(pair)", .unmapOnly)
            }
        case .freeVMArea:
            switch a.allocator {
            case .getVMArea: return (nil, "", .unmapOnly)
            case .vmap: return (.advisory, "free_vm_area on a vmap area: the pair is vunmap", .unmapOnly)
            default: return (.error, "free_vm_area on \(alloc) memory leaks its pages: use \(pair)", .unmapOnly)
            }
        case .kfree: return (.error, "kfree on vmalloc memory", .nothing)
        }
    }

    /// The underlying free that decides context rules for `api`.
    func contextRules(_ api: FreeAPI) -> FreeAPI {
        guard api == .bpfJitFreeExec else { return api }
        if config.generation == .v6_12 { return .execmemFree }
        return config.arch == .arm64 || config.arch == .riscv64 ? .vfree : .moduleMemfree
    }

    mutating func free(_ api: FreeAPI, _ p: PtrExpr) {
        let name = api.rawValue
        guard let addr = resolve(p) else {
            emit(.freeMatch, nil, callRef(name), "\(name)(\(p)): \(p) does not point to an allocated object")
            return
        }
        if addr == 0 {
            if api == .freeVMArea { emit(.freeMatch, nil, callRef(name), "free_vm_area(NULL) dereferences NULL") }
            return
        }
        // A chunk of a pack is never freed by an area free.
        if let c = chunkIndex(startingAt: addr), !chunks[c].dedicated, chunks[c].live {
            emit(.freeMatch, nil, chunkRef(c), "\(name) on a bpf_prog_pack chunk; use bpf_prog_pack_free / bpf_jit_binary_pack_free",
                 instead: "free chunks with bpf_prog_pack_free or bpf_jit_binary_pack_free")
            return
        }
        guard let i = areaIndex(containing: addr) else {
            emit(.freeMatch, nil, callRef(name), "\(name) on \(p), which is not a vmalloc or heap object (WARN: nonexistent vm area)")
            return
        }
        touch(i)
        let a = areas[i]
        if a.state != .live {
            emit(.doubleFree, nil, ref(i), "\(name) on \(a.label), already \(a.state == .freed ? "freed" : "queued for freeing")")
            return
        }
        // Context.
        let rules = contextRules(api)
        let isVmalloc = !a.isHeap
        switch rules {
        case .vfree, .kvfree:
            if isVmalloc && context.exec == .atomic {
                emit(.ctx, nil, ref(i), "\(name) in atomic context may sleep; use vfree_atomic or defer the free")
            }
        case .vunmap, .freeVMArea:
            if context.exec == .irq || context.exec == .atomic {
                emit(.ctx, nil, ref(i), "\(name) in \(context.exec.rawValue) context (it sleeps; vunmap BUGs in interrupt)")
            }
        case .moduleMemfree, .execmemFree:
            if context.exec == .irq {
                emit(.ctx, nil, ref(i), "\(name) in interrupt context WARNs: freeing executable/RO memory from irq is unsupported")
            } else if context.exec == .atomic {
                emit(.ctx, nil, ref(i), "\(name) in atomic context may sleep")
            }
        case .vfreeAtomic, .kfree, .bpfJitFreeExec: break
        }
        // Pointer exactness.
        if addr != a.start {
            if a.isHeap || addr % UInt64(Size.page) != 0 {
                emit(.freeMatch, nil, ref(i), "\(name)(\(p)) is not the start of \(a.label) (WARN, nothing freed)",
                     instead: "pass the pointer the allocator returned")
                return
            }
            emit(.freeMatch, nil, ref(i), "\(name)(\(p)) is a page-aligned interior pointer: the whole of \(a.label) is freed",
                 instead: "pass the pointer the allocator returned")
        }
        let (sev, msg, effect) = pairing(api, a)
        if let sev { emit(.freeMatch, sev, ref(i), msg) }
        guard effect != .nothing else { return }
        if a.isHeap { areas[i].state = .freed; return }
        // Deferred: vfree_atomic always, and the vfree family in interrupt context.
        let defers = effect == .release && (api == .vfreeAtomic || (context.exec == .irq && rules != .vunmap && rules != .freeVMArea))
        if defers {
            let firstW = a.map.first?.isWritable ?? false
            if context.exec == .irq || context.exec == .atomic {
                if !firstW || a.flags.contains(.flushResetPerms) {
                    emit(.ctx, nil, ref(i), "\(a.label) freed in \(context.exec.rawValue) context while " +
                         (a.flags.contains(.flushResetPerms) ? "it has VM_FLUSH_RESET_PERMS (vm_reset_perms sleeps)" : "its first page is read-only (the deferred list node is written there)"))
                }
            } else if !firstW {
                emit(.write, nil, ref(i), "vfree_atomic writes its list node into the first page of \(a.label), which is not writable")
            }
            areas[i].state = .pendingFree
            deferred.append(i)
            return
        }
        release(i, effect: effect, via: name)
    }

    /// Unmaps an area and returns what the free returns, checking INV-RESET.
    mutating func release(_ i: Int, effect: FreeEffect, via name: String) {
        checkAlias(i)
        let a = areas[i]
        touch(i)
        if a.fromROXCache {
            // Back to the ROX cache (mm/execmem.c __execmem_cache_free): made
            // writable, refilled with trapping instructions and made ROX
            // again by the cache; its pages stay the cache's.
            areas[i].state = .freed
            for k in areas[i].map.indices { areas[i].map[k] = .notPresent }
            return
        }
        var aliasDirty = 0
        for p in a.pfns where p >= 0 && pages[Int(p)].alias != .kernel { aliasDirty += 1 }
        let hasFlag = a.flags.contains(.flushResetPerms) && a.hasVmStruct
        // vfree resets the alias and flushes; 6.1 vunmap of a flagged vmap area only flushes the TLB.
        let resetsAlias = hasFlag && effect == .release
        let flushesTLB = hasFlag && (effect == .release || config.generation == .v6_1)
        let restored = aliasDirty == 0 && a.map.allSatisfy { $0 == .kernel || $0 == .notPresent } && !a.map.contains(where: { $0.isExecutable })
        let needsReset = a.permsChanged || a.everX || aliasDirty > 0
        if needsReset && !resetsAlias && !restored {
            var why: [String] = []
            if aliasDirty > 0 { why.append("\(aliasDirty) page(s) keep a non-default direct-map alias (\(pages[Int(a.pfns.first { $0 >= 0 && pages[Int($0)].alias != .kernel }!)].alias)) and go back to the allocator poisoned") }
            if a.everX && !flushesTLB { why.append("it was executable and lazy unmap leaves stale executable TLB entries") }
            if a.permsChanged && why.isEmpty && !hasFlag { why.append("its permissions were changed and are not restored") }
            if a.permsChanged && why.isEmpty && hasFlag { why.append("VM_FLUSH_RESET_PERMS is not honoured by \(name) in \(config.generation.rawValue)") }
            if !why.isEmpty {
                emit(.reset, nil, ref(i), "\(name) of \(a.label) without VM_FLUSH_RESET_PERMS: " + why.joined(separator: "; "))
            }
        }
        if resetsAlias {
            for p in a.pfns where p >= 0 { pages[Int(p)].alias = .kernel }
        }
        if effect == .release && !a.callerOwnsPages {
            for p in a.pfns where p >= 0 { releasePage(p, by: a.id) }
        }
        areas[i].state = .freed
        for k in areas[i].map.indices { areas[i].map[k] = .notPresent }
        if a.allocator == .bpfProgPack, let k = packs.firstIndex(of: i) { packs.remove(at: k) }
    }

    mutating func drainDeferred() {
        let saved = context
        context.exec = .process
        let queue = deferred
        deferred.removeAll()
        for i in queue where areas[i].state == .pendingFree {
            release(i, effect: .release, via: "vfree (deferred)")
        }
        context = saved
    }

    mutating func vmUnmapRam(_ p: PtrExpr, count n: Int) {
        guard let addr = resolve(p), addr != 0, let i = areaIndex(containing: addr) else {
            emit(.freeMatch, nil, callRef("vm_unmap_ram"), "vm_unmap_ram(\(p)): not a vm_map_ram area (BUG)")
            return
        }
        touch(i)
        let a = areas[i]
        if a.state != .live { emit(.doubleFree, nil, ref(i), "vm_unmap_ram on \(a.label), already freed"); return }
        if context.exec != .process { emit(.ctx, nil, ref(i), "vm_unmap_ram in \(context.exec.rawValue) context (it may sleep)") }
        guard a.allocator == .vmMapRam, addr == a.start else {
            emit(.freeMatch, nil, ref(i), "vm_unmap_ram on \(a.allocator.rawValue) memory or an interior pointer: use \(documentedFree(a))")
            return
        }
        if n != a.mapRamCount {
            emit(.freeMatch, nil, ref(i), "vm_unmap_ram with \(n) pages; vm_map_ram mapped \(a.mapRamCount) (BUG)")
        }
        release(i, effect: .unmapOnly, via: "vm_unmap_ram")
    }

    mutating func freePages(_ name: String) {
        guard let sid = pageSet(name) else {
            emit(.freeMatch, nil, callRef("__free_pages"), "\(name) is not a page allocation")
            return
        }
        let set = pageSets[sid]
        let obj = ObjectRef(kind: .pages, id: sid, name: name)
        if !set.live { emit(.doubleFree, nil, obj, "__free_pages(\(name)) twice"); return }
        if set.transferred {
            emit(.freeMatch, nil, obj, "\(name) belongs to a VM_MAP_PUT_PAGES vmap area; vfree frees them")
            return
        }
        let mine = Set(set.pfns)
        for (i, a) in areas.enumerated() where a.state != .freed && a.callerOwnsPages && a.pfns.contains(where: { mine.contains($0) }) {
            emit(.uaf, nil, ref(i), "pages \(name) freed while still mapped by \(a.label)")
            break
        }
        pageSets[sid].live = false
        for p in set.pfns { releasePage(p, by: nil) }
    }
}
