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
    public var generations: Set<KernelGeneration>
    /// nil: every arch (possibly as the weak default).
    public var arches: Set<Arch>?
    public var layer: APILayer
    public var role: APIRole
    /// For allocators: the documented matching free(s).
    public var pairedFree: [String]
    public var note: String

    public func exists(in config: ModelConfig) -> Bool {
        generations.contains(config.generation) && (arches?.contains(config.arch) ?? true)
    }

    /// The catalogue, in MODEL_SPEC §2 order.
    public static let all: [ModelAPI] = {
        let both: Set<KernelGeneration> = [.v6_1, .v6_12]
        let old: Set<KernelGeneration> = [.v6_1]
        let new: Set<KernelGeneration> = [.v6_12]
        func api(_ n: String, _ g: Set<KernelGeneration>, _ l: APILayer, _ r: APIRole, arches: Set<Arch>? = nil,
                 free: [String] = [], _ note: String) -> ModelAPI {
            ModelAPI(name: n, generations: g, arches: arches, layer: l, role: r, pairedFree: free, note: note)
        }
        return [
            api("vmalloc", both, .D, .allocator, free: ["vfree", "vfree_atomic"], "PAGE_KERNEL area in vmalloc space"),
            api("vzalloc", both, .D, .allocator, free: ["vfree", "vfree_atomic"], "vmalloc, zero-filled"),
            api("__vmalloc", both, .D, .allocator, free: ["vfree", "vfree_atomic"], "vmalloc with gfp flags; takes no pgprot"),
            api("vmalloc_huge", both, .DG, .allocator, free: ["vfree", "vfree_atomic"], "VM_ALLOW_HUGE_VMAP; PMD pages when HAVE_ARCH_HUGE_VMALLOC and size >= PMD"),
            api("__vmalloc_node_range", both, .C, .allocator, free: ["vfree", "vfree_atomic"], "any range, pgprot and vm_flags; no fallback"),
            api("vfree", both, .D, .free, "in irq acts as vfree_atomic; resets perms when VM_FLUSH_RESET_PERMS"),
            api("vfree_atomic", both, .C, .free, "defers to a work item; writes a list node into the first word"),
            api("vmap", both, .D, .mapping, free: ["vunmap"], "maps caller pages; never executable; 6.12 refuses VM_FLUSH_RESET_PERMS"),
            api("vunmap", both, .D, .free, "unmaps a vmap area; pages stay with the caller"),
            api("vm_map_ram", both, .D, .mapping, free: ["vm_unmap_ram"], "PAGE_KERNEL mapping without a vm_struct"),
            api("vm_unmap_ram", both, .D, .free, "needs the same page count"),
            api("get_vm_area", both, .C, .allocator, free: ["free_vm_area"], "reserves an unmapped area"),
            api("free_vm_area", both, .DG, .free, "frees the descriptor, not the pages"),
            api("vm_area_map_pages", new, .C, .mapping, "maps caller pages into a VM_SPARSE area (BPF arena)"),
            api("vm_area_unmap_pages", new, .C, .mapping, "unmaps part of a VM_SPARSE area"),
            api("vmap_pages_range", both, .M, .mapping, "mm-internal page mapper behind vmap/vmalloc"),
            api("find_vm_area", both, .C, .query, "the live area with a vm_struct containing an address"),
            api("set_vm_flush_reset_perms", both, .C, .permission, "sets VM_FLUSH_RESET_PERMS via find_vm_area"),
            api("module_alloc", old, .C, .allocator, free: ["module_memfree"], "per-arch __vmalloc_node_range (MODEL_SPEC §1.4)"),
            api("module_memfree", old, .C, .free, "WARNs in irq, then vfree"),
            api("execmem_alloc", new, .C, .allocator, free: ["execmem_free"], "ranges[type] with fallback; VM_FLUSH_RESET_PERMS"),
            api("execmem_free", new, .C, .free, "WARNs in irq, then vfree"),
            api("bpf_jit_alloc_exec", both, .C, .allocator, free: ["bpf_jit_free_exec"], "6.1: module_alloc (arm64 vmalloc, riscv BPF region); 6.12: execmem_alloc(BPF)"),
            api("bpf_jit_free_exec", both, .C, .free, "6.1: module_memfree (arm64/riscv vfree); 6.12: execmem_free"),
            api("bpf_prog_pack_alloc", both, .C, .allocator, free: ["bpf_prog_pack_free", "bpf_jit_binary_pack_free"], "64-byte chunks of a ROX pack"),
            api("bpf_prog_pack_free", both, .C, .free, "6.1 (hdr), 6.12 (ptr, size)"),
            api("bpf_jit_binary_pack_alloc", both, .C, .allocator, free: ["bpf_jit_binary_pack_free"], "ROX chunk + kvmalloc RW buffer"),
            api("bpf_jit_binary_pack_finalize", both, .C, .patch, "bpf_arch_text_copy then kvfree of the RW buffer"),
            api("bpf_jit_binary_pack_free", both, .C, .free, "frees the chunk and the RW buffer"),
            api("bpf_arch_text_copy", both, .C, .patch, "x86 both trees; arm64/riscv/ppc64 from 6.12; elsewhere the weak default fails"),
            api("set_memory_ro", both, .C, .permission, "W:=0; alias per arch"),
            api("set_memory_rw", both, .C, .permission, "W:=1; alias per arch"),
            api("set_memory_x", both, .C, .permission, "X:=1"),
            api("set_memory_nx", both, .C, .permission, "X:=0"),
            api("set_memory_rox", new, .C, .permission, "W:=0 and X:=1 without a W+X window"),
            api("set_direct_map_invalid_noflush", both, .C, .permission, "alias becomes not-present; no TLB flush"),
            api("set_direct_map_default_noflush", both, .C, .permission, "alias becomes PAGE_KERNEL; no TLB flush"),
            api("text_poke", both, .C, .patch, arches: [.x86_64], "text_mutex held; at most 2 pages"),
            api("text_poke_copy", both, .C, .patch, arches: [.x86_64], "takes text_mutex itself; any length"),
            api("text_poke_set", both, .C, .patch, arches: [.x86_64], "takes text_mutex itself; any length"),
            api("text_poke_copy_locked", new, .C, .patch, arches: [.x86_64], "text_poke_copy for callers holding text_mutex"),
            api("text_poke_bp", both, .C, .patch, arches: [.x86_64], "int3-based live patching; text_mutex held"),
            api("aarch64_insn_patch_text_nosync", both, .C, .patch, arches: [.arm64], "arm64 fixmap patching"),
            api("aarch64_insn_copy", new, .C, .patch, arches: [.arm64], "arm64 bulk text copy (bpf_arch_text_copy)"),
            api("patch_text_nosync", both, .C, .patch, arches: [.riscv64], "riscv fixmap patching"),
            api("patch_instructions", new, .C, .patch, arches: [.ppc64], "ppc bulk patching"),
            api("s390_kernel_write", both, .C, .patch, arches: [.s390], "s390 write through the real-address alias"),
            api("kvmalloc", both, .D, .allocator, free: ["kvfree"], "kmalloc or vmalloc; PAGE_KERNEL"),
            api("kmalloc", both, .D, .allocator, free: ["kfree", "kvfree"], "slab memory in the direct map"),
            api("kvfree", both, .D, .free, "vfree for vmalloc addresses, kfree otherwise"),
            api("kfree", both, .D, .free, "slab free; BUGs on vmalloc memory"),
            api("alloc_pages", both, .D, .allocator, free: ["__free_pages"], "caller-owned page frames"),
            api("__free_pages", both, .D, .free, "returns page frames"),
        ]
    }()

    static let index: [String: ModelAPI] = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })

    public static func named(_ name: String) -> ModelAPI? { index[name] }
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
