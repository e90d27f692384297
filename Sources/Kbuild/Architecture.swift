import KPolicyFiles
import PatchInput
/// What kpolicy knows of each directory under arch/ it parses: the clang
/// target, the arch Makefile's flags that change what headers see, and the
/// main Kconfig entries whose `select`s are the arch's capabilities
/// (ArchSelects). The one table of arches: `Workspace.targetTriple`,
/// `Workspace.archFlags` and `ArchSelects.archSymbols` read it;
/// `DefaultConfig.perArch` holds the configurations (an arch without one
/// gets `DefaultConfig.otherArch` and its Kconfig choices' defaults).
struct Architecture: Sendable {
    /// The clang target (`--target=`); nil: parsed with the x86-64 target
    /// (what a file there needs of the target is its word size).
    var triple: String?
    /// Flags of arch/<a>/Makefile that change what headers see.
    var flags: [String] = []
    /// The main config symbols, whose selects count.
    var kconfigSymbols: Set<String>

    init(triple: String? = nil, flags: [String] = [], kconfigSymbols: Set<String>) {
        self.triple = triple
        self.flags = flags
        self.kconfigSymbols = kconfigSymbols
    }

    static let all: [String: Architecture] = [
        "x86": Architecture(triple: "x86_64-linux-gnu",
                            flags: ["-DCC_USING_FENTRY", "-mno-sse", "-mno-mmx", "-mno-sse2", "-mno-3dnow", "-mno-avx", "-mno-red-zone", "-mcmodel=kernel"],
                            kconfigSymbols: ["X86", "X86_64"]),
        "arm64": Architecture(triple: "aarch64-linux-gnu", flags: ["-mgeneral-regs-only", "-DKASAN_SHADOW_SCALE_SHIFT="],
                              kconfigSymbols: ["ARM64"]),
        // -mcmodel=medany: arch/riscv/Makefile's flag for CMODEL_MEDANY, the
        // choice's default for 64BIT on 6.1 and 6.12 (riscv mm/init.c has an
        // #error without __riscv_cmodel_medany). -march=rv64imac: the
        // Makefile appends _zicsr_zifencei only for toolchains that need it
        // (TOOLCHAIN_NEEDS_EXPLICIT_ZICSR_ZIFENCEI, binutils >= 2.36 and
        // not LLVM); libclang 14 rejects those extension names, and a
        // rejected -march is a diagnostic in every riscv parse.
        "riscv": Architecture(triple: "riscv64-linux-gnu", flags: ["-mno-relax", "-march=rv64imac", "-mabi=lp64", "-mcmodel=medany"],
                              kconfigSymbols: ["RISCV"]),
        "powerpc": Architecture(triple: "powerpc64le-linux-gnu", flags: ["-mcpu=power8", "-mabi=elfv2"],
                                kconfigSymbols: ["PPC", "PPC64", "PPC_BOOK3S_64", "PPC_RADIX_MMU"]),
        "s390": Architecture(triple: "s390x-linux-gnu", flags: ["-march=z10"], kconfigSymbols: ["S390"]),
        "arm": Architecture(triple: "armv7a-linux-gnueabi", flags: ["-D__LINUX_ARM_ARCH__=7", "-march=armv7-a", "-mfloat-abi=soft"],
                            kconfigSymbols: ["ARM"]),
        // arch/loongarch/Makefile's 64-bit flags (CC_FLAGS_NO_FPU is
        // -msoft-float). libclang 17 and later can target LoongArch;
        // with an older one its files are reported as not checked.
        "loongarch": Architecture(triple: "loongarch64-linux-gnu",
                                  flags: ["-march=loongarch64", "-mabi=lp64s", "-mcmodel=normal", "-msoft-float"],
                                  kconfigSymbols: ["LOONGARCH"]),
        "mips": Architecture(triple: "mips64el-linux-gnu", kconfigSymbols: ["MIPS"]),
        "sparc": Architecture(triple: "sparc64-linux-gnu", kconfigSymbols: ["SPARC", "SPARC64"]),
        "parisc": Architecture(kconfigSymbols: ["PARISC"]),
        "nios2": Architecture(kconfigSymbols: ["NIOS2"]),
        "arc": Architecture(kconfigSymbols: ["ARC"]),
        "xtensa": Architecture(kconfigSymbols: ["XTENSA"]),
        "sh": Architecture(kconfigSymbols: ["SUPERH"]),
        "um": Architecture(kconfigSymbols: ["UML"]),
    ]
}
