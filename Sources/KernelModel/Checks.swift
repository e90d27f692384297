/// The state invariants checked after every step (on what the step touched),
/// at CONFIG_DEBUG_WX checkpoints, and at scenario end.
extension ModelState {
    /// The ranges code of this purpose may live in (INV-RANGE): 6.12
    /// `execmem_info` primary + fallback; 6.1 the module_alloc ranges, the
    /// riscv BPF region, and the vmalloc uses that are fine by design (arm64
    /// BPF with absolute calls; arm64/riscv/ppc64 kprobes).
    public func codeRanges(for purpose: Purpose) -> [AddrRange] {
        if config.generation == .v6_12 {
            let r = profile.execmem[purpose.execmemType]!
            return [r.range] + (r.fallback.map { [$0] } ?? [])
        }
        var out = [profile.moduleAlloc.range] + (profile.moduleAlloc.fallback.map { [$0] } ?? [])
        if let b = profile.bpfRegion { out.append(b) }
        if purpose == .bpf && config.arch == .arm64 { out.append(profile.vmalloc) }
        if purpose == .kprobes && [.arm64, .riscv64, .ppc64].contains(config.arch) { out.append(profile.vmalloc) }
        return out
    }

    func wxSeverity(_ a: Area, cause: WXCause, checkpoint: Bool) -> (Severity, String) {
        if !config.strictModuleRWX && (a.allocator == .moduleAlloc || a.allocator == .execmemAlloc) {
            return (.advisory, " (allowed by config: STRICT_MODULE_RWX off)")
        }
        if config.wxMode == .strict || checkpoint { return (.error, "") }
        return cause == .allocation ? (.advisory, " (from the allocation pgprot)") : (.error, "")
    }

    func wxPages(_ a: Area) -> (map: Int, alias: Int) {
        var m = 0, al = 0
        for k in a.map.indices {
            if a.map[k].isWX { m += 1 }
            let p = a.pfns.isEmpty ? -1 : a.pfns[k]
            if p >= 0 && pages[Int(p)].alias.isWX { al += 1 }
        }
        return (m, al)
    }

    mutating func postCheck(cause: WXCause) {
        for i in touched {
            let a = areas[i]
            guard a.state != .freed, !a.isHeap else {
                reportedWX.remove(a.id)
                continue
            }
            // INV-WX
            let (m, al) = wxPages(a)
            if m + al > 0 {
                if !reportedWX.contains(a.id) {
                    reportedWX.insert(a.id)
                    let (sev, note) = wxSeverity(a, cause: cause, checkpoint: false)
                    let where_ = m > 0 ? "\(m) page(s) of the vmalloc mapping" : "\(al) direct-map alias page(s)"
                    emit(.wx, sev, ref(i), "\(a.label) has \(where_) writable and executable\(note)")
                }
            } else {
                reportedWX.remove(a.id)
            }
            // INV-RANGE
            if !reportedRange.contains(a.id) && a.allocator != .ioremap {
                let needsCode = a.everX || a.purpose.isCode || (config.arch == .x86_64 && a.purpose == .moduleData)
                let len = UInt64(a.size)
                if needsCode {
                    let ranges = codeRanges(for: a.purpose)
                    if !ranges.contains(where: { $0.contains(a.start, length: len) }) {
                        reportedRange.insert(a.id)
                        emit(.range, nil, ref(i), "\(a.label) holds \(a.purpose == .data ? "executable" : a.purpose.rawValue) memory at 0x\(String(a.start, radix: 16)), outside \(ranges.map(\.description).joined(separator: " ∪ "))")
                    }
                } else if a.allocator == .vmallocNodeRange && !profile.vmalloc.contains(a.start, length: len) {
                    reportedRange.insert(a.id)
                    emit(.range, nil, ref(i), "\(a.label) is data outside vmalloc space \(profile.vmalloc)")
                }
            }
        }
    }

    /// INV-ALIAS, judged when it matters (at a checkpoint, and when the area
    /// is freed) rather than after every step, so that the normal
    /// allocate-ROX-then-protect sequence is not reported for its one-step window.
    mutating func checkAlias(_ i: Int) {
        let a = areas[i]
        guard !reportedAlias.contains(a.id), !a.pfns.isEmpty else { return }
        var aliasW = 0
        for k in a.map.indices where a.map[k].isExecutable {
            let p = a.pfns[k]
            if p >= 0 && pages[Int(p)].alias.isWritable { aliasW += 1 }
        }
        if aliasW > 0 {
            reportedAlias.insert(a.id)
            emit(.alias, nil, ref(i), "\(aliasW) executable page(s) of \(a.label) have a writable direct-map alias")
        }
    }

    /// A CONFIG_DEBUG_WX checkpoint: every live W+X mapping is reported.
    mutating func checkpoint() {
        for i in areas.indices where areas[i].state != .freed && !areas[i].isHeap {
            checkAlias(i)
            let (m, al) = wxPages(areas[i])
            guard m + al > 0 else { continue }
            let (sev, note) = wxSeverity(areas[i], cause: .other, checkpoint: true)
            emit(.wx, sev, ref(i), "checkpoint: \(areas[i].label) still has \(m + al) W+X page(s)\(note)")
        }
        for f in pages.indices where pages[f].owner != .free && pages[f].alias.isWX {
            if case .area = pages[f].owner { continue }
            emit(.wx, nil, ObjectRef(kind: .page, id: f, name: ""), "checkpoint: the direct-map alias of pfn \(f) is W+X")
        }
    }

    mutating func finishScenario() {
        guard !finished else { return }
        finished = true
        drainDeferred()
        checkpoint()
        for i in areas.indices {
            if let v = unrestoredCode(area: i) { pending.append(v) }
        }
        for i in areas.indices {
            let a = areas[i]
            guard a.state != .freed, !a.persistent, a.allocator != .bpfProgPack else { continue }
            emit(.leak, nil, ref(i), "\(a.label) (\(a.allocator.rawValue), step \(a.allocStep)) is never freed", instead: "free it with \(documentedFree(a)) on every path, or mark it persistent")
        }
        for c in chunks.indices where chunks[c].live && !chunks[c].persistent {
            emit(.leak, nil, chunkRef(c), "\(chunks[c].label) (step \(chunks[c].allocStep)) is never freed", instead: "bpf_prog_pack_free / bpf_jit_binary_pack_free on every path")
        }
        for s in pageSets where s.live && !s.transferred {
            emit(.leak, nil, ObjectRef(kind: .pages, id: s.id, name: s.name), "pages \(s.name) (step \(s.allocStep)) are never freed", instead: "__free_pages them")
        }
    }

    /// INV-ROX: `execmem_alloc_rw` memory that the caller wrote code into
    /// and has not made read-only and executable again, as a function hands
    /// it back (the path checker asks at a return) or a scenario ends.
    public func unrestoredCode(_ name: String) -> Violation? {
        guard let a = resolve(.sym(name)), a != 0, let i = areaIndex(containing: a) else { return nil }
        return unrestoredCode(area: i)
    }

    func unrestoredCode(area i: Int) -> Violation? {
        let a = areas[i]
        guard a.state == .live, a.awaitingROX, a.codeWritten else { return nil }
        let how = a.fromROXCache
            ? "execmem_restore_rox() (the ROX cache's memory on \(config.arch.rawValue) is RW and not executable until then)"
            : config.capabilities.hasROXCache(on: config.arch)
                ? "set_memory_rox() (EXECMEM_\(a.execmemType?.rawValue ?? "?") is not from the ROX cache on \(config.arch.rawValue))"
                : "set_memory_rox(): \(config.arch.rawValue) has no ROX cache, so execmem_restore_rox() does nothing there"
        return Violation(.rox, nil, step: finished ? 0 : step, object: ref(i),
                         "execmem_alloc_rw() memory \(a.name.isEmpty ? a.label : a.name) holds code the caller wrote and is still \(a.map.first ?? .notPresent): it needs " + how)
    }
}
