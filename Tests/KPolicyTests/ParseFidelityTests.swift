import Foundation
import XCTest
@testable import KPolicy
@testable import Kbuild
@testable import Parse

/// The mechanisms that keep candidates of real trees from parsing with
/// errors inside the file (docs/robustness.md, "Parse fidelity"), each on
/// a small tree built here.
final class ParseFidelityTests: XCTestCase {
    var tree: URL!
    var cache: URL!

    override func setUpWithError() throws {
        tree = FileManager.default.temporaryDirectory.appendingPathComponent("fidelity-tree-\(UUID().uuidString)")
        cache = FileManager.default.temporaryDirectory.appendingPathComponent("fidelity-cache-\(UUID().uuidString)")
        for sub in ["arch/x86/include/asm", "arch/x86/kernel", "include/linux", "include/asm-generic", "drivers/foo", "mm/sub"] {
            try FileManager.default.createDirectory(at: tree.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        try write("Makefile", "VERSION = 6\nPATCHLEVEL = 12\nSUBLEVEL = 0\n")
        try write("include/asm-generic/Kbuild", "mandatory-y += barrier.h\n")
        try write("include/linux/kconfig.h", "#include <generated/autoconf.h>\n")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: tree)
        try? FileManager.default.removeItem(at: cache)
    }

    func write(_ relative: String, _ text: String) throws {
        try text.write(to: tree.appendingPathComponent(relative), atomically: true, encoding: .utf8)
    }

    func parse(_ relative: String) throws -> ParsedFile {
        let workspace = try Workspace(tree: KernelTree(path: tree.path), cacheRoot: cache)
        return try SourceParser(workspace: workspace).parse(tree.appendingPathComponent(relative))
    }

    /// A header that uses a type only its includer's earlier includes
    /// declare parses clean after the includer's beginning, even though
    /// that beginning includes the header itself (its guard is held off),
    /// and its facts stay its own.
    func testHeaderIsParsedAfterItsIncludersBeginning() throws {
        try write("include/linux/thing.h", "#ifndef _LINUX_THING_H\n#define _LINUX_THING_H\ntypedef unsigned long thing_t;\n#define THING_SHIFT 3\n#include \"../../drivers/foo/foo.h\"\n#endif\n")
        try write("drivers/foo/foo.h", "#ifndef _FOO_H\n#define _FOO_H\nvoid *module_alloc(unsigned long size);\nstatic inline void *foo_alloc(thing_t n) { return module_alloc(n << THING_SHIFT); }\n#endif\n")
        try write("drivers/foo/foo.c", "#include <linux/thing.h>\n#include \"foo.h\"\nint foo_user(void) { return foo_alloc(1) != 0; }\n")
        let parsed = try parse("drivers/foo/foo.h")
        XCTAssertEqual(parsed.errors.mainFile.map(\.message), [])
        XCTAssertEqual(parsed.prelude?.parts.map { URL(fileURLWithPath: $0.source).lastPathComponent }, ["foo.c"])
        XCTAssertEqual(parsed.prelude?.guardMacro, "_FOO_H")
        let summary = ParseSummary(parsed)
        XCTAssertEqual(summary.functions, ["foo_alloc"], "facts must come from the header's own lines")
        XCTAssertEqual(summary.calls.map(\.callee), ["module_alloc"])
        // The result cache is told about the includer, not the unsaved copy.
        XCTAssertTrue(parsed.inclusions.contains { $0.hasSuffix("drivers/foo/foo.c") }, "\(parsed.inclusions)")
        XCTAssertFalse(parsed.inclusions.contains { $0.contains(".kpolicy-prelude-") }, "\(parsed.inclusions)")
    }

    /// A header nothing includes keeps its plain parse.
    func testHeaderWithoutIncludersIsParsedAlone() throws {
        try write("drivers/foo/lonely.h", "static inline int lonely(void) { return undeclared_thing; }\n")
        let parsed = try parse("drivers/foo/lonely.h")
        XCTAssertNil(parsed.prelude)
        XCTAssertEqual(parsed.errors.mainFile.count, 1)
    }

    func testIncludeGuardAndBeginning() {
        XCTAssertEqual(HeaderIncluders.includeGuard(in: Array("/* c */\n#ifndef _A_H\n#define _A_H\n#endif\n".utf8)), "_A_H")
        XCTAssertNil(HeaderIncluders.includeGuard(in: Array("#ifdef X\n#define _A_H\n#endif\n".utf8)))
        let text = Array("#ifndef G\n#define G\n#ifdef CONFIG_A\n#include <b.h>\n#include <x.h>\n#endif\n#endif\n".utf8)
        let cut = HeaderIncluders.beginning(of: text, beforeLine: 4)
        XCTAssertTrue(cut.hasPrefix("#ifndef G\n#define G\n#ifdef CONFIG_A\n#include <b.h>\n"), cut)
        XCTAssertEqual(cut.components(separatedBy: "#endif").count - 1, 2, "both open conditionals closed: \(cut)")
        XCTAssertEqual(HeaderIncluders.includes(in: text).map(\.line), [3, 4])
    }

    /// A directory a parent Makefile builds only under an option
    /// (`obj-$(CONFIG_KMSAN) += kmsan/`) gates every file in it.
    func testParentDirectoryGatesItsFiles() throws {
        try write("mm/Makefile", "obj-y := core.o\nobj-$(CONFIG_SUBSYS) += sub/\n")
        try write("mm/sub/Makefile", "obj-y := one.o\nobj-$(CONFIG_SUBSYS_EXTRA) += two.o\n")
        try write("mm/sub/one.c", "#ifndef CONFIG_SUBSYS\n#error built only with CONFIG_SUBSYS\n#endif\nint one;\n")
        try write("mm/sub/two.c", "int two;\n")
        let workspace = try Workspace(tree: KernelTree(path: tree.path), cacheRoot: cache)
        XCTAssertEqual(workspace.gatingOptions(for: tree.appendingPathComponent("mm/sub/one.c"), arch: "x86"), ["SUBSYS"])
        XCTAssertEqual(workspace.gatingOptions(for: tree.appendingPathComponent("mm/sub/two.c"), arch: "x86"), ["SUBSYS", "SUBSYS_EXTRA"])
        XCTAssertEqual(try parse("mm/sub/one.c").errors.mainFile.map(\.message), [])
    }

    /// x86 files Kbuild names `foo_$(BITS).o` and the file is foo_32.c:
    /// built for i386 only, parsed as i386 (CONFIG_X86_32, no CONFIG_64BIT).
    func testX86ThirtyTwoBitFilesAreParsedAsI386() throws {
        try write("arch/x86/kernel/Makefile", "obj-y += setup.o\nobj-$(CONFIG_KEXEC_CORE) += machine_kexec_$(BITS).o\n")
        try write("arch/x86/kernel/machine_kexec_32.c", """
            #if defined(CONFIG_64BIT) || defined(CONFIG_X86_64) || !defined(CONFIG_X86_32) || !defined(CONFIG_KEXEC_CORE)
            #error not the i386 configuration
            #endif
            _Static_assert(sizeof(long) == 4, "not a 32-bit target");
            int kexec32;
            """)
        try write("arch/x86/kernel/machine_kexec_64.c", "#ifndef CONFIG_64BIT\n#error not 64-bit\n#endif\n_Static_assert(sizeof(long) == 8, \"64\");\n")
        XCTAssertEqual(try parse("arch/x86/kernel/machine_kexec_32.c").errors.mainFile.map(\.message), [])
        XCTAssertEqual(try parse("arch/x86/kernel/machine_kexec_64.c").errors.mainFile.map(\.message), [])
    }

    /// A .c file that another .c `#include`s (mm/percpu-vm.c in percpu.c)
    /// parses after that file's beginning.
    func testIncludedCFileIsParsedAfterItsIncluder() throws {
        try write("mm/sub/outer.c", "struct chunk { int pages; };\nstatic int shared;\n#include \"inner.c\"\nint outer;\n")
        try write("mm/sub/inner.c", "static int chunk_pages(struct chunk *c) { return c->pages + shared; }\n")
        let parsed = try parse("mm/sub/inner.c")
        XCTAssertEqual(parsed.errors.mainFile.map(\.message), [])
        XCTAssertEqual(parsed.prelude?.parts.map { URL(fileURLWithPath: $0.source).lastPathComponent }, ["outer.c"])
        XCTAssertEqual(ParseSummary(parsed).functions, ["chunk_pages"])
    }

    /// The options a gated file is parsed with include what they select
    /// and, of a `depends on A || B`, the first alternative that names no
    /// other arch.
    func testGatingFollowsSelectsAndTheAlternativeOfTheArch() throws {
        try write("Kconfig", """
            config SUBSYS_STATS
            	bool "statistics"
            	depends on DEBUG_FS
            	select SUBSYS_DEBUGFS
            	select SUBSYS_ONLY_SOMETIMES if ARM64

            config SUBSYS_HV
            	tristate "hypervisor"
            	depends on (ARM64 && !CPU_BIG_ENDIAN) || (X86 && HYPERVISOR_GUEST)

            """)
        try write("mm/sub/Makefile", "obj-$(CONFIG_SUBSYS_STATS) += stats.o\nobj-$(CONFIG_SUBSYS_HV) += hv.o\n")
        let workspace = try Workspace(tree: KernelTree(path: tree.path), cacheRoot: cache)
        let sub = tree.appendingPathComponent("mm/sub")
        XCTAssertEqual(workspace.gatingOptions(for: sub.appendingPathComponent("stats.c"), arch: "x86"), ["DEBUG_FS", "SUBSYS_DEBUGFS", "SUBSYS_STATS"])
        XCTAssertEqual(workspace.gatingOptions(for: sub.appendingPathComponent("hv.c"), arch: "x86"), ["HYPERVISOR_GUEST", "SUBSYS_HV", "X86"])
        XCTAssertEqual(workspace.gatingOptions(for: sub.appendingPathComponent("hv.c"), arch: "arm64"), ["ARM64", "SUBSYS_HV"])
        XCTAssertEqual(KconfigIndex.alternatives(of: "A || (B && !C) || (D || E)"), [["A"], ["B"], []])
    }

    /// `ccflags-y += $(INCLUDES)` with `INCLUDES += -I$(src)/inc` (atomisp)
    /// gives the directory, and `-D` words are given too (xe's i915
    /// compat); a parent's `subdir-ccflags-y` reaches a subdirectory with
    /// its own Makefile, its `ccflags-y` does not.
    func testMakefileVariablesAndDefinesInCcflags() throws {
        for sub in ["drivers/foo/inc", "drivers/foo/own"] {
            try FileManager.default.createDirectory(at: tree.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        try write("drivers/foo/Makefile", """
            foo = $(srctree)/drivers/foo
            INCLUDES += \\
            	-I$(foo)/inc
            ccflags-y += $(INCLUDES) -DFOO_LOCAL -Dfoo_object=foo_bo
            subdir-ccflags-y += -DFOO_EVERYWHERE=2
            obj-y += user.o own/
            """)
        try write("drivers/foo/own/Makefile", "obj-y += inner.o\n")
        try write("drivers/foo/inc/thing.h", "struct foo_bo { int size; };\n")
        try write("drivers/foo/user.c", """
            #include <thing.h>
            #if !defined(FOO_LOCAL) || FOO_EVERYWHERE != 2
            #error flags of the Makefile missing
            #endif
            int user(struct foo_object *o) { return o->size; }
            """)
        try write("drivers/foo/own/inner.c", "#if defined(FOO_LOCAL) || FOO_EVERYWHERE != 2\n#error wrong flags\n#endif\nint inner;\n")
        XCTAssertEqual(try parse("drivers/foo/user.c").errors.mainFile.map(\.message), [])
        XCTAssertEqual(try parse("drivers/foo/own/inner.c").errors.mainFile.map(\.message), [])
    }

    /// Objects inside `ifdef CONFIG_X` / `ifeq ($(CONFIG_X),y)` blocks,
    /// object lists held in variables, and objects a parent Makefile lists
    /// from a subdirectory without a Makefile are gated.
    func testMakefileConditionalsVariablesAndSubdirectoryObjects() throws {
        try FileManager.default.createDirectory(at: tree.appendingPathComponent("drivers/foo/display"), withIntermediateDirectories: true)
        try write("drivers/foo/Makefile", """
            ifdef CONFIG_HASH_MMU
            obj-y += hash.o
            else
            obj-y += nohash.o
            endif
            ifeq ($(CONFIG_TRACE),y)
            obj-y += trace.o
            endif
            e500-objs := e500_mmu.o e500_host.o
            kvm-objs-$(CONFIG_KVM_E500) := $(e500-objs)
            foo-$(CONFIG_FOO_DISPLAY) += display/screen.o
            """)
        let workspace = try Workspace(tree: KernelTree(path: tree.path), cacheRoot: cache)
        let dir = tree.appendingPathComponent("drivers/foo")
        XCTAssertEqual(workspace.gatingOptions(for: dir.appendingPathComponent("hash.c"), arch: "x86"), ["HASH_MMU"])
        XCTAssertEqual(workspace.gatingOptions(for: dir.appendingPathComponent("nohash.c"), arch: "x86"), [])
        XCTAssertEqual(workspace.gatingOptions(for: dir.appendingPathComponent("trace.c"), arch: "x86"), ["TRACE"])
        XCTAssertEqual(workspace.gatingOptions(for: dir.appendingPathComponent("e500_host.c"), arch: "x86"), ["KVM_E500"])
        XCTAssertEqual(workspace.gatingOptions(for: dir.appendingPathComponent("display/screen.c"), arch: "x86"), ["FOO_DISPLAY"])
    }

    /// The gating closure follows Kconfig as a build would: a choice the
    /// options make visible gets its default member, a member brings what
    /// its choice depends on, `select X if C` counts when C holds, options
    /// inside `if A ... endif` depend on A; a value default naming another
    /// option takes its value; `default y if C` turns an option on when C
    /// holds and its own dependencies are met (not for a negated C). The
    /// cache's form keeps all of it.
    func testKconfigChoicesConditionalSelectsAndIfBlocks() throws {
        let index = KconfigIndex(texts: ["""
            config MODULE_COMPRESS
            	bool "Module compression"

            choice
            	prompt "Module compression type"
            	depends on MODULE_COMPRESS

            config MODULE_COMPRESS_GZIP
            	bool "GZIP"

            config MODULE_COMPRESS_XZ
            	bool "XZ"

            endchoice

            config MODULE_DECOMPRESS
            	bool "in-kernel decompression"
            	depends on MODULE_COMPRESS
            	select ZLIB_INFLATE if MODULE_COMPRESS_GZIP
            	select XZ_DEC if MODULE_COMPRESS_XZ

            config PPC32
            	bool

            choice
            	prompt "Processor Type"
            	depends on PPC32
            	default PPC_BOOK3S_32

            config PPC_8xx
            	bool "8xx"

            config PPC_BOOK3S_32
            	bool "book3s32"

            endchoice

            if HYPERVISOR_GUEST
            config PARAVIRT
            	bool "paravirt"
            endif

            config RND_BITS_MIN
            	int
            	default 28

            config RND_BITS
            	int "bits"
            	default RND_BITS_MIN

            config RTC_DRV_RV3028
            	tristate "rv3028"
            	select REGMAP_I2C

            config REGMAP_I2C
            	tristate

            config REGMAP
            	bool
            	default y if (REGMAP_I2C || REGMAP_SPI)

            config REGMAP_DEBUG
            	bool
            	depends on DEBUG_FS
            	default y if REGMAP

            config NO_REGMAP
            	bool
            	default y if !REGMAP
            """])
        XCTAssertEqual(Set(index.closure(of: ["MODULE_DECOMPRESS"])), ["MODULE_DECOMPRESS", "MODULE_COMPRESS", "MODULE_COMPRESS_GZIP", "ZLIB_INFLATE"])
        XCTAssertEqual(Set(index.closure(of: ["PPC_8xx"])), ["PPC_8xx", "PPC32"], "a member, not the default, and the choice's dependency")
        XCTAssertEqual(Set(index.closure(of: ["PPC32"])), ["PPC32", "PPC_BOOK3S_32"])
        XCTAssertEqual(Set(index.closure(of: ["PARAVIRT"])), ["PARAVIRT", "HYPERVISOR_GUEST"])
        XCTAssertEqual(Set(index.closure(of: ["RTC_DRV_RV3028"])), ["RTC_DRV_RV3028", "REGMAP_I2C", "REGMAP"],
                       "REGMAP by its default; REGMAP_DEBUG's DEBUG_FS is off; a negated condition is never taken")
        XCTAssertEqual(Set(index.closure(of: ["RTC_DRV_RV3028", "DEBUG_FS"])), ["RTC_DRV_RV3028", "REGMAP_I2C", "REGMAP", "DEBUG_FS", "REGMAP_DEBUG"])
        XCTAssertTrue(index.valueDefaults(excluding: []).contains("#define CONFIG_RND_BITS 28"), "\(index.valueDefaults(excluding: []))")
        XCTAssertEqual(index.choiceDefaults(on: ["PPC32"], disabled: []), ["PPC_BOOK3S_32"])
        XCTAssertEqual(index.choiceDefaults(on: [], disabled: []), [])
        let copy = try XCTUnwrap(KconfigIndex(serialized: index.serialized()))
        XCTAssertEqual(copy.serialized(), index.serialized())
        XCTAssertEqual(Set(copy.closure(of: ["MODULE_DECOMPRESS"])), Set(index.closure(of: ["MODULE_DECOMPRESS"])))
        XCTAssertEqual(Set(copy.closure(of: ["RTC_DRV_RV3028"])), Set(index.closure(of: ["RTC_DRV_RV3028"])))
        XCTAssertEqual(copy.choices.map(\.members), [["MODULE_COMPRESS_GZIP", "MODULE_COMPRESS_XZ"], ["PPC_8xx", "PPC_BOOK3S_32"]])
        XCTAssertEqual(copy.choices.map(\.condition), ["MODULE_COMPRESS", "PPC32"])
    }

    /// A powerpc file Kbuild builds only for 8xx is parsed as 32-bit 8xx;
    /// a header included only in the `#else` of `#ifdef CONFIG_PPC_BOOK3S`
    /// asks for a sub-arch without it.
    func testPowerpcSubArchitectures() throws {
        for sub in ["arch/powerpc/include/asm", "arch/powerpc/mm/nohash"] {
            try FileManager.default.createDirectory(at: tree.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        try write("arch/powerpc/mm/nohash/Makefile", "obj-$(CONFIG_PPC_8xx) += 8xx.o\nobj-y += tlb.o\n")
        try write("arch/powerpc/mm/nohash/8xx.c", """
            #if defined(CONFIG_PPC64) || defined(CONFIG_PPC_BOOK3S_64) || !defined(CONFIG_PPC_8xx) || !defined(CONFIG_PPC32)
            #error not the 8xx configuration
            #endif
            _Static_assert(sizeof(long) == 4, "not a 32-bit target");
            int mmu_8xx;
            """)
        try write("arch/powerpc/mm/nohash/tlb.c", "#ifndef CONFIG_PPC64\n#error not ppc64\n#endif\n_Static_assert(sizeof(long) == 8, \"64\");\n")
        XCTAssertEqual(try parse("arch/powerpc/mm/nohash/8xx.c").errors.mainFile.map(\.message), [])
        XCTAssertEqual(try parse("arch/powerpc/mm/nohash/tlb.c").errors.mainFile.map(\.message), [])

        let text = Array("#ifdef CONFIG_PPC_BOOK3S\n#include <asm/book3s/pgtable.h>\n#else\n#include <asm/nohash/pgtable.h>\n#endif\n".utf8)
        XCTAssertEqual(HeaderIncluders.requirements(of: text, beforeLine: 1), ["PPC_BOOK3S": true])
        XCTAssertEqual(HeaderIncluders.requirements(of: text, beforeLine: 3), ["PPC_BOOK3S": false])
        XCTAssertEqual(HeaderIncluders.requirements(of: Array("#if IS_ENABLED(CONFIG_A)\n#elif B\n#include <x.h>\n".utf8), beforeLine: 2), [:])
        let workspace = try Workspace(tree: KernelTree(path: tree.path), cacheRoot: cache)
        XCTAssertEqual(workspace.subArchitecture(arch: "powerpc", meeting: ["PPC_BOOK3S": false])?.name, "powerpc 8xx")
        XCTAssertEqual(workspace.subArchitecture(arch: "powerpc", meeting: ["PPC_BOOK3S": true, "PPC64": false])?.name, "32-bit book3s powerpc")
        XCTAssertNil(workspace.subArchitecture(arch: "powerpc", meeting: ["PPC64": true]), "the default configuration meets it")
    }

    /// A file outside arch/ gated on an option that needs a capability only
    /// another arch selects (kernel/scs.c: ARCH_SUPPORTS_SHADOW_CALL_STACK)
    /// is parsed for that arch.
    func testFileNeedingAnotherArchsCapabilityIsParsedForIt() throws {
        for sub in ["arch/arm64/include/asm", "kernel"] {
            try FileManager.default.createDirectory(at: tree.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        // ACCOUNTING_GEN: only arm64 selects it, but it is also `default y
        // if 64BIT`, which NUMA's closure holds: a consequence of NUMA, not
        // a need (mm/numa.c was parsed as powerpc that way).
        try write("Kconfig", "config SHADOW_STACK\n\tbool \"shadow stack\"\n\tdepends on ARCH_SUPPORTS_SHADOW_STACK\n\nconfig ARCH_SUPPORTS_SHADOW_STACK\n\tbool\n\nconfig 64BIT\n\tbool\n\nconfig NUMA\n\tbool \"numa\"\n\tdepends on 64BIT\n\nconfig ACCOUNTING_GEN\n\tbool\n\tdefault y if 64BIT\n")
        try write("arch/x86/Kconfig", "config X86\n\tdef_bool y\n\tselect HAVE_OTHER\n")
        try write("arch/arm64/Kconfig", "config ARM64\n\tdef_bool y\n\tselect ARCH_SUPPORTS_SHADOW_STACK if CC_HAVE_SHADOW_STACK\n\tselect ACCOUNTING_GEN\n")
        try write("kernel/Makefile", "obj-y += fork.o\nobj-$(CONFIG_SHADOW_STACK) += shadow.o\nobj-$(CONFIG_NUMA) += numa.o\n")
        let workspace = try Workspace(tree: KernelTree(path: tree.path), cacheRoot: cache)
        XCTAssertEqual(try workspace.configuration(for: tree.appendingPathComponent("kernel/shadow.c")).arch, "arm64")
        XCTAssertEqual(try workspace.configuration(for: tree.appendingPathComponent("kernel/fork.c")).arch, "x86")
        XCTAssertEqual(try workspace.configuration(for: tree.appendingPathComponent("kernel/numa.c")).arch, "x86")
    }

    /// The generated syscall headers carry what scripts/syscallhdr.sh
    /// --emit-nr writes: `__NR_syscalls` (arm64 sys.c and syscall.c,
    /// kernel/trace/trace_syscalls.c use NR_syscalls), with the ABIs the
    /// arch adds in kernel/Makefile.syscalls.
    func testSyscallHeadersCountTheSyscallsOfTheArchsABIs() throws {
        for sub in ["scripts", "arch/arm64/kernel"] {
            try FileManager.default.createDirectory(at: tree.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        try write("scripts/syscall.tbl", "# comment\n0\tcommon\tio_setup\tsys_io_setup\n1\t32\tonly32\tsys_only32\n163\trlimit\tgetrlimit\tsys_getrlimit\n")
        try write("arch/arm64/kernel/Makefile.syscalls", "syscall_abis_32 +=\nsyscall_abis_64 += renameat rlimit memfd_secret\n")
        let headers = SyscallHeaders.headers(tree: try KernelTree(path: tree.path), arch: "arm64")
        let text = try XCTUnwrap(headers.first { $0.0.hasSuffix("unistd_64.h") }?.1)
        XCTAssertTrue(text.contains("#define __NR_io_setup 0\n"), text)
        XCTAssertTrue(text.contains("#define __NR_getrlimit 163\n"), text)
        XCTAssertFalse(text.contains("only32"), text)
        XCTAssertTrue(text.contains("#ifdef __KERNEL__\n#define __NR_syscalls 164\n#endif"), text)
    }

    /// When the whole includer chain leaves errors in the header (the
    /// outermost .c's beginning pulls in generic fallbacks while the
    /// header's body is held off, then the header's own definitions
    /// clash), the chain without that .c is tried and kept if better.
    func testShorterPreludeWhenTheOutermostIncluderBringsFallbacks() throws {
        try write("arch/x86/include/asm/pg.h", "#ifndef _ASM_PG_H\n#define _ASM_PG_H\ntypedef unsigned long pte_word;\n#include <asm/pg-sub.h>\n#endif\n")
        try write("arch/x86/include/asm/pg-sub.h", "#ifndef _ASM_PG_SUB_H\n#define _ASM_PG_SUB_H\n#define HAVE_ARCH_PTE_GET\nstatic inline pte_word pte_get(pte_word *p) { return *p; }\n#endif\n")
        try write("include/linux/pgtable.h", "#include <asm/pg.h>\n#ifndef HAVE_ARCH_PTE_GET\nstatic inline pte_word pte_get(pte_word *p) { return 0; }\n#endif\n")
        try write("arch/x86/kernel/user.c", "#include <linux/pgtable.h>\n#include <asm/pg.h>\nint user(pte_word *p) { return pte_get(p) != 0; }\n")
        let parsed = try parse("arch/x86/include/asm/pg-sub.h")
        XCTAssertEqual(parsed.errors.mainFile.map(\.message), [])
        XCTAssertEqual(parsed.prelude?.parts.map { URL(fileURLWithPath: $0.source).lastPathComponent }, ["pg.h"])
        XCTAssertEqual(ParseSummary(parsed).functions, ["pte_get"])
    }

    /// riscv is parsed with arch/riscv/Makefile's -mcmodel=medany (the
    /// code model Kconfig chooses for 64BIT): mm/init.c has an #error
    /// without it. No header error either: its -march is one libclang
    /// accepts (with rv64imac_zicsr_zifencei every riscv parse had "invalid
    /// arch name"), PGTABLE_LEVELS is 64BIT's 5 (include/linux/pgtable.h
    /// checks it against the folded levels), MODULE_SECTIONS gives
    /// asm/module.h's struct mod_arch_specific.
    func testRiscvCodeModelISAAndConfiguration() throws {
        let real = try RealTrees.path("6.12")
        let r = try KPolicyBinary.run(["parse", real + "/arch/riscv/mm/init.c", "--tree", real, "--format", "json"], environment: ["KPOLICY_CACHE": cache.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let file = try XCTUnwrap((report["files"] as? [[String: Any]])?.first)
        XCTAssertEqual(file["arch"] as? String, "riscv")
        XCTAssertEqual((file["mainFileErrors"] as? [String]) ?? ["missing"], [], r.stdout)
        let headerErrors = try XCTUnwrap(file["headerErrors"] as? [String])
        XCTAssertEqual(headerErrors, [])
    }

    /// xe's generated workaround headers are numbered from the rules file
    /// of the same stem, with the header's name as prefix: 7.x's
    /// generated/xe_device_wa_oob.h gives XE_DEVICE_WA_OOB_* (an empty
    /// stand-in left every XE_DEVICE_WA() an undeclared identifier).
    func testXeWorkaroundHeadersAreNumberedFromTheirRules() throws {
        try FileManager.default.createDirectory(at: tree.appendingPathComponent("drivers/gpu/drm/xe"), withIntermediateDirectories: true)
        try write("drivers/gpu/drm/xe/xe_wa_oob.rules", "1409600907\tGRAPHICS_VERSION(1200)\n# comment\n14016712196\tGRAPHICS_VERSION(1200)\n\t\tGRAPHICS_VERSION(1250)\n")
        try write("drivers/gpu/drm/xe/xe_device_wa_oob.rules", "22010954014\tPLATFORM(DG2)\n22019338487_display\tPLATFORM(LUNARLAKE)\n")
        try write("drivers/gpu/drm/xe/Makefile", "obj-y += xe.o\nxe-y += xe_device.o\n")
        try write("drivers/gpu/drm/xe/xe_device.c", """
            #include <generated/xe_device_wa_oob.h>
            #include <generated/xe_wa_oob.h>
            int device_wa[_XE_DEVICE_WA_OOB_COUNT == 2 ? 1 : -1] = { XE_DEVICE_WA_OOB_22019338487_display };
            int gt_wa[_XE_WA_OOB_COUNT == 2 ? 1 : -1] = { XE_WA_OOB_14016712196 };

            """)
        XCTAssertEqual(try parse("drivers/gpu/drm/xe/xe_device.c").errors.mainFile.map(\.message), [])
    }

    /// A `choice` inside `if A ... endif` depends on A, as Kconfig reads it:
    /// 7.x's module compression choice sits in `if MODULE_COMPRESS` (6.12's
    /// said `depends on MODULE_COMPRESS`), and kernel/module/decompress.c
    /// has an `#error` unless one algorithm of it is on.
    func testChoiceInsideAnIfBlockDependsOnIt() throws {
        try FileManager.default.createDirectory(at: tree.appendingPathComponent("kernel/module"), withIntermediateDirectories: true)
        try write("Kconfig", """
            config MODULE_COMPRESS
            \tbool "Module compression"

            if MODULE_COMPRESS

            choice
            \tprompt "Module compression type"

            config MODULE_COMPRESS_GZIP
            \tbool "GZIP"

            config MODULE_COMPRESS_XZ
            \tbool "XZ"

            endchoice

            config MODULE_DECOMPRESS
            \tbool "Support in-kernel module decompression"
            \tselect ZLIB_INFLATE if MODULE_COMPRESS_GZIP

            endif # MODULE_COMPRESS

            """)
        try write("kernel/module/Makefile", "obj-y += main.o\nobj-$(CONFIG_MODULE_DECOMPRESS) += decompress.o\n")
        try write("kernel/module/decompress.c", """
            #if defined(CONFIG_MODULE_COMPRESS_GZIP) && defined(CONFIG_ZLIB_INFLATE)
            int gzip;
            #else
            #error "Unexpected configuration for CONFIG_MODULE_DECOMPRESS"
            #endif

            """)
        let workspace = try Workspace(tree: KernelTree(path: tree.path), cacheRoot: cache)
        let options = workspace.gatingOptions(for: tree.appendingPathComponent("kernel/module/decompress.c"), arch: "x86")
        XCTAssertTrue(options.contains("MODULE_COMPRESS_GZIP"), "\(options)")
        XCTAssertFalse(options.contains("MODULE_COMPRESS_XZ"), "\(options)")
        XCTAssertEqual(try parse("kernel/module/decompress.c").errors.mainFile.map(\.message), [])
    }

    /// What the default configuration's options select is on, as Kconfig
    /// forces it (7.x's TRANSPARENT_HUGEPAGE selects MM_ID, which `struct
    /// mm_struct` needs for `mm_id`), except the options left off on purpose.
    func testDefaultConfigurationHasWhatItsOptionsSelect() throws {
        try write("Kconfig", """
            config MM_ID
            \tdef_bool n

            config TRANSPARENT_HUGEPAGE
            \tbool "Transparent Hugepage Support"
            \tselect MM_ID
            \tselect OPTPROBES
            \tselect THP_SWAP if SWAP
            \tselect GUP_GET_PXX_LOW_HIGH\t\tif X86_PAE

            config THP_SWAP
            \tdef_bool n

            config OPTPROBES
            \tdef_bool n

            """)
        try write("mm/huge.c", "#if !defined(CONFIG_MM_ID) || !defined(CONFIG_THP_SWAP)\n#error MM_ID and THP_SWAP are selected\n#endif\n#ifdef CONFIG_OPTPROBES\n#error left off on purpose\n#endif\n#ifdef CONFIG_GUP_GET_PXX_LOW_HIGH\n#error a select under a condition that does not hold\n#endif\nint huge;\n")
        XCTAssertEqual(try parse("mm/huge.c").errors.mainFile.map(\.message), [])
    }

    /// PGTABLE_LEVELS is what the tree's Kconfig gives the configuration:
    /// 6.x x86 has 5 levels only with X86_5LEVEL (4 otherwise), 7.x always
    /// (arch/x86/hyperv/hv_crash.c uses a `p4d_t` as a table of its own).
    func testPageTableLevelsComeFromTheTreesKconfig() throws {
        try FileManager.default.createDirectory(at: tree.appendingPathComponent("arch/x86"), withIntermediateDirectories: true)
        try write("Kconfig", "source \"arch/$(SRCARCH)/Kconfig\"\n")
        let kernelTree = try KernelTree(path: tree.path)
        func levels(_ kconfig: String) throws -> String? {
            try write("arch/x86/Kconfig", kconfig)
            let text = DefaultConfig.autoconf(arch: "x86", tree: kernelTree, kconfig: KconfigIndex(tree: kernelTree, arch: "x86"))
            return text.split(separator: "\n").first { $0.hasPrefix("#define CONFIG_PGTABLE_LEVELS ") }.map { String($0.split(separator: " ")[2]) }
        }
        XCTAssertEqual(try levels("config X86_64\n\tdef_bool y\n\nconfig PGTABLE_LEVELS\n\tint\n\tdefault 5 if X86_64\n\tdefault 3 if X86_PAE\n\tdefault 2\n"), "5")
        XCTAssertEqual(try levels("config X86_64\n\tdef_bool y\n\nconfig PGTABLE_LEVELS\n\tint\n\tdefault 5 if X86_5LEVEL\n\tdefault 4 if X86_64\n\tdefault 2\n"), "4")
        // An arch whose table sets it keeps its own (riscv: 5).
        XCTAssertEqual(DefaultConfig.options(arch: "riscv").first { $0.0 == "PGTABLE_LEVELS" }?.1, .number("5"))
    }

    /// With a libclang that targets LoongArch (17 and later), a LoongArch
    /// file is parsed for loongarch64 with the arch Makefile's flags and the
    /// arch's default configuration (16 KiB pages, 3 levels).
    func testLoongArchIsParsedForItsOwnTarget() throws {
        if let reason = ArchSupport().unsupportedReason(arch: "loongarch") { throw XCTSkip(reason) }
        for sub in ["arch/loongarch/include/asm", "arch/loongarch/kernel"] {
            try FileManager.default.createDirectory(at: tree.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        try write("arch/loongarch/kernel/setup.c", """
            #if !defined(__loongarch64) || !defined(__loongarch_soft_float)
            #error not a soft-float loongarch64 target
            #endif
            #if CONFIG_PAGE_SHIFT != 14 || CONFIG_PGTABLE_LEVELS != 3 || !defined(CONFIG_LOONGARCH)
            #error not LoongArch's default configuration
            #endif
            _Static_assert(sizeof(long) == 8, "64-bit");

            """)
        let parsed = try parse("arch/loongarch/kernel/setup.c")
        XCTAssertEqual(parsed.errors.mainFile.map(\.message), [])
        XCTAssertEqual(parsed.errors.headers.map(\.message), [])
    }

    /// A `depends on` that is a conjunction with a compound term still
    /// gives its plain symbols (SNET_VDPA: `PCI_MSI && PCI_IOV && (HWMON ||
    /// HWMON=n)`; without PCI_IOV, `struct pci_dev` has no `physfn`).
    func testDependsOnConjunctionWithACompoundTerm() {
        let index = KconfigIndex(texts: ["config SNET_VDPA\n\ttristate \"snet\"\n\tdepends on PCI_MSI && PCI_IOV && (HWMON || HWMON=n)\n\nconfig OTHER\n\tbool\n\tdepends on A && !B\n"])
        XCTAssertEqual(index.entries["SNET_VDPA"]?.dependsOn, ["PCI_MSI", "PCI_IOV"])
        XCTAssertEqual(index.entries["OTHER"]?.dependsOn, ["A"])
        XCTAssertEqual(index.closure(of: ["SNET_VDPA"]).sorted(), ["PCI_IOV", "PCI_MSI", "SNET_VDPA"])
        XCTAssertEqual(KconfigIndex.conjuncts(of: "A || B"), [])
    }

    /// What holds for any 7.x tree (the newest Debian carries): x86's
    /// generated asm/cpufeaturemasks.h (cpu_feature_enabled() needs its
    /// DISABLED_MASK_BIT_SET), the module compression choice inside `if
    /// MODULE_COMPRESS`, TRANSPARENT_HUGEPAGE's MM_ID: files that need one
    /// of them parse without errors in the file. Files a later 7.x no
    /// longer has are left out.
    func testNewestTreeParsesWhatItsBuildGenerates() throws {
        let real = try RealTrees.newest()
        let files = ["mm/execmem.c", "kernel/module/decompress.c", "mm/khugepaged.c"]
            .filter { FileManager.default.fileExists(atPath: real + "/" + $0) }
        XCTAssertFalse(files.isEmpty)
        let r = try KPolicyBinary.run(["parse"] + files.map { real + "/" + $0 } + ["--tree", real, "--format", "json"],
                                      environment: ["KPOLICY_CACHE": cache.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let parsed = try XCTUnwrap(report["files"] as? [[String: Any]])
        XCTAssertEqual(parsed.count, files.count)
        for file in parsed {
            XCTAssertEqual((file["mainFileErrors"] as? [String]) ?? ["missing"], [], "\(file["file"] ?? "")")
        }
    }
}
