/// A pointer as a scenario or checker names it: a symbol plus a byte offset.
///
/// Symbols are bound by allocating steps (`p = vmalloc(...)`). `lm(p)` is the
/// direct-map (linear map) alias of the page behind `p`, as `lm_alias()` or
/// `page_address(vmalloc_to_page(p))` would give.
public struct PtrExpr: Hashable, Sendable, CustomStringConvertible {
    public enum Base: Hashable, Sendable {
        case null
        case symbol(String)
        /// The direct-map alias of the page `symbol + offset` points into.
        case directMap(String)
        /// Core kernel text (`_stext + offset`).
        case kernelText
        case absolute(UInt64)
    }
    public var base: Base
    public var offset: Int

    public init(_ base: Base, offset: Int = 0) { self.base = base; self.offset = offset }
    public static func sym(_ s: String, _ offset: Int = 0) -> PtrExpr { PtrExpr(.symbol(s), offset: offset) }
    public static let null = PtrExpr(.null)

    public var description: String {
        let off = offset == 0 ? "" : (offset > 0 ? "+\(offset)" : "\(offset)")
        switch base {
        case .null: return "NULL" + off
        case .symbol(let s): return s + off
        case .directMap(let s): return "lm(\(s)\(off))"
        case .kernelText: return "_stext" + off
        case .absolute(let a): return "0x" + String(a, radix: 16) + off
        }
    }
}

/// `vmalloc`, `vzalloc`, `__vmalloc`, `vmalloc_huge`.
public enum VmallocVariant: String, CaseIterable, Hashable, Sendable {
    case vmalloc, vzalloc, underscoreVmalloc = "__vmalloc", vmallocHuge = "vmalloc_huge"
}

/// The range argument of `__vmalloc_node_range`.
public enum RangeSel: String, CaseIterable, Hashable, Sendable {
    /// VMALLOC_START..VMALLOC_END
    case vmalloc
    /// MODULES_VADDR..MODULES_END
    case modules
    /// riscv64 BPF_JIT_REGION
    case bpfRegion = "bpf-region"
}

/// The frees, each with its own pairing and context rules.
public enum FreeAPI: String, CaseIterable, Hashable, Sendable {
    case vfree, vfreeAtomic = "vfree_atomic", vunmap, freeVMArea = "free_vm_area"
    case moduleMemfree = "module_memfree", execmemFree = "execmem_free", bpfJitFreeExec = "bpf_jit_free_exec"
    case kvfree, kfree
}

/// `set_memory_ro/rw/x/nx/rox`.
public enum SetMemoryOp: String, CaseIterable, Hashable, Sendable {
    case ro, rw, x, nx, rox
    public var apiName: String { "set_memory_" + rawValue }
}

/// What kind of step a call is: the event kinds a path rule names in
/// `at:` (where a violation is reported), and what a path checker's
/// finding says it happened at.
public enum StepKind: String, CaseIterable, Hashable, Sendable {
    case setMemory = "set-memory", restore, write, free, allocation, `return`, textPatch = "text-patch", flag

    /// The kind of a call of `api` (its catalogue spelling): `set_memory_*`,
    /// `execmem_restore_rox`, plain writes, the catalogue's frees, the
    /// text-patch functions and `bpf_arch_text_copy`, the flag and direct-map
    /// calls; every other call (allocations, mappings, queries) is an
    /// allocation step. No call is a `return`.
    public init(api: String) {
        if SetMemoryOp.allCases.contains(where: { $0.apiName == api }) { self = .setMemory; return }
        if ModelAPI.named(api)?.role == .free { self = .free; return }
        if TextPatchAPI(rawValue: api) != nil { self = .textPatch; return }
        switch api {
        case "execmem_restore_rox": self = .restore
        case "write": self = .write
        case "bpf_arch_text_copy": self = .textPatch
        case "set_vm_flush_reset_perms", "set_direct_map_invalid_noflush", "set_direct_map_default_noflush": self = .flag
        default: self = .allocation
        }
    }
}

/// Functions that write code through a private mapping (or with the arch's
/// own fixmap), so that W=0 targets are legal.
public enum TextPatchAPI: String, CaseIterable, Hashable, Sendable {
    case textPoke = "text_poke", textPokeCopy = "text_poke_copy", textPokeCopyLocked = "text_poke_copy_locked"
    case textPokeSet = "text_poke_set", textPokeBp = "text_poke_bp"
    case aarch64InsnPatchTextNosync = "aarch64_insn_patch_text_nosync", aarch64InsnCopy = "aarch64_insn_copy"
    case patchTextNosync = "patch_text_nosync", patchInstructions = "patch_instructions"
    case s390KernelWrite = "s390_kernel_write"

    /// Must be called with text_mutex held.
    var needsTextMutex: Bool { self == .textPoke || self == .textPokeCopyLocked || self == .textPokeBp }
    /// Called under text_mutex by the arch's own code writer (arm64's and
    /// riscv's `bpf_arch_text_copy()` take it around the copy).
    var calledUnderTextMutex: Bool { needsTextMutex || self == .aarch64InsnCopy || self == .patchTextNosync }
    /// Takes text_mutex itself: calling it with the mutex held deadlocks.
    var takesTextMutex: Bool { self == .textPokeCopy || self == .textPokeSet }
    /// Sleeps (mutex, vmalloc-backed temporary mm); arch helpers use a raw spinlock.
    var sleeps: Bool { self.rawValue.hasPrefix("text_poke") }
}

/// One step a scenario or checker feeds the model: an API call, a context
/// change, or a checkpoint. Allocations bind their result to a symbol.
public enum APICall: Hashable, Sendable {
    case vmalloc(VmallocVariant, size: Int, bind: String)
    case vmallocNodeRange(size: Int, align: Int, range: RangeSel, prot: Perm, flags: VMFlags, purpose: Purpose, bind: String)
    case moduleAlloc(size: Int, bind: String)
    case execmemAlloc(ExecmemType, size: Int, bind: String)
    /// `execmem_alloc_rw` (Linux 6.17): execmem_alloc, then writable.
    case execmemAllocRW(ExecmemType, size: Int, bind: String)
    /// `execmem_restore_rox(ptr, size)` (Linux 6.15): set_memory_rox where
    /// the arch has a ROX cache, 0 and nothing elsewhere.
    case execmemRestoreROX(PtrExpr, size: Int, checked: Bool)
    case bpfJitAllocExec(size: Int, bind: String)
    case bpfProgPackAlloc(size: Int, bind: String)
    case bpfJitBinaryPackAlloc(size: Int, ro: String, rw: String)
    case kvmalloc(size: Int, bind: String)
    case kmalloc(size: Int, bind: String)
    case allocPages(count: Int, bind: String)
    /// A pre-existing ioremapped/memremapped region (an SRAM pool): declared,
    /// persistent, with no direct-map alias.
    case ioremap(size: Int, bind: String)
    case vmap(pages: String, count: Int, flags: VMFlags, prot: Perm, bind: String)
    case vmMapRam(pages: String, count: Int, bind: String)
    case getVMArea(size: Int, flags: VMFlags, bind: String)
    case free(FreeAPI, PtrExpr)
    case vmUnmapRam(PtrExpr, count: Int)
    /// 6.1 `bpf_prog_pack_free(hdr)` when `size` is nil; 6.12 `(ptr, size)`.
    case bpfProgPackFree(PtrExpr, size: Int?)
    case bpfJitBinaryPackFinalize(ro: PtrExpr, rw: PtrExpr)
    case bpfJitBinaryPackFree(ro: PtrExpr, rw: PtrExpr)
    case freePages(String)
    case setMemory(SetMemoryOp, PtrExpr, pages: Int, checked: Bool)
    case setVMFlushResetPerms(PtrExpr)
    /// `set_direct_map_default_noflush` (valid) / `_invalid_noflush`.
    case setDirectMap(valid: Bool, PtrExpr)
    case textPatch(TextPatchAPI, PtrExpr, length: Int)
    case bpfArchTextCopy(PtrExpr, length: Int, checked: Bool)
    case vmAreaMapPages(area: PtrExpr, from: PtrExpr, to: PtrExpr, pages: String)
    case vmAreaUnmapPages(area: PtrExpr, from: PtrExpr, to: PtrExpr)
    case vmapPagesRange(PtrExpr, pages: String, count: Int, prot: Perm)
    case findVMArea(PtrExpr)
    /// A plain store: memcpy, memset, a fill callback, fncpy.
    case write(PtrExpr, length: Int)
    /// A CONFIG_DEBUG_WX checkpoint.
    case checkWX
    /// Process-context work runs: the deferred-free queue drains.
    case runWork
    case setContext(ExecContext)
    case setCaller(CallerLayer)
    case textMutex(held: Bool)
    /// The next fallible call fails (set_memory_*, bpf_arch_text_copy, allocations).
    case injectFailure
    /// Exempt the object from INV-LEAK (a live module, the hyperv page...).
    case markPersistent(PtrExpr)

    /// The catalogue name of the kernel API this step calls, or nil for
    /// pseudo-steps (context changes, checkpoints, plain writes).
    public var apiName: String? {
        switch self {
        case .vmalloc(let v, _, _): return v.rawValue
        case .vmallocNodeRange: return "__vmalloc_node_range"
        case .moduleAlloc: return "module_alloc"
        case .execmemAlloc: return "execmem_alloc"
        case .execmemAllocRW: return "execmem_alloc_rw"
        case .execmemRestoreROX: return "execmem_restore_rox"
        case .bpfJitAllocExec: return "bpf_jit_alloc_exec"
        case .bpfProgPackAlloc: return "bpf_prog_pack_alloc"
        case .bpfJitBinaryPackAlloc: return "bpf_jit_binary_pack_alloc"
        case .kvmalloc: return "kvmalloc"
        case .kmalloc: return "kmalloc"
        case .allocPages: return "alloc_pages"
        case .ioremap: return nil
        case .vmap: return "vmap"
        case .vmMapRam: return "vm_map_ram"
        case .getVMArea: return "get_vm_area"
        case .free(let f, _): return f.rawValue
        case .vmUnmapRam: return "vm_unmap_ram"
        case .bpfProgPackFree: return "bpf_prog_pack_free"
        case .bpfJitBinaryPackFinalize: return "bpf_jit_binary_pack_finalize"
        case .bpfJitBinaryPackFree: return "bpf_jit_binary_pack_free"
        case .freePages: return "__free_pages"
        case .setMemory(let op, _, _, _): return op.apiName
        case .setVMFlushResetPerms: return "set_vm_flush_reset_perms"
        case .setDirectMap(let valid, _): return valid ? "set_direct_map_default_noflush" : "set_direct_map_invalid_noflush"
        case .textPatch(let t, _, _): return t.rawValue
        case .bpfArchTextCopy: return "bpf_arch_text_copy"
        case .vmAreaMapPages: return "vm_area_map_pages"
        case .vmAreaUnmapPages: return "vm_area_unmap_pages"
        case .vmapPagesRange: return "vmap_pages_range"
        case .findVMArea: return "find_vm_area"
        case .write, .checkWX, .runWork, .setContext, .setCaller, .textMutex, .injectFailure, .markPersistent: return nil
        }
    }

    /// What kind of step it is (a pseudo-step without an API counts as an
    /// allocation, as a path checker never reports at one).
    public var stepKind: StepKind {
        if case .write = self { return .write }
        return apiName.map(StepKind.init(api:)) ?? .allocation
    }

    /// A permission change that returns 0 or an errno and, when it fails,
    /// leaves the permissions as they were (`set_memory_*`,
    /// `execmem_restore_rox`): a checker that sees the status tested
    /// follows both outcomes.
    public var returnsStatus: Bool {
        switch self {
        case .setMemory, .execmemRestoreROX: return true
        default: return false
        }
    }

    /// A C-like rendering for traces.
    public var description: String {
        func sz(_ n: Int) -> String {
            if n >= Size.pmd && n % Size.pmd == 0 { return "\(n / Size.pmd * 2)M" }
            if n >= Size.page && n % Size.page == 0 { return "\(n / 1024)K" }
            return "\(n)"
        }
        switch self {
        case .vmalloc(let v, let s, let b): return "\(b) = \(v.rawValue)(\(sz(s)))"
        case .vmallocNodeRange(let s, let a, let r, let p, let f, let pu, let b):
            return "\(b) = __vmalloc_node_range(\(sz(s)), align \(a), \(r.rawValue), \(p.pgprotName), \(f)) [\(pu.rawValue)]"
        case .moduleAlloc(let s, let b): return "\(b) = module_alloc(\(sz(s)))"
        case .execmemAlloc(let t, let s, let b): return "\(b) = execmem_alloc(EXECMEM_\(t.rawValue), \(sz(s)))"
        case .execmemAllocRW(let t, let s, let b): return "\(b) = execmem_alloc_rw(EXECMEM_\(t.rawValue), \(sz(s)))"
        case .execmemRestoreROX(let p, let s, let c): return "\(c ? "" : "(void)")execmem_restore_rox(\(p), \(sz(s)))"
        case .bpfJitAllocExec(let s, let b): return "\(b) = bpf_jit_alloc_exec(\(sz(s)))"
        case .bpfProgPackAlloc(let s, let b): return "\(b) = bpf_prog_pack_alloc(\(sz(s)))"
        case .bpfJitBinaryPackAlloc(let s, let ro, let rw): return "\(ro) = bpf_jit_binary_pack_alloc(\(sz(s)), &\(rw))"
        case .kvmalloc(let s, let b): return "\(b) = kvmalloc(\(sz(s)))"
        case .kmalloc(let s, let b): return "\(b) = kmalloc(\(sz(s)))"
        case .allocPages(let n, let b): return "\(b) = alloc_pages(\(n) pages)"
        case .ioremap(let s, let b): return "\(b) = <ioremapped pool>(\(sz(s)))"
        case .vmap(let pg, let n, let f, let p, let b): return "\(b) = vmap(\(pg), \(n), \(f), \(p.pgprotName))"
        case .vmMapRam(let pg, let n, let b): return "\(b) = vm_map_ram(\(pg), \(n))"
        case .getVMArea(let s, let f, let b): return "\(b) = get_vm_area(\(sz(s)), \(f))"
        case .free(let f, let p): return "\(f.rawValue)(\(p))"
        case .vmUnmapRam(let p, let n): return "vm_unmap_ram(\(p), \(n))"
        case .bpfProgPackFree(let p, let s): return s.map { "bpf_prog_pack_free(\(p), \($0))" } ?? "bpf_prog_pack_free(\(p))"
        case .bpfJitBinaryPackFinalize(let ro, let rw): return "bpf_jit_binary_pack_finalize(\(ro), \(rw))"
        case .bpfJitBinaryPackFree(let ro, let rw): return "bpf_jit_binary_pack_free(\(ro), \(rw))"
        case .freePages(let b): return "__free_pages(\(b))"
        case .setMemory(let op, let p, let n, let c): return "\(c ? "" : "(void)")\(op.apiName)(\(p), \(n))"
        case .setVMFlushResetPerms(let p): return "set_vm_flush_reset_perms(\(p))"
        case .setDirectMap(let v, let p): return "set_direct_map_\(v ? "default" : "invalid")_noflush(\(p))"
        case .textPatch(let t, let p, let n): return "\(t.rawValue)(\(p), \(n))"
        case .bpfArchTextCopy(let p, let n, let c): return "\(c ? "" : "(void)")bpf_arch_text_copy(\(p), \(n))"
        case .vmAreaMapPages(let a, let f, let t, let pg): return "vm_area_map_pages(\(a), \(f), \(t), \(pg))"
        case .vmAreaUnmapPages(let a, let f, let t): return "vm_area_unmap_pages(\(a), \(f), \(t))"
        case .vmapPagesRange(let p, let pg, let n, let pr): return "vmap_pages_range(\(p), \(pg), \(n), \(pr.pgprotName))"
        case .findVMArea(let p): return "find_vm_area(\(p))"
        case .write(let p, let n): return "write(\(p), \(n))"
        case .checkWX: return "check_wx()"
        case .runWork: return "run_work()"
        case .setContext(let c): return "context = \(c.rawValue)"
        case .setCaller(let c): return "caller = \(c.rawValue)"
        case .textMutex(let h): return h ? "mutex_lock(&text_mutex)" : "mutex_unlock(&text_mutex)"
        case .injectFailure: return "inject_failure()"
        case .markPersistent(let p): return "persistent(\(p))"
        }
    }
}
