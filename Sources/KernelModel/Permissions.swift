/// `set_memory_*`, `set_vm_flush_reset_perms` and the direct-map helpers,
/// with each arch's treatment of the alias (MODEL_SPEC §1.6).
extension ModelState {
    /// Applies `op` to `n` pages at `p`; returns 0 or a negative errno.
    mutating func setMemory(_ op: SetMemoryOp, _ p: PtrExpr, pages n: Int, internalCall: Bool = false) -> Int {
        let name = op.apiName
        // Without ARCH_HAS_SET_MEMORY these are stubs returning 0.
        guard config.hasSetMemory else { return 0 }
        guard var addr = resolve(p), addr != 0 else {
            emit(.setmem, nil, callRef(name), "\(name)(\(p)): no such object (NULL or unbound)")
            return -22
        }
        if addr % UInt64(Size.page) != 0 {
            emit(.setmem, nil, callRef(name), "\(name)(\(p)) is not page-aligned (WARN; rounded down)")
            addr -= addr % UInt64(Size.page)
        }
        if n < 0 { emit(.setmem, nil, callRef(name), "\(name) with a negative page count"); return -22 }
        if n == 0 { return 0 }
        guard let i = areaIndex(containing: addr) else {
            emit(.setmem, nil, callRef(name), "\(name)(\(p)) is not inside a vmalloc area")
            return -22
        }
        touch(i)
        let a = areas[i]
        if a.state != .live {
            emit(.uaf, nil, ref(i), "\(name) on \(a.label), which is \(a.state == .freed ? "freed" : "queued for freeing")")
            return -22
        }
        if a.isHeap || !a.hasVmStruct {
            emit(.setmem, nil, ref(i), "\(name) on \(a.allocator.rawValue) memory, which has no vm_struct" + (config.arch == .arm64 ? " (-EINVAL on arm64)" : ""))
            if config.arch == .arm64 || a.isHeap { return -22 }
        } else if !a.flags.contains(.alloc) {
            if profile.alias.requiresAllocArea {
                emit(.setmem, nil, ref(i), "\(name) on a non-VM_ALLOC area (\(a.allocator.rawValue)): arm64 returns -EINVAL")
                return -22
            }
            emit(.setmem, .advisory, ref(i), "\(name) on a non-VM_ALLOC area (\(a.allocator.rawValue)): arm64 would refuse it")
        }
        let first = Int((addr - a.start) / UInt64(Size.page))
        let usablePages = a.map.count
        var last = first + n
        if last > usablePages {
            emit(.setmem, nil, ref(i), "\(name)(\(p), \(n)) runs \(last - usablePages) page(s) past the usable end of \(a.label)")
            if profile.alias.requiresAllocArea && last > a.size / Size.page { return -22 }
            last = usablePages
        }
        if a.pageOrder > 0 {
            if profile.alias.refusesHuge {
                emit(.huge, nil, ref(i), "\(name) on huge-mapped \(a.label): \(config.arch.rawValue) cannot split it (-EINVAL, WARN)")
                return -22
            }
        }
        if consumeFailure() { return -12 }
        let downgrade = !config.strictModuleRWX && (a.allocator == .moduleAlloc || a.allocator == .execmemAlloc)
        var orderReported = false
        let copyW = profile.alias.copiesWrite && (!profile.alias.copiesOnlyForAllocAreas || a.flags.contains(.alloc))
        let copyX = profile.alias.copiesExec
        guard first < last else { return 0 }
        // Mutate a local copy of the page array and put it back: one
        // uniqueness check instead of one per page.
        var map = areas[i].map
        areas[i].map = []
        let pfns = a.pfns
        for k in first..<last {
            var perm = map[k]
            if !perm.isPresent { continue }
            if !orderReported && !internalCall {
                if op == .x && perm.isWritable {
                    emit(.order, downgrade ? .advisory : nil, ref(i), "set_memory_x on a writable page of \(a.label) creates W+X" + (downgrade ? " (allowed by config: STRICT_MODULE_RWX off)" : ""))
                    orderReported = true
                } else if op == .rw && perm.isExecutable {
                    emit(.order, nil, ref(i), "set_memory_rw on an executable page of \(a.label) creates W+X")
                    orderReported = true
                }
            }
            switch op {
            case .ro: perm.remove(.write)
            case .rw: perm.insert(.write)
            case .x: perm.insert(.exec)
            case .nx: perm.remove(.exec)
            case .rox: perm.remove(.write); perm.insert(.exec)
            }
            map[k] = perm
            let pfn = pfns[k]
            if pfn >= 0 && (copyW || copyX) {
                var al = pages[Int(pfn)].alias
                if al.isPresent {
                    if copyW && (op == .ro || op == .rw || op == .rox) {
                        if perm.contains(.write) { al.insert(.write) } else { al.remove(.write) }
                    }
                    if copyX && (op == .x || op == .nx || op == .rox) {
                        if perm.contains(.exec) { al.insert(.exec) } else { al.remove(.exec) }
                    }
                    pages[Int(pfn)].alias = al
                }
            }
        }
        areas[i].map = map
        areas[i].permsChanged = true
        if op == .x || op == .rox { areas[i].everX = true }
        if areas[i].awaitingROX && map.allSatisfy({ !$0.isPresent || (!$0.isWritable && $0.isExecutable) }) {
            areas[i].awaitingROX = false
        }
        return 0
    }

    mutating func setFlushResetPerms(_ p: PtrExpr) {
        guard let addr = resolve(p), addr != 0, let i = areaIndex(containing: addr) else { return }
        touch(i)
        let a = areas[i]
        if a.state != .live {
            emit(.uaf, nil, ref(i), "set_vm_flush_reset_perms on \(a.label), which is freed")
            return
        }
        // find_vm_area cannot see vm_map_ram areas or heap memory: nothing happens.
        guard a.hasVmStruct, !a.isHeap else { return }
        areas[i].flags.insert(.flushResetPerms)
    }

    mutating func setDirectMap(valid: Bool, _ p: PtrExpr) {
        guard config.hasSetMemory else { return }
        guard let addr = resolve(p), let pfn = profile.pfn(ofDirectMap: addr), pfn < pages.count else {
            emit(.setmem, nil, callRef(valid ? "set_direct_map_default_noflush" : "set_direct_map_invalid_noflush"),
                 "\(p) is not a page of the direct map")
            return
        }
        pages[pfn].alias = valid ? .kernel : .notPresent
        if case .area(let id) = pages[pfn].owner { touch(id) }
    }
}
