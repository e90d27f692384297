/// Writes: plain stores (INV-WRITE) and text-patch functions (INV-POKE),
/// plus the VM_SPARSE mapping calls of the BPF arena.
extension ModelState {
    /// A plain store of `len` bytes at `p`.
    mutating func plainWrite(_ p: PtrExpr, length len: Int, what: String) {
        guard let addr = resolve(p) else {
            emit(.write, nil, callRef(what), "\(what)(\(p)): \(p) is not bound to anything")
            return
        }
        guard len > 0 else { return }
        if addr < UInt64(Size.page) {
            emit(.write, nil, callRef(what), "\(what) through a NULL pointer (\(p))")
            return
        }
        if profile.kernelText.contains(addr) {
            emit(.write, nil, callRef(what), "\(what) to core kernel text, which is read-only")
            return
        }
        if let pfn = profile.pfn(ofDirectMap: addr) {
            let last = profile.pfn(ofDirectMap: addr + UInt64(len - 1)) ?? pfn
            for f in pfn...last where f < pages.count {
                let pg = pages[f]
                if case .area(let id) = pg.owner { touch(id) }
                if pg.owner == .free {
                    emit(.uaf, nil, ObjectRef(kind: .page, id: f, name: ""), "\(what) through the direct map to free page frame \(f)")
                    return
                }
                if !pg.alias.isWritable {
                    let why = pg.poisonedBy.map { " (left \(pg.alias) when area #\($0) was freed without a reset)" } ?? ""
                    emit(.write, nil, ObjectRef(kind: .page, id: f, name: ""), "\(what) through the direct-map alias of pfn \(f), which is \(pg.alias)\(why)")
                    return
                }
            }
            return
        }
        guard let i = areaIndex(containing: addr) else {
            emit(.write, nil, callRef(what), "\(what) to \(p), which is not mapped")
            return
        }
        touch(i)
        let a = areas[i]
        if a.state != .live {
            emit(.uaf, nil, ref(i), "\(what) to \(a.label), which is \(a.state == .freed ? "freed" : "queued for freeing")")
            return
        }
        let off = Int(addr - a.start)
        let endOff = off + len
        if endOff > a.usable {
            emit(.write, nil, ref(i), "\(what)(\(p), \(len)) runs \(endOff - a.usable) byte(s) past the usable end of \(a.label)\(a.hasGuard ? " into the guard page" : "")")
            return
        }
        if a.isHeap { return }
        for k in (off / Size.page)...((endOff - 1) / Size.page) {
            let perm = a.map[k]
            if !perm.isWritable {
                let cache = a.fromROXCache && perm.isPresent
                    ? "; execmem_alloc(EXECMEM_\(a.execmemType?.rawValue ?? "?")) on \(config.arch.rawValue) hands out ROX-cache memory" : ""
                emit(.write, nil, ref(i), "\(what) to page \(k) of \(a.label), which is \(perm)" + (perm.isPresent ? " (read-only)" : " (not mapped)") + cache)
                return
            }
        }
        if a.awaitingROX { areas[i].codeWritten = true }
    }

    /// A text-patch write: legal on W=0 targets, with each API's own rules.
    mutating func textPatch(_ api: TextPatchAPI, _ p: PtrExpr, length len: Int) {
        let name = api.rawValue
        if api.sleeps && (context.exec == .irq || context.exec == .atomic) {
            emit(.ctx, nil, callRef(name), "\(name) in \(context.exec.rawValue) context (it takes a mutex and sleeps)")
        }
        if api.needsTextMutex && !context.textMutexHeld {
            emit(.poke, nil, callRef(name), "\(name) without text_mutex held", instead: "take text_mutex, or use text_poke_copy which takes it")
        }
        if api.takesTextMutex && context.textMutexHeld {
            emit(.poke, nil, callRef(name), "\(name) with text_mutex already held deadlocks" + (config.capabilities.has("text_poke_copy_locked") ? "; use text_poke_copy_locked" : ""))
        }
        guard let addr = resolve(p), addr != 0 else {
            emit(.poke, nil, callRef(name), "\(name)(\(p)): the target is NULL or unbound")
            return
        }
        if api == .textPoke && Int(addr % UInt64(Size.page)) + len > 2 * Size.page {
            emit(.poke, nil, callRef(name), "text_poke of \(len) bytes crosses more than two pages", instead: "use text_poke_copy for long copies")
        }
        if profile.kernelText.contains(addr) {
            if api == .textPokeCopy || api == .textPokeSet || api == .textPokeCopyLocked {
                emit(.poke, nil, callRef(name), "\(name) refuses core kernel text (WARN, nothing written)", instead: "use text_poke under text_mutex")
            }
            return
        }
        guard let i = areaIndex(containing: addr) else {
            emit(.poke, nil, callRef(name), "\(name) target \(p) is not mapped (BUG)")
            return
        }
        touch(i)
        let a = areas[i]
        if a.state != .live {
            emit(.uaf, nil, ref(i), "\(name) on \(a.label), which is \(a.state == .freed ? "freed" : "queued for freeing")")
            return
        }
        let off = Int(addr - a.start)
        guard len > 0 else { return }
        if off + len > a.usable || a.isHeap {
            emit(.poke, nil, ref(i), "\(name) runs past the usable end of \(a.label) or targets heap memory")
            return
        }
        for k in (off / Size.page)...((off + len - 1) / Size.page) where !a.map[k].isPresent {
            emit(.poke, nil, ref(i), "\(name) target page \(k) of \(a.label) is not mapped (BUG)")
            return
        }
    }

    /// Returns whether the copy happened.
    mutating func bpfArchTextCopy(_ p: PtrExpr, length len: Int) -> Bool {
        guard let api = config.capabilities.bpfTextCopyWriter(on: config.arch) else {
            emit(.version, nil, callRef("bpf_arch_text_copy"), "\(config.label) has only the weak bpf_arch_text_copy (-ENOTSUPP): nothing is copied")
            return false
        }
        if consumeFailure() { return false }
        textPatch(api, p, length: len)
        return true
    }

    mutating func sparseArea(_ p: PtrExpr, _ name: String) -> Int? {
        guard let addr = resolve(p), addr != 0, let i = areaIndex(containing: addr) else {
            emit(.setmem, nil, callRef(name), "\(name)(\(p)): not an area")
            return nil
        }
        touch(i)
        if areas[i].state != .live { emit(.uaf, nil, ref(i), "\(name) on \(areas[i].label), which is freed"); return nil }
        return i
    }

    mutating func vmAreaMapPages(_ p: PtrExpr, from: PtrExpr, to: PtrExpr, pages pg: String) {
        guard let i = sparseArea(p, "vm_area_map_pages") else { return }
        let a = areas[i]
        if !a.flags.contains(.sparse) || a.flags.contains(.noGuard) {
            emit(.setmem, nil, ref(i), "vm_area_map_pages on an area without VM_SPARSE or with VM_NO_GUARD (-EINVAL, WARN)")
            lastResult = .status(-22); return
        }
        if a.flags.contains(.flushResetPerms) {
            emit(.reset, nil, ref(i), "vm_area_map_pages refuses an area with VM_FLUSH_RESET_PERMS (-EINVAL, WARN)",
                 instead: "do not set VM_FLUSH_RESET_PERMS on VM_SPARSE areas; restore permissions explicitly")
            lastResult = .status(-22); return
        }
        guard let s = resolve(from), let e = resolve(to), s >= a.start, e <= a.usableEnd, s <= e,
              s % UInt64(Size.page) == 0, e % UInt64(Size.page) == 0 else {
            emit(.setmem, nil, ref(i), "vm_area_map_pages range \(from)..\(to) is outside the usable part of \(a.label) (-ERANGE)")
            lastResult = .status(-34); return
        }
        guard let sid = pageSet(pg), pageSets[sid].live else {
            emit(.uaf, nil, ref(i), "vm_area_map_pages with pages \(pg) that are not allocated"); return
        }
        let first = Int((s - a.start) / UInt64(Size.page)), count = Int((e - s) / UInt64(Size.page))
        let src = pageSets[sid].pfns
        for k in 0..<min(count, src.count) {
            areas[i].pfns[first + k] = src[k]
            areas[i].map[first + k] = .kernel
        }
        lastResult = .status(0)
    }

    mutating func vmAreaUnmapPages(_ p: PtrExpr, from: PtrExpr, to: PtrExpr) {
        guard let i = sparseArea(p, "vm_area_unmap_pages") else { return }
        let a = areas[i]
        guard let s = resolve(from), let e = resolve(to), s >= a.start, e <= a.usableEnd, s <= e else {
            emit(.setmem, nil, ref(i), "vm_area_unmap_pages range is outside \(a.label)"); return
        }
        let first = Int((s - a.start) / UInt64(Size.page)), last = Int((e - a.start + UInt64(Size.page) - 1) / UInt64(Size.page))
        for k in first..<last {
            areas[i].pfns[k] = -1
            areas[i].map[k] = .notPresent
        }
    }

    mutating func vmapPagesRange(_ p: PtrExpr, pages pg: String, count n: Int, prot: Perm) {
        guard let i = sparseArea(p, "vmap_pages_range"), let sid = pageSet(pg), pageSets[sid].live else { return }
        let a = areas[i]
        guard let addr = resolve(p) else { return }
        let first = Int((addr - a.start) / UInt64(Size.page))
        let src = pageSets[sid].pfns
        for k in 0..<min(n, src.count) where first + k < a.map.count {
            areas[i].pfns[first + k] = src[k]
            areas[i].map[first + k] = prot
            if prot.isExecutable { areas[i].everX = true }
        }
        areas[i].callerOwnsPages = true
    }
}
