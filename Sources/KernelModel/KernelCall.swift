/// The one lowering of a kernel call (a name and its arguments) to a model
/// step. Scenario files (ModelScenarios), the path checker and suggestion
/// validation (KPolicy) all go through `KernelCall.lower`, so what an API
/// does is written down once: which arguments it takes, in which position
/// of the kernel's prototype, and what it defaults to.
///
/// Arguments arrive already in the model's terms (`KernelValue`): a size in
/// bytes, a symbolic pointer, a pgprot, vm flags, an execmem type. Turning
/// C expressions into them is the caller's business; turning kernel names
/// (`PAGE_KERNEL_ROX`, `VM_FLUSH_RESET_PERMS`, `EXECMEM_KPROBES`,
/// `MODULES_VADDR`) into them is here (`KernelNames`).

/// One argument value.
public enum KernelValue: Hashable, Sendable {
    case size(Int)
    case pointer(PtrExpr)
    /// A page set bound by `alloc_pages`.
    case pageSet(String)
    case prot(Perm)
    case flags(VMFlags)
    case range(RangeSel)
    case purpose(Purpose)
    case type(ExecmemType)
    case bool(Bool)
    /// The symbol the call's result is bound to.
    case bind(String)
}

/// What one parameter of an API is: the key a scenario names it by and the
/// kind of value it holds.
public struct KernelParameter: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable {
        /// Bytes (sizes, lengths, alignments).
        case size
        /// A page count for `set_memory_*`: may be 0 or negative (the model reports it).
        case signedPageCount
        /// A positive count.
        case count
        /// A positive count no larger than the page set named by `pages`.
        case countWithinPageSet
        case pointer, pageSet, prot, flags, range, purpose, type, bool
        /// Whether the caller uses the call's result: a scenario says so
        /// (`checked: false`); for a C call it is whether the result is
        /// stored, tested or returned.
        case resultUsed
        /// A symbol the call binds (to a pointer).
        case bind
        /// A symbol the call binds to a page set of `count` pages.
        case bindPages
    }
    public var key: String
    public var kind: Kind
    public var required: Bool
    /// The argument's index in the kernel's prototype, when a C call passes it.
    public var position: Int?
    /// For a C call: the argument (or result) is a structure whose member of
    /// this name is the pointer the model means (`struct vm_struct *` →
    /// `->addr`), not the pointer itself.
    public var member: String?

    public init(_ key: String, _ kind: Kind, required: Bool = true, position: Int? = nil, member: String? = nil) {
        self.key = key; self.kind = kind; self.required = required; self.position = position; self.member = member
    }
}

/// An API as a list of parameters, in the order a scenario names them.
public struct KernelSignature: Sendable {
    public var name: String
    public var parameters: [KernelParameter]

    /// The signature of `name`, after the spelling is normalised
    /// (`vmalloc_noprof` → `vmalloc`, `__builtin_memcpy` → `memcpy`), or nil
    /// when the model does not know the API.
    public static func named(_ name: String) -> KernelSignature? {
        let n = KernelCall.canonicalName(name)
        return table[n].map { KernelSignature(name: n, parameters: $0) }
    }

    /// Whether `name` returns 0 or an errno and leaves the permissions as
    /// they were when it fails (`set_memory_*`, `execmem_restore_rox`), so
    /// that `if (name(...))` tests a status (`APICall.returnsStatus`).
    public static func returnsStatus(_ name: String) -> Bool {
        let n = KernelCall.canonicalName(name)
        return n.hasPrefix("set_memory_") || n == "execmem_restore_rox"
    }

    /// The calls that allocate, free, protect or patch executable memory:
    /// a function that makes one is worth following path by path (the IR
    /// builder's anchors). One that only kmallocs and memcpys is not.
    public static let executableMemoryAnchors: Set<String> = {
        var s: Set<String> = ["module_alloc", "module_alloc_huge", "module_memfree", "execmem_alloc", "execmem_alloc_rw", "execmem_restore_rox",
                              "execmem_free", "bpf_jit_alloc_exec", "bpf_jit_free_exec", "bpf_prog_pack_alloc", "bpf_prog_pack_free",
                              "__vmalloc_node_range", "set_vm_flush_reset_perms", "bpf_arch_text_copy"]
        for op in SetMemoryOp.allCases { s.insert(op.apiName) }
        for t in TextPatchAPI.allCases { s.insert(t.rawValue) }
        return s
    }()

    /// The APIs that return executable memory (an allocator a function of
    /// the tree may pair with its own free).
    public static let executableAllocators: Set<String> = ["module_alloc", "module_alloc_huge", "execmem_alloc", "execmem_alloc_rw",
                                                           "bpf_jit_alloc_exec", "bpf_prog_pack_alloc"]

    /// Every name `named` knows, canonical spellings only.
    public static var allNames: [String] { table.keys.sorted() }

    typealias P = KernelParameter
    static let alloc: [P] = [P("size", .size, position: 0), P("as", .bind)]
    static let free: [P] = [P("ptr", .pointer, position: 0)]
    static let setMemory: [P] = [P("ptr", .pointer, position: 0), P("pages", .signedPageCount, position: 1), P("checked", .bool, required: false)]
    static let patch: [P] = [P("ptr", .pointer, position: 0), P("len", .size, position: 2)]

    static let table: [String: [P]] = {
        var t: [String: [P]] = [:]
        for n in ["vmalloc", "vzalloc", "__vmalloc", "vmalloc_huge", "module_alloc", "bpf_jit_alloc_exec", "bpf_prog_pack_alloc",
                  "kvmalloc", "kmalloc", "ioremap"] { t[n] = alloc }
        t["__vmalloc_node_range"] = [P("size", .size, position: 0), P("align", .size, required: false, position: 1),
                                     P("range", .range, required: false, position: 2), P("prot", .prot, position: 5),
                                     P("flags", .flags, required: false, position: 6), P("purpose", .purpose, required: false), P("as", .bind)]
        t["execmem_alloc"] = [P("type", .type, position: 0), P("size", .size, position: 1), P("as", .bind)]
        t["execmem_alloc_rw"] = t["execmem_alloc"]
        t["execmem_restore_rox"] = [P("ptr", .pointer, position: 0), P("size", .size, position: 1), P("checked", .resultUsed, required: false)]
        t["bpf_jit_binary_pack_alloc"] = [P("size", .size), P("as", .bind), P("rw", .bind)]
        t["alloc_pages"] = [P("count", .count), P("as", .bindPages)]
        t["vmap"] = [P("pages", .pageSet), P("count", .countWithinPageSet), P("flags", .flags, required: false),
                     P("prot", .prot, required: false), P("as", .bind)]
        t["vm_map_ram"] = [P("pages", .pageSet), P("count", .countWithinPageSet), P("as", .bind)]
        // get_vm_area() returns, and free_vm_area() takes, the area's
        // `struct vm_struct`; the memory is its `addr`.
        t["get_vm_area"] = [P("size", .size, position: 0), P("flags", .flags, required: false, position: 1), P("as", .bind, member: "addr")]
        for f in FreeAPI.allCases { t[f.rawValue] = free }
        t["free_vm_area"] = [P("ptr", .pointer, position: 0, member: "addr")]
        t["vm_unmap_ram"] = [P("ptr", .pointer, position: 0), P("count", .count, position: 1)]
        t["bpf_prog_pack_free"] = [P("ptr", .pointer, position: 0), P("size", .size, required: false, position: 1)]
        t["bpf_jit_binary_pack_finalize"] = [P("ro", .pointer), P("rw", .pointer)]
        t["bpf_jit_binary_pack_free"] = [P("ro", .pointer), P("rw", .pointer)]
        t["__free_pages"] = [P("pages", .pageSet)]
        for op in SetMemoryOp.allCases { t[op.apiName] = setMemory }
        t["set_vm_flush_reset_perms"] = free
        t["set_direct_map_invalid_noflush"] = free
        t["set_direct_map_default_noflush"] = free
        t["bpf_arch_text_copy"] = [P("ptr", .pointer, position: 0), P("len", .size, position: 2), P("checked", .bool, required: false)]
        t["vm_area_map_pages"] = [P("area", .pointer), P("from", .pointer), P("to", .pointer), P("pages", .pageSet)]
        t["vm_area_unmap_pages"] = [P("area", .pointer), P("from", .pointer), P("to", .pointer)]
        t["vmap_pages_range"] = [P("ptr", .pointer), P("pages", .pageSet), P("count", .countWithinPageSet), P("prot", .prot)]
        t["find_vm_area"] = free
        t["write"] = patch
        for n in ["check_wx", "run_work", "inject_failure"] { t[n] = [] }
        for api in TextPatchAPI.allCases {
            // aarch64_insn_patch_text_nosync(addr, insn) writes one instruction.
            t[api.rawValue] = api == .aarch64InsnPatchTextNosync ? [P("ptr", .pointer, position: 0), P("len", .size, required: false)] : patch
        }
        return t
    }()
}

/// A kernel call in the model's terms, ready to be lowered.
public struct KernelCall: Hashable, Sendable {
    public var name: String
    public var arguments: [String: KernelValue]

    public init(_ name: String, _ arguments: [String: KernelValue] = [:]) {
        self.name = KernelCall.canonicalName(name)
        self.arguments = arguments
    }

    /// The catalogue spelling of an API name as code or a scenario writes it:
    /// 6.10+'s `_noprof` suffix and compiler builtins removed, the zeroing and
    /// node variants folded into the allocator they wrap, plain stores named
    /// `write`.
    public static func canonicalName(_ raw: String) -> String {
        var n = withoutProfilingSuffix(raw)
        if n.hasPrefix("__builtin_") { n = String(n.dropFirst("__builtin_".count)) }
        switch n {
        case "memcpy", "memset", "fill", "fncpy", "memmove", "__memcpy", "__memset": return "write"
        case "kzalloc", "kmalloc_node", "kzalloc_node", "kcalloc": return "kmalloc"
        case "kvzalloc", "kvmalloc_node", "kvzalloc_node", "kvcalloc": return "kvmalloc"
        case "vmalloc_node", "vzalloc_node", "vmalloc_user": return "vmalloc"
        case "free_pages", "__free_page": return "__free_pages"
        case "kvfree_sensitive": return "kvfree"
        case "kfree_sensitive": return "kfree"
        default: return n
        }
    }

    /// `name` without 6.10+'s allocation-profiling suffix (`vmalloc_noprof`
    /// is what `vmalloc()` expands to).
    public static func withoutProfilingSuffix(_ name: String) -> String {
        name.hasSuffix("_noprof") ? String(name.dropLast("_noprof".count)) : name
    }

    public enum LoweringError: Error, Equatable, Sendable {
        case unknownAPI(String)
        case missing(String)
        case wrongKind(String)
    }

    /// The model step this call is, with the API's defaults filled in
    /// (`checked` true, `vmap` mapping PAGE_KERNEL with VM_MAP, a
    /// `__vmalloc_node_range` whose purpose follows its pgprot...).
    public func lower() -> Result<APICall, LoweringError> {
        guard let sig = KernelSignature.named(name) else { return .failure(.unknownAPI(name)) }
        for p in sig.parameters where p.required && arguments[p.key] == nil { return .failure(.missing(p.key)) }
        func size(_ k: String) -> Int? { if case .size(let v)? = arguments[k] { return v }; return nil }
        func ptr(_ k: String) -> PtrExpr { if case .pointer(let v)? = arguments[k] { return v }; return .null }
        func bind(_ k: String) -> String { if case .bind(let v)? = arguments[k] { return v }; return "_" }
        func pages(_ k: String) -> String { if case .pageSet(let v)? = arguments[k] { return v }; return "_" }
        func prot(_ k: String) -> Perm? { if case .prot(let v)? = arguments[k] { return v }; return nil }
        func flags(_ k: String) -> VMFlags? { if case .flags(let v)? = arguments[k] { return v }; return nil }
        func checked() -> Bool { if case .bool(let v)? = arguments["checked"] { return v }; return true }
        let s = size("size") ?? 0
        switch sig.name {
        case "vmalloc", "vzalloc", "__vmalloc", "vmalloc_huge":
            return .success(.vmalloc(VmallocVariant(rawValue: sig.name)!, size: s, bind: bind("as")))
        case "__vmalloc_node_range":
            let pr = prot("prot") ?? .kernel
            var range = RangeSel.vmalloc
            if case .range(let r)? = arguments["range"] { range = r }
            var purpose: Purpose = pr.isExecutable ? .code : .data
            if case .purpose(let p)? = arguments["purpose"] { purpose = p }
            return .success(.vmallocNodeRange(size: s, align: size("align") ?? 1, range: range, prot: pr, flags: flags("flags") ?? [],
                                              purpose: purpose, bind: bind("as")))
        case "module_alloc": return .success(.moduleAlloc(size: s, bind: bind("as")))
        case "execmem_alloc":
            guard case .type(let t)? = arguments["type"] else { return .failure(.wrongKind("type")) }
            return .success(.execmemAlloc(t, size: s, bind: bind("as")))
        case "execmem_alloc_rw":
            guard case .type(let t)? = arguments["type"] else { return .failure(.wrongKind("type")) }
            return .success(.execmemAllocRW(t, size: s, bind: bind("as")))
        case "execmem_restore_rox":
            return .success(.execmemRestoreROX(ptr("ptr"), size: size("size") ?? Size.page, checked: checked()))
        case "bpf_jit_alloc_exec": return .success(.bpfJitAllocExec(size: s, bind: bind("as")))
        case "bpf_prog_pack_alloc": return .success(.bpfProgPackAlloc(size: s, bind: bind("as")))
        case "bpf_jit_binary_pack_alloc": return .success(.bpfJitBinaryPackAlloc(size: s, ro: bind("as"), rw: bind("rw")))
        case "kvmalloc": return .success(.kvmalloc(size: s, bind: bind("as")))
        case "kmalloc": return .success(.kmalloc(size: s, bind: bind("as")))
        case "alloc_pages":
            guard case .size(let c)? = arguments["count"] else { return .failure(.wrongKind("count")) }
            return .success(.allocPages(count: c, bind: bind("as")))
        case "ioremap": return .success(.ioremap(size: s, bind: bind("as")))
        case "vmap":
            return .success(.vmap(pages: pages("pages"), count: size("count") ?? 1, flags: flags("flags") ?? [.map],
                                  prot: prot("prot") ?? .kernel, bind: bind("as")))
        case "vm_map_ram": return .success(.vmMapRam(pages: pages("pages"), count: size("count") ?? 1, bind: bind("as")))
        case "get_vm_area": return .success(.getVMArea(size: s, flags: flags("flags") ?? [], bind: bind("as")))
        case "vm_unmap_ram": return .success(.vmUnmapRam(ptr("ptr"), count: size("count") ?? 1))
        case "bpf_prog_pack_free": return .success(.bpfProgPackFree(ptr("ptr"), size: size("size")))
        case "bpf_jit_binary_pack_finalize": return .success(.bpfJitBinaryPackFinalize(ro: ptr("ro"), rw: ptr("rw")))
        case "bpf_jit_binary_pack_free": return .success(.bpfJitBinaryPackFree(ro: ptr("ro"), rw: ptr("rw")))
        case "__free_pages": return .success(.freePages(pages("pages")))
        case "set_vm_flush_reset_perms": return .success(.setVMFlushResetPerms(ptr("ptr")))
        case "set_direct_map_invalid_noflush", "set_direct_map_default_noflush":
            return .success(.setDirectMap(valid: sig.name.contains("default"), ptr("ptr")))
        case "bpf_arch_text_copy": return .success(.bpfArchTextCopy(ptr("ptr"), length: size("len") ?? 0, checked: checked()))
        case "vm_area_map_pages": return .success(.vmAreaMapPages(area: ptr("area"), from: ptr("from"), to: ptr("to"), pages: pages("pages")))
        case "vm_area_unmap_pages": return .success(.vmAreaUnmapPages(area: ptr("area"), from: ptr("from"), to: ptr("to")))
        case "vmap_pages_range":
            return .success(.vmapPagesRange(ptr("ptr"), pages: pages("pages"), count: size("count") ?? 1, prot: prot("prot") ?? .kernel))
        case "find_vm_area": return .success(.findVMArea(ptr("ptr")))
        case "write": return .success(.write(ptr("ptr"), length: size("len") ?? 0))
        case "check_wx": return .success(.checkWX)
        case "run_work": return .success(.runWork)
        case "inject_failure": return .success(.injectFailure)
        default:
            if let f = FreeAPI(rawValue: sig.name) { return .success(.free(f, ptr("ptr"))) }
            if sig.name.hasPrefix("set_memory_"), let op = SetMemoryOp(rawValue: String(sig.name.dropFirst("set_memory_".count))) {
                return .success(.setMemory(op, ptr("ptr"), pages: size("pages") ?? 1, checked: checked()))
            }
            if let t = TextPatchAPI(rawValue: sig.name) {
                return .success(.textPatch(t, ptr("ptr"), length: size("len") ?? 4))
            }
            return .failure(.unknownAPI(sig.name))
        }
    }
}

/// Kernel names that stand for model values wherever they are written.
public enum KernelNames {
    /// The pgprot a name stands for (`PAGE_KERNEL_ROX`, `PAGE_KERNEL_EXEC`...).
    public static func prot(_ name: String) -> Perm? { Perm.pgprots[name] }

    /// The vm flag a name stands for (`VM_FLUSH_RESET_PERMS`...).
    public static func flag(_ name: String) -> VMFlags? { name.hasPrefix("VM_") ? VMFlags(name: name) : nil }

    /// The execmem type a name stands for (`EXECMEM_KPROBES`...).
    public static func execmemType(_ name: String) -> ExecmemType? {
        name.hasPrefix("EXECMEM_") ? ExecmemType(name: name) : nil
    }

    /// The `__vmalloc_node_range` range a start address names.
    public static func range(_ name: String) -> RangeSel? {
        switch name {
        case "VMALLOC_START", "VMALLOC_END": return .vmalloc
        case "MODULES_VADDR", "MODULES_END", "MODULE_START", "MODULES_START": return .modules
        case "BPF_JIT_REGION_START", "BPF_JIT_REGION_END": return .bpfRegion
        default: return nil
        }
    }
}
