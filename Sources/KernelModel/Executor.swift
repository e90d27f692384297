/// Runs steps on a `ModelState` and reports the invariants they break.
///
/// `run` executes one step and checks the invariants on everything the step
/// touched; `finish` drains the deferred-free queue, takes the final
/// CONFIG_DEBUG_WX checkpoint and reports leaks. Violations never stop the
/// model: the step has the effect the kernel would have (often none, after a
/// WARN), so a checker can keep exploring the path.
public enum Executor {
    /// Executes `call` as the next step of `state`.
    public static func run(_ call: APICall, on state: inout ModelState) -> [Violation] {
        state.step += 1
        state.touched.removeAll(keepingCapacity: true)
        state.pending.removeAll(keepingCapacity: true)
        state.execute(call)
        state.postCheck(cause: WXCause(call))
        return state.pending
    }

    /// Ends the scenario: deferred frees run, a W+X checkpoint is taken and
    /// every object still allocated (and not persistent) is a leak. Reported
    /// violations carry step index 0 ("end").
    public static func finish(_ state: inout ModelState) -> [Violation] {
        state.pending.removeAll(keepingCapacity: true)
        state.touched.removeAll(keepingCapacity: true)
        state.finishScenario()
        return state.pending
    }

    /// Runs a whole sequence, then `finish`; returns every violation in order.
    public static func run(_ calls: [APICall], config: ModelConfig) -> (state: ModelState, violations: [Violation]) {
        var s = ModelState(config: config)
        var out: [Violation] = []
        for c in calls { out += run(c, on: &s) }
        out += finish(&s)
        return (s, out)
    }
}

/// Where a W+X mapping came from decides its severity in `kernel` W+X mode.
enum WXCause {
    case allocation, setMemory, other
    init(_ c: APICall) {
        switch c {
        case .vmalloc, .vmallocNodeRange, .moduleAlloc, .execmemAlloc, .execmemAllocRW, .bpfJitAllocExec, .vmap: self = .allocation
        case .setMemory: self = .setMemory
        default: self = .other
        }
    }
}

/// What a free does to the area, once its pairing has been judged.
enum FreeEffect { case release, unmapOnly, nothing }

extension ModelState {
    // MARK: reporting

    func ref(_ i: Int) -> ObjectRef { ObjectRef(kind: .area, id: areas[i].id, name: areas[i].name) }
    func chunkRef(_ c: Int) -> ObjectRef { ObjectRef(kind: .chunk, id: chunks[c].id, name: chunks[c].name) }
    func callRef(_ name: String) -> ObjectRef { ObjectRef(kind: .call, id: step, name: name) }

    mutating func emit(_ inv: Invariant, _ sev: Severity? = nil, _ obj: ObjectRef, _ msg: String, instead: String? = nil) {
        pending.append(Violation(inv, sev, step: finished ? 0 : step, object: obj, msg, instead: instead))
    }

    mutating func touch(_ i: Int) { if !touched.contains(i) { touched.append(i) } }

    mutating func consumeFailure() -> Bool {
        if failNext { failNext = false; return true }
        return false
    }

    // MARK: dispatch

    /// One step: the catalogue's checks common to every API (INV-VERSION,
    /// INV-LAYER, nmi), then the step's effect, by the kind of step.
    mutating func execute(_ call: APICall) {
        lastResult = .none
        if let name = call.apiName {
            guard checkCatalogue(name, call) else { return }
        }
        switch call {
        case .vmalloc, .vmallocNodeRange, .moduleAlloc, .execmemAlloc, .execmemAllocRW, .bpfJitAllocExec, .bpfProgPackAlloc,
             .bpfJitBinaryPackAlloc, .kvmalloc, .kmalloc, .allocPages, .ioremap, .vmap, .vmMapRam, .getVMArea:
            allocate(call)
        case .free, .vmUnmapRam, .bpfProgPackFree, .bpfJitBinaryPackFree, .freePages:
            release(call)
        case .execmemRestoreROX, .setMemory, .setVMFlushResetPerms, .setDirectMap, .bpfJitBinaryPackFinalize, .textPatch,
             .bpfArchTextCopy, .vmAreaMapPages, .vmAreaUnmapPages, .vmapPagesRange, .write:
            change(call)
        case .findVMArea, .checkWX, .runWork, .setContext, .setCaller, .textMutex, .injectFailure, .markPersistent:
            control(call)
        }
    }

    /// The allocations: vmalloc and its variants, the module and execmem
    /// allocators, BPF packs, the heap, pages and the mappings made of them.
    private mutating func allocate(_ call: APICall) {
        switch call {
        case .vmalloc(let v, let size, let bind):
            allocContext(v.rawValue)
            let huge = v == .vmallocHuge
            let alloc: Allocator = huge ? .vmallocHuge : .vmalloc
            _ = allocArea(range: profile.vmalloc, fallback: nil, size: size, align: 1, prot: .kernel,
                          flags: huge ? [.alloc, .allowHugeVmap] : [.alloc], allocator: alloc, purpose: .data, type: nil, bind: bind)
        case .vmallocNodeRange(let size, let align, let rsel, let prot, let flags, let purpose, let bind):
            allocContext("__vmalloc_node_range")
            let range: AddrRange
            switch rsel {
            case .vmalloc: range = profile.vmalloc
            case .modules: range = profile.modules
            case .bpfRegion: range = profile.bpfRegion ?? profile.modules
            }
            _ = allocArea(range: range, fallback: nil, size: size, align: align, prot: prot, flags: flags.union(.alloc),
                          allocator: .vmallocNodeRange, purpose: purpose, type: nil, bind: bind)
        case .moduleAlloc(let size, let bind):
            allocContext("module_alloc")
            _ = moduleAlloc(size: size, allocator: .moduleAlloc, purpose: .moduleText, bind: bind)
        case .execmemAlloc(let type, let size, let bind):
            allocContext("execmem_alloc")
            _ = execmemAlloc(type, size: size, allocator: .execmemAlloc, bind: bind)
        case .execmemAllocRW(let type, let size, let bind):
            allocContext("execmem_alloc_rw")
            execmemAllocRW(type, size: size, bind: bind)
        case .bpfJitAllocExec(let size, let bind):
            allocContext("bpf_jit_alloc_exec")
            _ = bpfJitAllocExec(size: size, bind: bind)
        case .bpfProgPackAlloc(let size, let bind):
            allocContext("bpf_prog_pack_alloc")
            _ = packAlloc(size: size, bind: bind)
        case .bpfJitBinaryPackAlloc(let size, let ro, let rw):
            allocContext("bpf_jit_binary_pack_alloc")
            if packAlloc(size: size, bind: ro) != nil {
                _ = heapAlloc(size: size, allocator: .kvmalloc, bind: rw)
            } else {
                bindings[rw] = .address(0)
            }
        case .kvmalloc(let size, let bind):
            allocContext("kvmalloc")
            _ = heapAlloc(size: size, allocator: .kvmalloc, bind: bind)
        case .kmalloc(let size, let bind):
            _ = heapAlloc(size: size, allocator: .kmalloc, bind: bind)
        case .allocPages(var n, let bind):
            if n > ModelLimits.maxPages || modelledPages + n > ModelLimits.maxStatePages { n = 0 }  // fails: an empty set
            modelledPages += max(0, n)
            let id = pageSets.count
            pageSets.append(PageSet(id: id, name: bind, pfns: takePages(max(0, n), owner: .caller), live: true, allocStep: step, transferred: false))
            bindings[bind] = .pages(id)
        case .ioremap(let size, let bind):
            if let i = allocArea(range: profile.vmalloc, fallback: nil, size: size, align: 1, prot: .kernel, flags: [.ioremap],
                                 allocator: .ioremap, purpose: .data, type: nil, bind: bind, withPages: false) {
                areas[i].persistent = true
            }
        case .vmap(let pg, let n, let flags, let prot, let bind):
            vmap(pages: pg, count: n, flags: flags, prot: prot, bind: bind)
        case .vmMapRam(let pg, let n, let bind):
            vmMapRam(pages: pg, count: n, bind: bind)
        case .getVMArea(let size, let flags, let bind):
            allocContext("get_vm_area")
            if let i = allocArea(range: profile.vmalloc, fallback: nil, size: size, align: 1, prot: .notPresent, flags: flags,
                                 allocator: .getVMArea, purpose: .data, type: nil, bind: bind, withPages: false) {
                areas[i].callerOwnsPages = true
            }
        default:
            preconditionFailure("\(call) is not an allocation step")
        }
    }

    /// The frees, each judged against the allocator that produced the memory.
    private mutating func release(_ call: APICall) {
        switch call {
        case .free(let api, let p):
            free(api, p)
        case .vmUnmapRam(let p, let n):
            vmUnmapRam(p, count: n)
        case .bpfProgPackFree(let p, let size):
            packFree(p, size: size, api: "bpf_prog_pack_free")
        case .bpfJitBinaryPackFree(let ro, let rw):
            packFree(ro, size: nil, api: "bpf_jit_binary_pack_free", signatureFree: true)
            if let a = resolve(rw), a != 0 { free(.kvfree, rw) }
        case .freePages(let name):
            freePages(name)
        default:
            preconditionFailure("\(call) is not a free step")
        }
    }

    /// What changes memory already there: permissions (set_memory_*, the
    /// ROX restore, flush-reset flags, the direct map), text patches, page
    /// mappings and plain writes.
    private mutating func change(_ call: APICall) {
        switch call {
        case .execmemRestoreROX(let p, let size, let checked):
            lastResult = .status(execmemRestoreROX(p, size: size))
            if !checked && config.capabilities.hasROXCache(on: config.arch) {
                emit(.ret, nil, callRef("execmem_restore_rox"), "the result of execmem_restore_rox is ignored: on failure the code stays writable and not executable")
            }
        case .bpfJitBinaryPackFinalize(let ro, let rw):
            packFinalize(ro: ro, rw: rw)
        case .setMemory(let op, let p, let n, let checked):
            let r = setMemory(op, p, pages: n)
            lastResult = .status(r)
            if !checked && config.hasSetMemory {
                emit(.ret, nil, callRef(op.apiName), "the result of \(op.apiName) is ignored")
            }
        case .setVMFlushResetPerms(let p):
            setFlushResetPerms(p)
        case .setDirectMap(let valid, let p):
            setDirectMap(valid: valid, p)
        case .textPatch(let api, let p, let len):
            textPatch(api, p, length: len)
        case .bpfArchTextCopy(let p, let len, let checked):
            let ok = bpfArchTextCopy(p, length: len)
            lastResult = .status(ok ? 0 : -22)
            if !checked { emit(.ret, nil, callRef("bpf_arch_text_copy"), "the result of bpf_arch_text_copy is ignored") }
        case .vmAreaMapPages(let a, let from, let to, let pg):
            vmAreaMapPages(a, from: from, to: to, pages: pg)
        case .vmAreaUnmapPages(let a, let from, let to):
            vmAreaUnmapPages(a, from: from, to: to)
        case .vmapPagesRange(let p, let pg, let n, let prot):
            vmapPagesRange(p, pages: pg, count: n, prot: prot)
        case .write(let p, let len):
            plainWrite(p, length: len, what: "write")
        default:
            preconditionFailure("\(call) is not a change of memory step")
        }
    }

    /// The steps that are not kernel calls on memory: lookups, the
    /// scenario's checkpoints, context, injected failures and persistence.
    private mutating func control(_ call: APICall) {
        switch call {
        case .findVMArea(let p):
            if let a = resolve(p), let i = areaIndex(containing: a), areas[i].hasVmStruct, areas[i].state == .live {
                lastResult = .pointer(areas[i].start)
            } else {
                lastResult = .pointer(0)
            }
        case .checkWX:
            checkpoint()
        case .runWork:
            drainDeferred()
        case .setContext(let c):
            context.exec = c
        case .setCaller(let c):
            context.caller = c
        case .textMutex(let held):
            context.textMutexHeld = held
        case .injectFailure:
            failNext = true
        case .markPersistent(let p):
            guard let a = resolve(p) else { return }
            if let c = chunkIndex(startingAt: a) { chunks[c].persistent = true }
            if let i = areaIndex(containing: a) { areas[i].persistent = true }
        default:
            preconditionFailure("\(call) is not a control step")
        }
    }

    /// INV-VERSION, INV-LAYER and the nmi rule, common to every API call.
    /// Returns false when the API does not exist here (the step then does nothing).
    mutating func checkCatalogue(_ name: String, _ call: APICall) -> Bool {
        guard let api = ModelAPI.named(name) else { return true }
        if !api.exists(in: config) {
            let archNote = api.arches.map { " on " + $0.map(\.rawValue).sorted().joined(separator: "/") } ?? ""
            let repl = Replacement.replacing(name).first.map { "use " + $0.replacement } ?? nil
            let versions = api.isVersioned ? " in \(api.versions)" : ""
            emit(.version, nil, callRef(name), "\(name) exists only\(versions)\(archNote); this is \(config.label)", instead: repl)
            lastResult = .status(-38)
            if case .vmalloc(_, _, let b) = call { bindings[b] = .address(0) }
            for b in call.boundSymbols { bindings[b] = .address(0) }
            return false
        }
        if !api.layer.reachable(from: context.caller) {
            emit(.layer, nil, callRef(name), "\(name) is layer \(api.layer.rawValue); a \(context.caller.rawValue) caller cannot reach it")
        }
        if context.exec == .nmi {
            emit(.ctx, nil, callRef(name), "\(name) called in NMI context")
        }
        return true
    }

    /// INV-CTX (i): allocators sleep.
    mutating func allocContext(_ name: String) {
        if context.exec == .irq || context.exec == .atomic {
            emit(.ctx, nil, callRef(name), "\(name) may sleep; called in \(context.exec.rawValue) context")
        }
    }

    // MARK: allocators

    /// The `__vmalloc_node_range` core: reserve, back with pages, map with `prot`.
    mutating func allocArea(range: AddrRange, fallback: AddrRange?, size: Int, align: Int, prot: Perm, flags: VMFlags,
                            fallbackFlags: VMFlags? = nil, allocator: Allocator, purpose: Purpose, type: ExecmemType?,
                            bind: String, withPages: Bool = true) -> Int? {
        guard size > 0, size <= ModelLimits.maxBytes, !consumeFailure(),
              modelledPages + Size.pages(size) + 1 <= ModelLimits.maxStatePages else {
            bindings[bind] = .address(0)
            lastResult = .pointer(0)
            return nil
        }
        var flags = flags
        let huge = flags.contains(.allowHugeVmap) && config.hugeVmalloc && size / config.numNodes >= Size.pmd
        let usable = huge ? (size + Size.pmd - 1) / Size.pmd * Size.pmd : Size.pages(size) * Size.page
        let guardBytes = flags.contains(.noGuard) ? 0 : Size.page
        let total = usable + guardBytes
        let al = huge ? Size.pmd : align
        var start = reserve(range, size: total, align: al)
        if start == nil, let fb = fallback {
            start = reserve(fb, size: total, align: al)
            if let ff = fallbackFlags { flags = ff.union(flags.intersection([.alloc, .allowHugeVmap])) }
        }
        guard let s = start else {
            bindings[bind] = .address(0)
            lastResult = .pointer(0)
            return nil
        }
        let id = areas.count
        let n = usable / Size.page
        modelledPages += n
        let pfns = withPages ? takePages(n, owner: .area(id)) : [Int32](repeating: -1, count: n)
        let map = [Perm](repeating: withPages || allocator == .ioremap ? prot : .notPresent, count: n)
        let area = Area(id: id, name: bind, start: s, size: total, flags: flags, pageOrder: huge ? Size.pmdOrder : 0,
                        pfns: pfns, map: map, allocator: allocator, purpose: purpose, execmemType: type,
                        hasVmStruct: true, everX: prot.isExecutable, permsChanged: false, state: .live,
                        persistent: false, callerOwnsPages: false, allocStep: step, mapRamCount: 0)
        areas.append(area)
        bindings[bind] = .address(s)
        lastResult = .pointer(s)
        touch(id)
        if flags.contains(.allowHugeVmap) && (prot.isExecutable || purpose.isCode) {
            emit(.huge, nil, ref(id), "an executable allocation passes VM_ALLOW_HUGE_VMAP")
        }
        return id
    }

    /// 6.1 `module_alloc` with the arch's arguments (MODEL_SPEC §1.4).
    mutating func moduleAlloc(size: Int, allocator: Allocator, purpose: Purpose, bind: String) -> Int? {
        let m = profile.moduleAlloc
        if config.arch == .x86_64 && UInt64(size) > m.range.end - m.range.start {
            bindings[bind] = .address(0); lastResult = .pointer(0); return nil
        }
        return allocArea(range: m.range, fallback: m.fallback, size: size, align: 1, prot: m.pgprot, flags: m.flags.union(.alloc),
                         fallbackFlags: m.fallback == nil ? nil : m.fallbackFlags.union(.alloc),
                         allocator: allocator, purpose: purpose, type: nil, bind: bind)
    }

    /// 6.10+ `execmem_alloc`: ranges[type], VM_FLUSH_RESET_PERMS, fallback
    /// range; where the tree gives the type's range EXECMEM_ROX_CACHE on
    /// this arch (`TreeCapabilities.usesROXCache`, 6.13+ x86), a piece of
    /// the ROX cache instead: read-only and executable, its alias read-only,
    /// holding the cache's trapping-instruction fill (mm/execmem.c:
    /// execmem_alloc, execmem_cache_populate_alloc).
    mutating func execmemAlloc(_ type: ExecmemType, size: Int, allocator: Allocator, bind: String) -> Int? {
        let r = profile.execmem[type]!
        if config.capabilities.usesROXCache(type, on: config.arch) {
            guard let i = allocArea(range: r.range, fallback: r.fallback, size: size, align: r.align, prot: .kernelROX, flags: [.alloc],
                                    allocator: allocator, purpose: Purpose(type), type: type, bind: bind) else { return nil }
            areas[i].fromROXCache = true
            // set_memory_rox on the cache's vmalloc area took the alias's W away (x86 CPA).
            for pfn in areas[i].pfns where pfn >= 0 { pages[Int(pfn)].alias.remove(.write) }
            return i
        }
        var flags: VMFlags = [.alloc, .flushResetPerms]
        if config.kasan && r.kasanShadow { flags.insert(.deferKmemleak) }
        return allocArea(range: r.range, fallback: r.fallback, size: size, align: r.align, prot: r.pgprot, flags: flags,
                         allocator: allocator, purpose: Purpose(type), type: type, bind: bind)
    }

    /// 6.17 `execmem_alloc_rw`: `execmem_alloc`, then on ROX-cache memory
    /// `execmem_force_rw` (set_memory_nx, set_memory_rw; NULL when either
    /// fails, the piece going back to the cache through `__free(execmem)`);
    /// elsewhere the type's pgprot as it is, which the arch keeps writable.
    /// Either way the caller owes ROX once the code is written.
    mutating func execmemAllocRW(_ type: ExecmemType, size: Int, bind: String) {
        guard let i = execmemAlloc(type, size: size, allocator: .execmemAlloc, bind: bind) else { return }
        if areas[i].fromROXCache {
            let p = PtrExpr.sym(bind)
            let n = areas[i].map.count
            if setMemory(.nx, p, pages: n, internalCall: true) != 0 || setMemory(.rw, p, pages: n, internalCall: true) != 0 {
                areas[i].state = .freed
                bindings[bind] = .address(0)
                lastResult = .pointer(0)
                return
            }
            lastResult = .pointer(areas[i].start)
        }
        areas[i].awaitingROX = true
    }

    /// 6.15 `execmem_restore_rox`: `set_memory_rox` over the range with
    /// CONFIG_ARCH_HAS_EXECMEM_ROX (an arch with a ROX cache), a stub
    /// returning 0 that changes nothing elsewhere (include/linux/execmem.h).
    mutating func execmemRestoreROX(_ p: PtrExpr, size: Int) -> Int {
        guard config.capabilities.hasROXCache(on: config.arch) else {
            if let a = resolve(p), let i = areaIndex(containing: a) { touch(i) }
            return 0
        }
        return setMemory(.rox, p, pages: max(1, Size.pages(size)))
    }

    /// `bpf_jit_alloc_exec` and its 6.1 arch overrides.
    mutating func bpfJitAllocExec(size: Int, bind: String) -> Int? {
        if config.generation == .v6_12 {
            return execmemAlloc(.bpf, size: size, allocator: .bpfJitAllocExec, bind: bind)
        }
        switch config.arch {
        case .arm64:
            return allocArea(range: profile.vmalloc, fallback: nil, size: size, align: 1, prot: .kernel, flags: [.alloc],
                             allocator: .bpfJitAllocExec, purpose: .bpf, type: nil, bind: bind)
        case .riscv64:
            return allocArea(range: profile.bpfRegion!, fallback: nil, size: size, align: Size.page, prot: .kernel, flags: [.alloc],
                             allocator: .bpfJitAllocExec, purpose: .bpf, type: nil, bind: bind)
        default:
            return moduleAlloc(size: size, allocator: .bpfJitAllocExec, purpose: .bpf, bind: bind)
        }
    }

    mutating func heapAlloc(size: Int, allocator: Allocator, bind: String) -> Int? {
        guard let i = allocArea(range: profile.heap, fallback: nil, size: max(size, 1), align: 1, prot: .kernel, flags: [],
                                allocator: allocator, purpose: .data, type: nil, bind: bind, withPages: false) else { return nil }
        areas[i].hasVmStruct = false
        areas[i].map = [Perm](repeating: .kernel, count: areas[i].map.count)
        return i
    }

    mutating func pageSet(_ name: String) -> Int? {
        if case .pages(let id)? = bindings[name] { return id }
        return nil
    }

    mutating func vmap(pages pg: String, count n: Int, flags: VMFlags, prot: Perm, bind: String) {
        allocContext("vmap")
        guard let sid = pageSet(pg), pageSets[sid].live, n > 0, n <= pageSets[sid].pfns.count else {
            if let sid = pageSet(pg), !pageSets[sid].live {
                emit(.uaf, nil, ObjectRef(kind: .pages, id: sid, name: pg), "vmap of freed pages")
            }
            bindings[bind] = .address(0); lastResult = .pointer(0); return
        }
        var flags = flags.subtracting(.noGuard).union(.map)
        if flags.contains(.flushResetPerms) {
            if config.generation == .v6_12 {
                emit(.reset, nil, callRef("vmap"), "6.12 vmap refuses VM_FLUSH_RESET_PERMS (WARN, returns NULL)")
                bindings[bind] = .address(0); lastResult = .pointer(0); return
            }
        }
        flags.remove(.alloc)
        guard let i = allocArea(range: profile.vmalloc, fallback: nil, size: n * Size.page, align: 1, prot: prot.subtracting(.exec),
                                flags: flags, allocator: .vmap, purpose: .data, type: nil, bind: bind, withPages: false) else { return }
        areas[i].pfns = Array(pageSets[sid].pfns.prefix(n))
        areas[i].map = [Perm](repeating: prot.subtracting(.exec), count: n)
        if flags.contains(.mapPutPages) {
            pageSets[sid].transferred = true
            for p in areas[i].pfns { pages[Int(p)].owner = .area(i) }
        } else {
            areas[i].callerOwnsPages = true
        }
    }

    mutating func vmMapRam(pages pg: String, count n: Int, bind: String) {
        allocContext("vm_map_ram")
        guard let sid = pageSet(pg), pageSets[sid].live, n > 0, n <= pageSets[sid].pfns.count else {
            bindings[bind] = .address(0); lastResult = .pointer(0); return
        }
        guard let i = allocArea(range: profile.vmalloc, fallback: nil, size: n * Size.page, align: 1, prot: .kernel,
                                flags: [.noGuard], allocator: .vmMapRam, purpose: .data, type: nil, bind: bind, withPages: false) else { return }
        areas[i].pfns = Array(pageSets[sid].pfns.prefix(n))
        areas[i].map = [Perm](repeating: .kernel, count: n)
        areas[i].hasVmStruct = false
        areas[i].callerOwnsPages = true
        areas[i].mapRamCount = n
    }
}

extension APICall {
    /// Symbols an allocating call binds.
    var boundSymbols: [String] {
        switch self {
        case .vmalloc(_, _, let b), .vmallocNodeRange(_, _, _, _, _, _, let b), .moduleAlloc(_, let b), .execmemAlloc(_, _, let b),
             .execmemAllocRW(_, _, let b),
             .bpfJitAllocExec(_, let b), .bpfProgPackAlloc(_, let b), .kvmalloc(_, let b), .kmalloc(_, let b),
             .ioremap(_, let b), .vmap(_, _, _, _, let b), .vmMapRam(_, _, let b), .getVMArea(_, _, let b):
            return [b]
        case .bpfJitBinaryPackAlloc(_, let ro, let rw): return [ro, rw]
        default: return []
        }
    }
}
