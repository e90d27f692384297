import KPolicyFiles
import PatchInput
/// The kernel configuration kpolicy parses an unconfigured tree with.
///
/// An unbuilt tree has no include/generated/autoconf.h, so `IS_ENABLED()`
/// and `#ifdef CONFIG_*` need a configuration from somewhere. This one is a
/// 64-bit SMP kernel with every feature this tool exists to check switched
/// on: loadable modules with strict RWX, the BPF JIT, kprobes, dynamic
/// ftrace, set_memory_*, huge vmalloc where the architecture has it, and
/// execmem on trees that have it (6.10 and later). Options that only exist
/// as numbers (NR_CPUS, page shift, cache line shift...) get common values.
/// A tree's own include/generated/autoconf.h or .config replaces all of
/// this (see `GeneratedHeaders`). docs/workspace.md lists the values.
public enum DefaultConfig {
    /// A Kconfig value: `y` (or a number or string).
    public enum Value: Sendable, Equatable {
        case yes
        case number(String)
        case string(String)
        /// Left off on purpose; written as a comment so the choice is visible.
        case off
    }

    /// Options set on every architecture.
    static let common: [(String, Value)] = [
        ("64BIT", .yes), ("MMU", .yes), ("SMP", .yes), ("NR_CPUS", .number("64")),
        ("NUMA", .yes), ("NODES_SHIFT", .number("6")), ("HZ", .number("250")), ("HZ_250", .yes),
        ("PAGE_SIZE_4KB", .yes), ("PAGE_SHIFT", .number("12")), ("PGTABLE_LEVELS", .number("4")),
        ("BASE_SMALL", .number("0")), ("LOG_BUF_SHIFT", .number("17")),
        ("ILLEGAL_POINTER_VALUE", .number("0xdead000000000000")),
        ("SPARSEMEM", .yes), ("SPARSEMEM_EXTREME", .yes), ("SPARSEMEM_VMEMMAP", .yes),
        ("FLATMEM", .off), ("SLUB", .yes), ("PRINTK", .yes), ("BUG", .yes), ("GENERIC_BUG", .yes),
        ("GENERIC_BUG_RELATIVE_POINTERS", .yes), ("DEBUG_BUGVERBOSE", .yes),
        ("MULTIUSER", .yes), ("SYSFS", .yes), ("PROC_FS", .yes), ("DEBUG_FS", .yes), ("BLOCK", .yes),
        ("NET", .yes), ("INET", .yes), ("FUTEX", .yes), ("EPOLL", .yes), ("SHMEM", .yes),
        ("TREE_RCU", .yes), ("TREE_SRCU", .yes), ("THREAD_INFO_IN_TASK", .yes),
        ("HAVE_MOD_ARCH_SPECIFIC", .yes), ("PREEMPT_NONE", .yes), ("PREEMPT_BUILD", .yes),
        ("HIGH_RES_TIMERS", .yes), ("NO_HZ_IDLE", .yes), ("GENERIC_CLOCKEVENTS", .yes),
        ("CC_IS_CLANG", .yes), ("CLANG_VERSION", .number("140006")), ("GCC_VERSION", .number("0")),
        ("LLD_VERSION", .number("0")), ("AS_IS_LLVM", .yes), ("AS_VERSION", .number("140006")),
        ("CC_HAS_ASM_GOTO", .yes), ("CC_HAS_ASM_GOTO_OUTPUT", .yes), ("CC_HAS_ASM_INLINE", .yes),
        ("CC_HAS_NO_PROFILE_FN_ATTR", .yes), ("CC_HAS_KASAN_GENERIC", .yes),
        ("CONSTRUCTORS", .off), ("FRAME_WARN", .number("2048")),
        ("MODULES", .yes), ("MODULE_UNLOAD", .yes), ("MODULES_TREE_LOOKUP", .yes),
        ("MODULES_USE_ELF_RELA", .yes), ("KALLSYMS", .yes), ("KALLSYMS_ALL", .yes),
        ("STRICT_KERNEL_RWX", .yes), ("STRICT_MODULE_RWX", .yes),
        ("ARCH_HAS_STRICT_KERNEL_RWX", .yes), ("ARCH_HAS_STRICT_MODULE_RWX", .yes),
        ("ARCH_HAS_SET_MEMORY", .yes), ("ARCH_HAS_SET_DIRECT_MAP", .yes),
        ("ARCH_WANTS_EXECMEM_LATE", .off), ("EXECMEM", .yes),
        ("BPF", .yes), ("BPF_SYSCALL", .yes), ("BPF_JIT", .yes), ("BPF_JIT_ALWAYS_ON", .yes),
        ("BPF_JIT_DEFAULT_ON", .yes), ("HAVE_EBPF_JIT", .yes), ("ARCH_WANT_DEFAULT_BPF_JIT", .yes),
        ("BPF_EVENTS", .yes), ("CGROUP_BPF", .yes), ("BPF_LSM", .off),
        ("KPROBES", .yes), ("KRETPROBES", .yes), ("HAVE_KPROBES", .yes), ("HAVE_KRETPROBES", .yes),
        ("KPROBE_EVENTS", .yes), ("OPTPROBES", .off), ("UPROBES", .yes),
        ("FTRACE", .yes), ("FUNCTION_TRACER", .yes), ("DYNAMIC_FTRACE", .yes),
        ("DYNAMIC_FTRACE_WITH_REGS", .yes), ("DYNAMIC_FTRACE_WITH_ARGS", .yes),
        ("HAVE_FUNCTION_TRACER", .yes), ("HAVE_DYNAMIC_FTRACE", .yes), ("TRACING", .yes),
        ("EVENT_TRACING", .yes), ("TRACEPOINTS", .yes), ("PERF_EVENTS", .yes),
        ("HAVE_ARCH_HUGE_VMAP", .yes), ("HAVE_ARCH_HUGE_VMALLOC", .yes),
        ("TRANSPARENT_HUGEPAGE", .yes), ("HUGETLBFS", .yes), ("HUGETLB_PAGE", .yes),
        ("MEMCG", .yes), ("CGROUPS", .yes), ("SWAP", .yes), ("MIGRATION", .yes), ("COMPACTION", .yes),
        ("SRAM", .yes), ("SRAM_EXEC", .yes), ("OF", .yes), ("HAS_IOMEM", .yes), ("HAS_DMA", .yes),
        ("GENERIC_ALLOCATOR", .yes), ("ARCH_HAS_SET_MEMORY_ROX", .off),
        ("DEBUG_WX", .yes), ("PTDUMP_CORE", .yes), ("GENERIC_PTDUMP", .yes),
        ("JUMP_LABEL", .yes), ("HAVE_ARCH_JUMP_LABEL", .yes), ("HAVE_ARCH_JUMP_LABEL_RELATIVE", .yes),
        ("GENERIC_ATOMIC64", .off), ("ARCH_USE_CMPXCHG_LOCKREF", .yes), ("HAVE_ARCH_TRACEHOOK", .yes),
        ("ARCH_HAS_DEBUG_WX", .yes), ("ARCH_HAS_PTE_SPECIAL", .yes), ("HAVE_MOVE_PMD", .yes),
        ("BLK_DEV", .yes), ("PCI", .yes), ("INPUT", .yes), ("TTY", .yes), ("CRYPTO", .yes),
    ]

    /// Value options of `common` whose value the tree's Kconfig decides from
    /// the configuration (its first `default` whose condition holds), unless
    /// the arch's table (or `otherArch`) sets them: x86's PGTABLE_LEVELS is 4 up to 6.x (5
    /// only with X86_5LEVEL) and 5 on 7.x, where 5-level paging is always
    /// built in (hv_crash.c dereferences a `p4d_t`).
    static let kconfigDecided: Set<String> = ["PGTABLE_LEVELS"]

    /// Options that differ per architecture (directory name under arch/).
    static let perArch: [String: [(String, Value)]] = [
        "x86": [
            ("X86", .yes), ("X86_64", .yes), ("X86_64_SMP", .yes), ("ARCH_HAS_MEM_ENCRYPT", .yes),
            ("KEXEC_CORE", .yes), ("KEXEC", .yes), ("CRASH_DUMP", .yes),
            ("ARCH_WANT_BATCHED_UNMAP_TLB_FLUSH", .yes), ("X86_L1_CACHE_SHIFT", .number("6")),
            ("X86_INTERNODE_CACHE_SHIFT", .number("6")), ("X86_MINIMUM_CPU_FAMILY", .number("64")),
            ("PHYSICAL_START", .number("0x1000000")), ("PHYSICAL_ALIGN", .number("0x200000")),
            ("RANDOMIZE_BASE", .yes), ("RANDOMIZE_MEMORY", .yes), ("X86_CMPXCHG64", .yes),
            ("X86_LOCAL_APIC", .yes), ("X86_IO_APIC", .yes), ("X86_TSC", .yes), ("X86_PAT", .yes),
            ("X86_64_ACPI_NUMA", .off), ("ACPI", .yes), ("PARAVIRT", .off), ("HYPERVISOR_GUEST", .off),
            ("X86_FEATURE_NAMES", .yes), ("IA32_EMULATION", .off), ("COMPAT", .off),
            ("GENERIC_CPU", .yes), ("X86_X2APIC", .yes), ("PAGE_TABLE_ISOLATION", .yes),
            ("RETPOLINE", .yes), ("MITIGATION_RETPOLINE", .yes), ("CPU_SRSO", .off),
            ("MITIGATION_ITS", .yes), ("ARCH_HAS_EXECMEM_ROX", .off),
            // The ITS thunk pages (alternative.c) sit under these.
            ("OBJTOOL", .yes), ("RETHUNK", .yes), ("MITIGATION_RETHUNK", .yes), ("CPU_SUP_INTEL", .yes),
            ("HAVE_ARCH_KASAN", .yes), ("DYNAMIC_FTRACE_WITH_DIRECT_CALLS", .yes),
            ("HAVE_OPTPROBES", .yes), ("KPROBES_ON_FTRACE", .yes), ("MODULE_SIG", .off),
            ("SPARSEMEM_MANUAL", .yes), ("ZONE_DMA", .yes), ("ZONE_DMA32", .yes),
            ("AS_AVX512", .yes), ("AS_SHA1_NI", .yes), ("UNWINDER_ORC", .yes), ("STACK_VALIDATION", .off),
            ("OUTPUT_FORMAT", .string("elf64-x86-64")), ("DEFAULT_HOSTNAME", .string("(none)")),
        ],
        "arm64": [
            ("ARM64", .yes), ("ARM64_4K_PAGES", .yes), ("ARM64_PAGE_SHIFT", .number("12")),
            ("ARM64_VA_BITS", .number("48")), ("ARM64_VA_BITS_48", .yes), ("ARM64_PA_BITS", .number("48")),
            ("ARM64_PA_BITS_48", .yes), ("ARM64_CONT_PTE_SHIFT", .number("4")),
            ("ARM64_CONT_PMD_SHIFT", .number("4")), ("ARCH_MMAP_RND_BITS", .number("18")),
            ("RANDOMIZE_BASE", .yes), ("RANDOMIZE_MODULE_REGION_FULL", .yes), ("ARM64_MODULE_PLTS", .yes),
            ("RODATA_FULL_DEFAULT_ENABLED", .yes), ("ARM64_PAN", .yes), ("ARM64_LSE_ATOMICS", .yes),
            ("ARM64_USE_LSE_ATOMICS", .yes), ("ARM64_BTI", .yes), ("ARM64_PTR_AUTH", .yes),
            ("ARM64_PTR_AUTH_KERNEL", .yes), ("ARM64_SVE", .yes), ("ARM64_SME", .off),
            ("ARCH_HAS_EXECMEM_ROX", .off), ("KUSER_HELPERS", .off), ("COMPAT", .off),
            ("ARM64_WORKAROUND_CLEAN_CACHE", .yes), ("ARM_GIC", .yes), ("ARM_ARCH_TIMER", .yes),
            ("ARM64_ERRATUM_1024718", .yes), ("CMDLINE", .string("")),
            ("HAVE_DYNAMIC_FTRACE_WITH_ARGS", .yes), ("HAVE_DYNAMIC_FTRACE_WITH_CALL_OPS", .yes),
        ],
        // 32-bit Arm, for drivers only built there (sram-exec.c needs asm/fncpy.h).
        "arm": [
            ("ARM", .yes), ("64BIT", .off), ("CPU_V7", .yes), ("CPU_32v7", .yes), ("ARCH_MULTI_V7", .yes),
            ("ARM_L1_CACHE_SHIFT", .number("6")), ("PAGE_OFFSET", .number("0xC0000000")),
            ("PHYS_OFFSET", .number("0x80000000")), ("VMSPLIT_3G", .yes), ("AEABI", .yes),
            ("ARM_THUMB", .yes), ("CPU_CP15_MMU", .yes), ("CPU_CP15", .yes), ("ARM_LPAE", .off),
            ("PGTABLE_LEVELS", .number("2")), ("NODES_SHIFT", .number("0")), ("NUMA", .off),
            ("SPARSEMEM", .off), ("SPARSEMEM_EXTREME", .off), ("SPARSEMEM_VMEMMAP", .off), ("FLATMEM", .yes),
            ("HIGHMEM", .yes), ("NR_CPUS", .number("8")), ("CMDLINE", .string("")),
            ("ARM_UNWIND", .yes), ("TRANSPARENT_HUGEPAGE", .off), ("HAVE_ARCH_HUGE_VMALLOC", .off),
            ("ARM_PATCH_PHYS_VIRT", .yes), ("ARM_HAS_GROUP_RELOCS", .yes),
            ("CPU_COPY_V6", .yes), ("CPU_TLB_V7", .yes), ("CPU_CACHE_V7", .yes), ("CPU_ABRT_EV7", .yes),
            ("CPU_PABRT_V7", .yes), ("HAVE_ARCH_JUMP_LABEL_RELATIVE", .off), ("GENERIC_BUG_RELATIVE_POINTERS", .off),
        ],
        "riscv": [
            ("RISCV", .yes), ("ARCH_RV64I", .yes), ("RISCV_ISA_C", .yes), ("MMU", .yes),
            ("PAGE_OFFSET", .number("0xff60000000000000")), ("VA_BITS", .number("57")),
            ("RISCV_ISA_ZICBOM", .yes), ("FPU", .yes), ("CMDLINE", .string("")),
            // 64BIT's default (Sv57 with folding at run time: nothing is
            // folded at build time, which include/linux/pgtable.h checks).
            ("PGTABLE_LEVELS", .number("5")),
            // Selected when MODULES is on (6.1: by RISCV; 6.12: by
            // RELOCATABLE); the base's HAVE_MOD_ARCH_SPECIFIC needs the
            // struct mod_arch_specific that asm/module.h defines under it.
            ("MODULE_SECTIONS", .yes),
        ],
        "powerpc": [
            ("PPC", .yes), ("PPC64", .yes), ("PPC_BOOK3S_64", .yes), ("PPC_BOOK3S", .yes),
            ("PPC_RADIX_MMU", .yes), ("PPC_64K_PAGES", .yes), ("PAGE_SHIFT", .number("16")),
            ("PPC_PAGE_SHIFT", .number("16")), ("THREAD_SHIFT", .number("14")),
            ("NR_IRQS", .number("512")), ("CMDLINE", .string("")), ("PPC_BOOK3S_64", .yes),
        ],
        // 64-bit LoongArch at its Kconfig defaults: 16 KiB pages with 3
        // levels (the page-table layout choice's default for 64BIT).
        "loongarch": [
            ("LOONGARCH", .yes), ("32BIT", .off), ("16KB_3LEVEL", .yes), ("PAGE_SIZE_4KB", .off),
            ("PAGE_SIZE_16KB", .yes), ("HAVE_PAGE_SIZE_16KB", .yes), ("PAGE_SHIFT", .number("14")),
            ("PGTABLE_3LEVEL", .yes), ("PGTABLE_LEVELS", .number("3")), ("CPU_HAS_FPU", .yes),
            ("L1_CACHE_SHIFT", .number("6")), ("CMDLINE", .string("")), ("CMDLINE_BOOTLOADER", .yes),
        ],
        "s390": [
            ("S390", .yes), ("NR_CPUS", .number("64")), ("MARCH_Z10", .yes),
            ("MARCH_Z10_TUNE", .yes), ("CMDLINE", .string("")), ("ARCH_HAS_EXECMEM_ROX", .off),
            // As s390's defconfig: mcount records (FTRACE_CALLSITE_SECTION).
            ("FTRACE_MCOUNT_RECORD", .yes),
        ],
    ]

    /// Arches kpolicy has no table for (mips, parisc, sh, sparc, xtensa,
    /// nios2, arc, um ...): the flat memory model they all support, one
    /// node, no highmem. The common table's SPARSEMEM_VMEMMAP would make
    /// their headers use a `vmemmap` they never define.
    static let otherArch: [(String, Value)] = [
        ("SPARSEMEM", .off), ("SPARSEMEM_EXTREME", .off), ("SPARSEMEM_VMEMMAP", .off), ("FLATMEM", .yes),
        ("NUMA", .off), ("NODES_SHIFT", .number("0")), ("HIGHMEM", .off), ("PGTABLE_LEVELS", .number("2")),
        ("XTENSA_VARIANT_FSF", .yes), ("XTENSA_VARIANT_NAME", .string("fsf")), ("XTENSA_PLATFORM_ISS", .yes),
        ("CPU_SH4", .yes), ("CPU_SUBTYPE_SH7750", .yes),
    ]

    /// What changes for a file Kbuild builds only on 32-bit x86
    /// (machine_kexec_32.c, mm/init_32.c, platform/efi/efi_32.c): an i386
    /// SMP kernel, flat memory, 2-level page tables, 3G/1G split.
    static let x86ThirtyTwoBit: [(String, Value)] = [
        ("64BIT", .off), ("X86_64", .off), ("X86_64_SMP", .off), ("X86_32", .yes), ("X86_32_SMP", .yes),
        ("PGTABLE_LEVELS", .number("2")), ("PAGE_OFFSET", .number("0xC0000000")), ("VMSPLIT_3G", .yes),
        ("SPARSEMEM", .off), ("SPARSEMEM_EXTREME", .off), ("SPARSEMEM_VMEMMAP", .off), ("SPARSEMEM_MANUAL", .off),
        ("FLATMEM", .yes), ("NUMA", .off), ("NODES_SHIFT", .number("0")), ("HIGHMEM", .yes), ("HIGHMEM4G", .yes),
        ("KMAP_LOCAL", .yes),
        ("ZONE_DMA32", .off), ("RANDOMIZE_MEMORY", .off), ("X86_5LEVEL", .off), ("UNWINDER_ORC", .off),
        ("UNWINDER_FRAME_POINTER", .yes), ("X86_MINIMUM_CPU_FAMILY", .number("6")), ("NR_CPUS", .number("8")),
        ("X86_L1_CACHE_SHIFT", .number("6")), ("PHYSICAL_ALIGN", .number("0x200000")),
        ("OUTPUT_FORMAT", .string("elf32-i386")), ("HAVE_ARCH_KASAN", .off), ("PAGE_TABLE_ISOLATION", .off),
        ("DYNAMIC_FTRACE_WITH_DIRECT_CALLS", .off), ("HAVE_ARCH_HUGE_VMALLOC", .off),
    ]

    /// A configuration of an arch other than the one kpolicy gives it,
    /// for the files Kbuild builds only there: a file whose build options
    /// (its Makefile gates and their Kconfig closure) name one of
    /// `triggers` is parsed for `target` with `options` forced in after
    /// include/linux/kconfig.h has read the arch's autoconf.h.
    public struct SubArchitecture: Sendable {
        public var name: String
        public var triggers: Set<String>
        public var target: String
        /// Arch flags (Workspace.archFlags) this target does not take.
        public var droppedFlags: Set<String>
        public var options: [(String, Value)]
    }

    /// What 32-bit powerpc has in common against kpolicy's ppc64 book3s
    /// radix: no 64BIT, 4K pages, flat memory, 2-level page tables,
    /// 0xC0000000 kernel base, no radix, no THP.
    static let powerpcThirtyTwoBit: [(String, Value)] = [
        ("64BIT", .off), ("PPC64", .off), ("PPC32", .yes), ("PPC_BOOK3S_64", .off), ("PPC_RADIX_MMU", .off),
        ("PPC_64S_HASH_MMU", .off), ("PPC_64K_PAGES", .off), ("PPC_4K_PAGES", .yes), ("PAGE_SHIFT", .number("12")),
        ("PPC_PAGE_SHIFT", .number("12")), ("THREAD_SHIFT", .number("13")), ("PAGE_OFFSET", .number("0xc0000000")),
        ("KERNEL_START", .number("0xc0000000")), ("LOWMEM_SIZE", .number("0x30000000")), ("TASK_SIZE", .number("0xb0000000")),
        ("SPARSEMEM", .off), ("SPARSEMEM_EXTREME", .off), ("SPARSEMEM_VMEMMAP", .off), ("FLATMEM", .yes),
        ("NUMA", .off), ("NODES_SHIFT", .number("0")), ("PGTABLE_LEVELS", .number("2")), ("NR_CPUS", .number("4")),
        ("TRANSPARENT_HUGEPAGE", .off), ("HAVE_ARCH_HUGE_VMALLOC", .off), ("PPC_THP", .off), ("HIGHMEM", .yes),
        ("PPC_BOOK3S", .off), ("PPC_MMU_NOHASH", .off), ("PPC_BOOK3E_64", .off), ("CPU_BIG_ENDIAN", .yes),
        ("CPU_LITTLE_ENDIAN", .off), ("PPC64_ELF_ABI_V2", .off), ("SMP", .off), ("GENERIC_ATOMIC64", .yes),
    ]

    /// The sub-arches of the Kconfig choices an arch's files are built
    /// under, tried in order (the more specific first).
    static let subArchitectures: [String: [SubArchitecture]] = [
        "x86": [SubArchitecture(name: "32-bit x86", triggers: ["X86_32"], target: "i386-linux-gnu",
                                droppedFlags: ["-mcmodel=kernel", "-mno-red-zone"], options: x86ThirtyTwoBit)],
        "powerpc": [
            SubArchitecture(name: "powerpc 8xx", triggers: ["PPC_8xx"], target: "powerpc-linux-gnu",
                            droppedFlags: ["-mcpu=power8", "-mabi=elfv2"],
                            options: powerpcThirtyTwoBit + [("PPC_8xx", .yes), ("PPC_MMU_NOHASH", .yes), ("PPC_KUEP", .yes),
                                                             ("PPC_8xx_PERF_EVENT", .off), ("PIN_TLB", .off)]),
            SubArchitecture(name: "powerpc 85xx (e500)", triggers: ["PPC_85xx", "PPC_E500", "PPC_FSL_BOOK3E", "FSL_BOOKE", "KVM_E500V2"],
                            target: "powerpc-linux-gnu", droppedFlags: ["-mcpu=power8", "-mabi=elfv2"],
                            options: powerpcThirtyTwoBit + [("PPC_85xx", .yes), ("PPC_E500", .yes), ("PPC_FSL_BOOK3E", .yes),
                                                             ("FSL_BOOKE", .yes), ("BOOKE", .yes), ("BOOKE_OR_40x", .yes),
                                                             ("PPC_MMU_NOHASH", .yes), ("PPC_E500MC", .off), ("PHYS_64BIT", .yes),
                                                             ("PTE_64BIT", .yes), ("PHYS_ADDR_T_64BIT", .yes)]),
            SubArchitecture(name: "32-bit book3s powerpc", triggers: ["PPC32", "PPC_BOOK3S_32"], target: "powerpc-linux-gnu",
                            droppedFlags: ["-mcpu=power8", "-mabi=elfv2"],
                            options: powerpcThirtyTwoBit + [("PPC_BOOK3S_32", .yes), ("PPC_BOOK3S", .yes),
                                                             ("PPC_BOOK3S_604", .yes), ("PPC_BOOK3S_603", .yes)]),
        ],
    ]

    /// The sub-arch of `arch` a file built under `options` needs, if any.
    public static func subArchitecture(arch: String, options: Set<String>) -> SubArchitecture? {
        subArchitectures[arch]?.first { !$0.triggers.isDisjoint(with: options) }
    }

    /// A header that changes the default configuration to `options`, for a
    /// file built under another configuration than its arch's default
    /// (forced in after include/linux/kconfig.h has read autoconf.h).
    public static func overrideHeader(_ options: [(String, Value)], name: String) -> String {
        var lines = ["/* kpolicy: configuration for \(name) (see docs/workspace.md) */"]
        for (symbol, value) in options {
            lines.append("#undef CONFIG_\(symbol)")
            switch value {
            case .yes: lines.append("#define CONFIG_\(symbol) 1")
            case .number(let n): lines.append("#define CONFIG_\(symbol) \(n)")
            case .string(let text): lines.append("#define CONFIG_\(symbol) \"\(text)\"")
            case .off: break
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The configuration for `arch` as (symbol without CONFIG_, value)
    /// pairs; `.off` entries document an option deliberately left off.
    public static func options(arch: String) -> [(String, Value)] {
        var seen = Set<String>()
        var result: [(String, Value)] = []
        for (name, value) in (perArch[arch] ?? otherArch) + common where !seen.contains(name) {
            seen.insert(name)
            result.append((name, value))
        }
        return result
    }

    /// The text of include/generated/autoconf.h for `arch`: the options
    /// above plus what the arch's Kconfig always selects (`ArchSelects`).
    public static func autoconf(arch: String, tree: KernelTree? = nil, kconfig: KconfigIndex? = nil) -> String {
        var lines = ["/* kpolicy default configuration for \(arch) (see docs/workspace.md) */"]
        var all = options(arch: arch)
        if let tree {
            let on = Set(all.filter { $0.1 != .off }.map(\.0))
            let off = Set(all.filter { $0.1 == .off }.map(\.0))
            let selected = ArchSelects.enabled(tree: tree, arch: arch, base: on, disabled: off)
            all += selected.sorted().map { ($0, .yes) }
            if let kconfig {
                var enabled = on.union(selected)
                if perArch[arch] == nil {
                    // No table: the arch's own Kconfig choices at their defaults.
                    let choices = kconfig.choiceDefaults(on: enabled, disabled: off)
                    all += choices.map { ($0, .yes) }
                    enabled.formUnion(choices)
                }
                // What the options that are on select, as Kconfig forces it.
                let forced = kconfig.selected(by: enabled, disabled: off)
                all += forced.sorted().map { ($0, .yes) }
                enabled.formUnion(forced)
                all = all.map { name, value in
                    guard kconfigDecided.contains(name), !(perArch[arch] ?? otherArch).contains(where: { $0.0 == name }),
                          let decided = kconfig.conditionalValue(of: name, on: enabled) else { return (name, value) }
                    return (name, .number(decided))
                }
            }
        }
        for (name, value) in all {
            switch value {
            case .yes: lines.append("#define CONFIG_\(name) 1")
            case .number(let n): lines.append("#define CONFIG_\(name) \(n)")
            case .string(let s): lines.append("#define CONFIG_\(name) \"\(s)\"")
            case .off: lines.append("/* CONFIG_\(name) is not set */")
            }
        }
        if let kconfig {
            lines.append("/* value options at their Kconfig defaults */")
            lines += kconfig.valueDefaults(excluding: Set(all.map(\.0)))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

