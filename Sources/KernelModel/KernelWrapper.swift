/// Kernel functions with a `__weak` default in common code and overrides
/// under `arch/<a>/` that do different things: what each one does on each
/// arch of each generation, as the model APIs it calls. A caller anywhere
/// in the tree gets the arch's version, so one call site behaves differently
/// per arch and a finding names the arches it holds on.
///
/// Read from the trees (kernel/kprobes.c and the arch kprobes files of
/// 6.1.192 and 6.12.117). The model APIs these call (module_alloc,
/// execmem_alloc, bpf_jit_alloc_exec...) are already per arch in the model;
/// this table only says which of them an override calls and in what order.
public enum KernelWrapper {
    /// Every wrapper the table knows.
    public static let names: Set<String> = ["alloc_insn_page"]

    /// The arches of `generation` that override the `__weak` default of `name`.
    public static func overridingArches(_ name: String, generation: KernelGeneration) -> [Arch] {
        guard names.contains(name) else { return [] }
        switch generation {
        case .v6_1: return [.x86_64, .arm64, .ppc64, .riscv64, .s390]
        case .v6_12: return [.x86_64, .arm64, .s390]
        }
    }

    /// The calls `name` makes on `arch` of `generation`, its result bound
    /// to `result`; nil when `name` is not a wrapper. The first call
    /// allocates: when it fails, the wrapper returns NULL and makes no other
    /// call (every override tests it).
    public static func calls(_ name: String, arch: Arch, generation: KernelGeneration, result: String) -> [KernelCall]? {
        guard names.contains(name) else { return nil }
        let page = KernelValue.size(Size.page)
        let ptr = KernelValue.pointer(.sym(result))
        func setMemory(_ op: SetMemoryOp) -> KernelCall { KernelCall(op.apiName, ["ptr": ptr, "pages": .size(1)]) }
        let overridden = overridingArches(name, generation: generation).contains(arch)
        switch (generation, overridden ? arch : .generic) {
        case (.v6_1, .x86_64), (.v6_1, .ppc64), (.v6_1, .s390):
            // module_alloc, then read-only before executable (powerpc: with
            // strict module RWX, its default; s390: one __set_memory(RO | X)).
            return [KernelCall("module_alloc", ["size": page, "as": .bind(result)]), setMemory(.ro), setMemory(.x)]
        case (.v6_1, .arm64), (.v6_1, .riscv64):
            // Read-only and executable from the start (arm64 PAGE_KERNEL_ROX,
            // riscv PAGE_KERNEL_READ_EXEC), reset at vfree.
            return [KernelCall("__vmalloc_node_range", ["size": page, "range": .range(.vmalloc), "prot": .prot(.kernelROX),
                                                        "flags": .flags(.flushResetPerms), "as": .bind(result)])]
        case (.v6_1, _):
            return [KernelCall("module_alloc", ["size": page, "as": .bind(result)])]
        case (.v6_12, .x86_64), (.v6_12, .arm64), (.v6_12, .s390):
            return [KernelCall("execmem_alloc", ["type": .type(.kprobes), "size": page, "as": .bind(result)]), setMemory(.rox)]
        case (.v6_12, _):
            return [KernelCall("execmem_alloc", ["type": .type(.kprobes), "size": page, "as": .bind(result)])]
        }
    }
}
