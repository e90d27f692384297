/// Who may call an API (MODEL_SPEC §2 layer codes).
public enum APILayer: String, CaseIterable, Hashable, Sendable, Codable {
    /// EXPORT_SYMBOL: any module.
    case D
    /// EXPORT_SYMBOL_GPL: GPL modules.
    case DG
    /// Built-in core or arch code only; never exported.
    case C
    /// Internal to mm/.
    case M

    /// Whether `caller` can reach an API of this layer.
    public func reachable(from caller: CallerLayer) -> Bool {
        switch (self, caller) {
        case (.D, _), (.DG, _): return true
        case (.C, .core), (.C, .mm): return true
        case (.M, .mm): return true
        default: return false
        }
    }
}

/// What an API does, for a rule engine that classifies calls.
public enum APIRole: String, Hashable, Sendable, Codable {
    case allocator, free, permission, patch, mapping, query
}

/// One modelled kernel API: the facts a rule engine needs without running
/// the model.
public struct ModelAPI: Hashable, Sendable {
    public var name: String
    /// The first Linux version that has it; nil: every version kpolicy
    /// knows (6.1 and later).
    public var since: KernelVersion?
    /// The first Linux version that no longer has it; nil: still there.
    public var until: KernelVersion?
    /// Where a tree declares it (paths relative to the tree), for the APIs
    /// whose presence depends on the version: a tree has the API when one
    /// of these headers declares it (TreeCapabilities). Empty for the APIs
    /// every version has.
    public var headers: [String]
    /// nil: every arch (possibly as the weak default).
    public var arches: Set<Arch>?
    public var layer: APILayer
    public var role: APIRole
    /// For allocators: the documented matching free(s), the first the one
    /// to suggest (MODEL_SPEC §3). The only statement of which free pairs
    /// with which allocator.
    public var pairedFree: [String]
    public var note: String

    /// Whether a tree's version decides whether it has this API.
    public var isVersioned: Bool { since != nil || until != nil }

    /// Whether `version`'s range includes this API.
    public func isExpected(in version: KernelVersion) -> Bool {
        (since.map { version >= $0 } ?? true) && (until.map { version < $0 } ?? true)
    }

    /// "6.10+", "before 6.10", "6.2 to 6.15", "all".
    public var versions: String {
        switch (since, until) {
        case (nil, nil): return "all"
        case (let s?, nil): return "\(s.series)+"
        case (nil, let u?): return "before \(u.series)"
        case (let s?, let u?): return "\(s.series) to \(u.series)"
        }
    }

    /// Asked at every step the model runs: the name is already the
    /// catalogue's, so no spelling is normalised here.
    public func exists(in config: ModelConfig) -> Bool {
        (!isVersioned || config.capabilities.declared.contains(name)) && (arches?.contains(config.arch) ?? true)
    }

    /// The catalogue, in MODEL_SPEC §2 order. Versions and headers are the
    /// upstream facts kpolicy falls back on where it has no tree to read;
    /// on a tree, its own headers decide (TreeCapabilities).
    public static let all: [ModelAPI] = {
        func v(_ s: String) -> KernelVersion { KernelVersion(string: s)! }
        func api(_ n: String, since: String? = nil, until: String? = nil, in headers: [String] = [], _ l: APILayer, _ r: APIRole,
                 arches: Set<Arch>? = nil, free: [String] = [], _ note: String) -> ModelAPI {
            ModelAPI(name: n, since: since.map(v), until: until.map(v), headers: headers, arches: arches, layer: l, role: r,
                     pairedFree: free, note: note)
        }
        let vmallocH = ["include/linux/vmalloc.h"]
        let execmemH = ["include/linux/execmem.h"]
        let x86Patching = ["arch/x86/include/asm/text-patching.h"]
        return [
            api("vmalloc", .D, .allocator, free: ["vfree", "vfree_atomic"], "PAGE_KERNEL area in vmalloc space"),
            api("vzalloc", .D, .allocator, free: ["vfree", "vfree_atomic"], "vmalloc, zero-filled"),
            api("__vmalloc", .D, .allocator, free: ["vfree", "vfree_atomic"], "vmalloc with gfp flags; takes no pgprot"),
            api("vmalloc_huge", .DG, .allocator, free: ["vfree", "vfree_atomic"], "VM_ALLOW_HUGE_VMAP; PMD pages when HAVE_ARCH_HUGE_VMALLOC and size >= PMD"),
            api("__vmalloc_node_range", .C, .allocator, free: ["vfree", "vfree_atomic"], "any range, pgprot and vm_flags; no fallback"),
            api("vfree", .D, .free, "in irq acts as vfree_atomic; resets perms when VM_FLUSH_RESET_PERMS"),
            api("vfree_atomic", .C, .free, "defers to a work item; writes a list node into the first word"),
            api("vmap", .D, .mapping, free: ["vunmap"], "maps caller pages; never executable; 6.12 refuses VM_FLUSH_RESET_PERMS"),
            api("vunmap", .D, .free, "unmaps a vmap area; pages stay with the caller"),
            api("vm_map_ram", .D, .mapping, free: ["vm_unmap_ram"], "PAGE_KERNEL mapping without a vm_struct"),
            api("vm_unmap_ram", .D, .free, "needs the same page count"),
            api("get_vm_area", .C, .allocator, free: ["free_vm_area"], "reserves an unmapped area"),
            api("free_vm_area", .DG, .free, "frees the descriptor, not the pages"),
            api("vm_area_map_pages", since: "6.9", in: vmallocH, .C, .mapping, "maps caller pages into a VM_SPARSE area (BPF arena)"),
            api("vm_area_unmap_pages", since: "6.9", in: vmallocH, .C, .mapping, "unmaps part of a VM_SPARSE area"),
            api("vmap_pages_range", .M, .mapping, "mm-internal page mapper behind vmap/vmalloc"),
            api("find_vm_area", .C, .query, "the live area with a vm_struct containing an address"),
            api("set_vm_flush_reset_perms", .C, .permission, "sets VM_FLUSH_RESET_PERMS via find_vm_area"),
            api("module_alloc", until: "6.10", in: ["include/linux/moduleloader.h"], .C, .allocator, free: ["module_memfree"],
                "per-arch __vmalloc_node_range (MODEL_SPEC §1.4)"),
            api("module_memfree", until: "6.10", in: ["include/linux/moduleloader.h"], .C, .free, "WARNs in irq, then vfree"),
            api("execmem_alloc", since: "6.10", in: execmemH, .C, .allocator, free: ["execmem_free"],
                "ranges[type] with fallback; VM_FLUSH_RESET_PERMS; from the ROX cache (read-only+executable) for the types whose range has EXECMEM_ROX_CACHE"),
            api("execmem_alloc_rw", since: "6.17", in: execmemH, .C, .allocator, free: ["execmem_free"],
                "execmem_alloc made writable (ROX cache) or left in the type's writable pgprot; the caller restores ROX"),
            api("execmem_restore_rox", since: "6.15", in: execmemH, .C, .permission,
                "set_memory_rox on ROX-cache memory made writable; 0 without ARCH_HAS_EXECMEM_ROX"),
            api("execmem_is_rox", since: "6.13", in: execmemH, .C, .query, "whether a type's range uses the ROX cache"),
            api("execmem_fill_trapping_insns", since: "6.13", in: execmemH, .C, .patch, "the arch fills ROX-cache memory with trapping instructions"),
            api("execmem_free", since: "6.10", in: execmemH, .C, .free, "WARNs in irq; back to the ROX cache, else vfree"),
            api("bpf_jit_alloc_exec", .C, .allocator, free: ["bpf_jit_free_exec"], "6.1: module_alloc (arm64 vmalloc, riscv BPF region); 6.10+: execmem_alloc(BPF)"),
            api("bpf_jit_free_exec", .C, .free, "6.1: module_memfree (arm64/riscv vfree); 6.10+: execmem_free"),
            api("bpf_prog_pack_alloc", .C, .allocator, free: ["bpf_prog_pack_free", "bpf_jit_binary_pack_free"], "64-byte chunks of a ROX pack"),
            api("bpf_prog_pack_free", .C, .free, "6.1 (hdr), 6.12 (ptr, size)"),
            api("bpf_jit_binary_pack_alloc", .C, .allocator, free: ["bpf_jit_binary_pack_free"], "ROX chunk + kvmalloc RW buffer"),
            api("bpf_jit_binary_pack_finalize", .C, .patch, "bpf_arch_text_copy then kvfree of the RW buffer"),
            api("bpf_jit_binary_pack_free", .C, .free, "frees the chunk and the RW buffer"),
            api("bpf_arch_text_copy", .C, .patch, "implemented per arch (TreeCapabilities); elsewhere the weak default fails"),
            api("set_memory_ro", .C, .permission, "W:=0; alias per arch"),
            api("set_memory_rw", .C, .permission, "W:=1; alias per arch"),
            api("set_memory_x", .C, .permission, "X:=1"),
            api("set_memory_nx", .C, .permission, "X:=0"),
            api("set_memory_rox", since: "6.2", in: ["include/linux/set_memory.h"], .C, .permission, "W:=0 and X:=1 without a W+X window"),
            api("set_direct_map_invalid_noflush", .C, .permission, "alias becomes not-present; no TLB flush"),
            api("set_direct_map_default_noflush", .C, .permission, "alias becomes PAGE_KERNEL; no TLB flush"),
            api("text_poke", .C, .patch, arches: [.x86_64], "text_mutex held; at most 2 pages"),
            api("text_poke_copy", .C, .patch, arches: [.x86_64], "takes text_mutex itself; any length"),
            api("text_poke_set", .C, .patch, arches: [.x86_64], "takes text_mutex itself; any length"),
            api("text_poke_copy_locked", since: "6.3", in: x86Patching, .C, .patch, arches: [.x86_64], "text_poke_copy for callers holding text_mutex"),
            api("text_poke_bp", until: "6.16", in: x86Patching, .C, .patch, arches: [.x86_64], "int3-based live patching; text_mutex held"),
            api("smp_text_poke_single", since: "6.16", in: x86Patching, .C, .patch, arches: [.x86_64], "text_poke_bp's name from 6.16: int3-based live patching; text_mutex held"),
            api("aarch64_insn_patch_text_nosync", .C, .patch, arches: [.arm64], "arm64 fixmap patching"),
            api("aarch64_insn_copy", since: "6.8", in: ["arch/arm64/include/asm/patching.h", "arch/arm64/include/asm/text-patching.h"], .C, .patch,
                arches: [.arm64], "arm64 bulk text copy (bpf_arch_text_copy)"),
            api("patch_text_nosync", .C, .patch, arches: [.riscv64], "riscv fixmap patching"),
            api("patch_instructions", since: "6.8", in: ["arch/powerpc/include/asm/code-patching.h", "arch/powerpc/include/asm/text-patching.h"], .C, .patch,
                arches: [.ppc64], "ppc bulk patching"),
            api("s390_kernel_write", .C, .patch, arches: [.s390], "s390 write through the real-address alias"),
            api("kvmalloc", .D, .allocator, free: ["kvfree"], "kmalloc or vmalloc; PAGE_KERNEL"),
            api("kmalloc", .D, .allocator, free: ["kfree", "kvfree"], "slab memory in the direct map"),
            api("kvfree", .D, .free, "vfree for vmalloc addresses, kfree otherwise"),
            api("kfree", .D, .free, "slab free; BUGs on vmalloc memory"),
            api("ioremap", .D, .mapping, free: ["iounmap"], "maps device or SRAM memory; never vmalloc'd"),
            api("alloc_pages", .D, .allocator, free: ["__free_pages"], "caller-owned page frames"),
            api("__free_pages", .D, .free, "returns page frames"),
        ]
    }()

    static let index: [String: ModelAPI] = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })

    public static func named(_ name: String) -> ModelAPI? { index[name] }

    /// The free to suggest for memory from `allocator` (its name as code
    /// writes it: `vmalloc_noprof`, `vzalloc_node`...).
    public static func pairedFree(ofAllocator allocator: String) -> String? {
        named(KernelCall.canonicalName(allocator))?.pairedFree.first
    }
}

/// One line of the MODEL_SPEC §5 replacement map: what a 6.1-era use becomes
/// in the 6.12 tree.
public struct Replacement: Hashable, Sendable {
    public var deprecated: String
    public var replacement: String
    /// Where the replacement is used in the 6.12 tree.
    public var evidence: String
    /// Upstream version if known; "≈" marks versions not checked against the trees.
    public var since: String

    public static let all: [Replacement] = [
        Replacement(deprecated: "module_alloc / module_memfree (modules)", replacement: "execmem_alloc(EXECMEM_MODULE_TEXT|EXECMEM_MODULE_DATA) / execmem_free", evidence: "kernel/module/main.c: module_memory_alloc/free, do_free_init", since: "≈v6.10"),
        Replacement(deprecated: "kprobes module_alloc(PAGE_SIZE)", replacement: "execmem_alloc(EXECMEM_KPROBES, PAGE_SIZE)", evidence: "kernel/kprobes.c; arch/x86/kernel/kprobes/core.c; arch/s390/kernel/kprobes.c", since: "≈v6.10"),
        Replacement(deprecated: "arm64/riscv kprobes __vmalloc_node_range(PAGE_KERNEL_ROX, VM_FLUSH_RESET_PERMS)", replacement: "EXECMEM_KPROBES range with a ROX pgprot (arm64 also set_memory_rox)", evidence: "arch/arm64/mm/init.c; arch/riscv/mm/init.c; arch/arm64/kernel/probes/kprobes.c", since: "≈v6.10"),
        Replacement(deprecated: "set_memory_ro + set_memory_x", replacement: "set_memory_rox, result checked", evidence: "arch/x86/kernel/kprobes/core.c; kernel/bpf/core.c; include/linux/filter.h", since: "≈v6.2"),
        Replacement(deprecated: "module_enable_ro / module_enable_nx / module_enable_x", replacement: "module_enable_rodata_ro / module_enable_data_nx / module_enable_text_rox", evidence: "kernel/module/strict_rwx.c", since: "≈v6.10"),
        Replacement(deprecated: "x86 ftrace alloc_tramp = module_alloc", replacement: "execmem_alloc(EXECMEM_FTRACE)", evidence: "arch/x86/kernel/ftrace.c", since: "≈v6.10"),
        Replacement(deprecated: "s390 hotpatch trampolines: module_alloc (RWX, no flag) + set_memory_ro", replacement: "execmem_alloc(EXECMEM_FTRACE) + set_memory_rox", evidence: "arch/s390/kernel/module.c", since: "≈v6.10"),
        Replacement(deprecated: "bpf_jit_alloc_exec via module_alloc (arm64 vmalloc; riscv BPF region)", replacement: "execmem_alloc(EXECMEM_BPF)", evidence: "kernel/bpf/core.c; arch/arm64/mm/init.c; arch/riscv/mm/init.c", since: "≈v6.10"),
        Replacement(deprecated: "bpf_prog_pack: module_alloc, unchecked ro/x, linked before protection", replacement: "bpf_jit_alloc_exec + checked set_memory_rox, linked after success", evidence: "kernel/bpf/core.c: alloc_new_pack", since: "≈v6.10"),
        Replacement(deprecated: "bpf_prog_pack_free(hdr) with the size written into the RO header", replacement: "bpf_prog_pack_free(ptr, size)", evidence: "kernel/bpf/core.c", since: "≈v6.9"),
        Replacement(deprecated: "BPF trampoline set_memory_ro/x with an nx/rw retry", replacement: "arch_alloc_bpf_trampoline / arch_protect_bpf_trampoline", evidence: "kernel/bpf/trampoline.c; arch/x86/net/bpf_jit_comp.c", since: "≈v6.8"),
        Replacement(deprecated: "hand-coded fallback ranges (arm64 PLT window, ppc32 32 MiB)", replacement: "execmem_range.fallback_start/_end", evidence: "arch/arm64/mm/init.c; arch/powerpc/mm/mem.c", since: "≈v6.10"),
        Replacement(deprecated: "ITS thunk pages: module_alloc + set_memory_ro/x", replacement: "execmem_alloc(EXECMEM_MODULE_TEXT) + set_memory_rox", evidence: "arch/x86/kernel/alternative.c", since: "stable backport"),
        Replacement(deprecated: "plain writes to RO/ROX text", replacement: "text_poke (text_mutex held), text_poke_copy, text_poke_set, bpf_arch_text_copy or the arch helper", evidence: "arch/x86/kernel/alternative.c; arch/*/net/bpf_jit*.c", since: "both"),
        Replacement(deprecated: "vmap(..., VM_FLUSH_RESET_PERMS)", replacement: "vmalloc/execmem, or an explicit set_memory_nx + set_memory_rw before vunmap", evidence: "mm/vmalloc.c: vmap", since: "≈v6.5"),
        Replacement(deprecated: "executable __vmalloc_node_range", replacement: "execmem_alloc(type); direct calls only for special pages (hyperv: ROX + VM_FLUSH_RESET_PERMS)", evidence: "mm/execmem.c; arch/x86/hyperv/hv_init.c", since: "≈v6.10"),
    ]

    /// The replacements that apply to a named 6.1 API.
    public static func replacing(_ api: String) -> [Replacement] {
        if let hit = byAPI[api] { return hit }
        return all.filter { $0.deprecated.contains(api) }
    }

    /// Precomputed for every catalogue name: the model asks on every INV-VERSION.
    static let byAPI: [String: [Replacement]] = Dictionary(uniqueKeysWithValues: ModelAPI.all.map { api in
        (api.name, all.filter { $0.deprecated.contains(api.name) })
    })
}
