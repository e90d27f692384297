import ClangKit
import Foundation
import XCTest
@testable import KPolicy
import KernelModel
import KPolicyFiles
@testable import Kbuild
@testable import Parse

final class WorkspaceTests: XCTestCase {
    func testVersionFromMakefile() {
        let v = KernelTree.parseVersion(makefile: "# SPDX\nVERSION = 6\nPATCHLEVEL = 12\nSUBLEVEL = 117\nEXTRAVERSION = -rc1\nNAME = x\n")
        XCTAssertEqual(v, KernelVersion(6, 12, 117, extraversion: "-rc1"))
        XCTAssertNil(KernelTree.parseVersion(makefile: "all:\n\techo\n"))
        XCTAssertTrue(KernelVersion(6, 1, 192) < KernelVersion(6, 10))
    }

    func testNotAKernelTree() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nk-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        XCTAssertThrowsError(try KernelTree(path: dir.path)) { error in
            guard case KPolicyError.notAKernelTree = error else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try KernelTree(path: dir.appendingPathComponent("missing").path))
    }

    func testDotConfigConversion() {
        let text = GeneratedHeaders.autoconf(fromDotConfig: "CONFIG_A=y\nCONFIG_B=m\n# CONFIG_C is not set\nCONFIG_D=64\nCONFIG_E=\"x\"\n")
        XCTAssertTrue(text.contains("#define CONFIG_A 1\n"))
        XCTAssertTrue(text.contains("#define CONFIG_B_MODULE 1\n"))
        XCTAssertFalse(text.contains("CONFIG_C"))
        XCTAssertTrue(text.contains("#define CONFIG_D 64\n"))
        XCTAssertTrue(text.contains("#define CONFIG_E \"x\"\n"))
    }

    func testCompileCommandsKeepOnlyPreprocessorFlags() {
        let words = CompileCommands.split(#"gcc -Wp,-MMD -nostdinc -I./arch/x86/include -Iinclude -include ./include/linux/kconfig.h -D__KERNEL__ -DKBUILD_MODNAME='"core"' -mindirect-branch=thunk-extern -fconserve-stack -c -o a.o a.c"#)
        let kept = CompileCommands.keep(words, directory: "/k")
        XCTAssertEqual(kept, ["-nostdinc", "-I/k/arch/x86/include", "-I/k/include", "-include", "/k/include/linux/kconfig.h",
                              "-D__KERNEL__", "-DKBUILD_MODNAME=\"core\""])
    }

    /// The five files the foundation issue names parse under the default
    /// configuration with no error inside the file, and the functions the
    /// compiler would see are there.
    func testRealFilesOf612ParseWithoutMainFileErrors() throws {
        let root = try RealTrees.path("6.12")
        let cache = FileManager.default.temporaryDirectory.appendingPathComponent("kpolicy-cache-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: cache) }
        let workspace = try Workspace(tree: KernelTree(path: root), cacheRoot: cache)
        XCTAssertEqual(workspace.tree.version.series, "6.12")
        let parser = try SourceParser(workspace: workspace)
        let expected: [String: [String]] = [
            "kernel/bpf/core.c": ["bpf_prog_pack_alloc", "bpf_prog_pack_free", "bpf_jit_binary_pack_alloc", "bpf_jit_alloc_exec"],
            "mm/vmalloc.c": ["vfree", "vmap", "__vmalloc_node_range_noprof", "vm_area_map_pages", "vmalloc_huge_noprof"],
            "kernel/kprobes.c": ["alloc_insn_page", "free_insn_page", "register_kprobe"],
            "drivers/misc/sram-exec.c": ["sram_exec_copy", "sram_check_protect_exec"],
            "arch/arm64/kernel/probes/kprobes.c": ["alloc_insn_page", "arch_prepare_kprobe"],
        ]
        for (file, functions) in expected.sorted(by: { $0.key < $1.key }) {
            let parsed = try parser.parse(URL(fileURLWithPath: root + "/" + file))
            let summary = ParseSummary(parsed)
            XCTAssertEqual(summary.mainFileErrors, [], file)
            for f in functions { XCTAssertTrue(summary.functions.contains(f), "\(file): \(f) missing") }
            // sram-exec.c needs asm/fncpy.h, which only 32-bit Arm has.
            let arch = file.hasPrefix("arch/arm64") ? "arm64" : file.hasPrefix("drivers/misc") ? "arm" : "x86"
            XCTAssertEqual(summary.arch, arch, file)
        }
        // Nothing was written into the tree.
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/include/generated"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/arch/x86/include/generated"))
    }

    /// Calls keep both names: the macro written at the call site and the
    /// function the compiler resolved it to.
    func testSpelledAndResolvedCalleeIn612() throws {
        let root = try RealTrees.path("6.12")
        let workspace = try Workspace(tree: KernelTree(path: root))
        let parsed = try SourceParser(workspace: workspace).parse(URL(fileURLWithPath: root + "/kernel/bpf/core.c"))
        let calls = ParseSummary(parsed).calls
        XCTAssertTrue(calls.contains { $0.spelled == "vmalloc" && $0.callee == "vmalloc_noprof" } ||
                      calls.contains { $0.spelled == "__vmalloc" && $0.callee == "__vmalloc_noprof" },
                      "\(calls.filter { $0.callee.hasSuffix("_noprof") }.prefix(5))")
        XCTAssertTrue(calls.contains { $0.callee == "execmem_alloc" && $0.function == "bpf_jit_alloc_exec" })
    }
}

final class KconfigTests: XCTestCase {
    func testValueDefaultsAndDependencies() {
        let index = KconfigIndex(texts: ["""
            config CMA
            \tbool "Contiguous Memory Allocator"
            \tdepends on MMU && HAVE_MEMBLOCK

            config CMA_DEBUGFS
            \tbool "CMA debugfs interface"
            \tdepends on CMA && DEBUG_FS

            config CMA_AREAS
            \tint "Maximum count of the CMA areas"
            \tdefault 20 if NUMA
            \tdefault 8

            config MODPROBE_PATH
            \tstring "Path to modprobe binary"
            \tdefault "/sbin/modprobe"

            config ODD
            \tint
            \tdefault FOO_SHIFT

            config SELECTOR
            \tbool
            \tselect CMA
            \tdepends on ODD || (CMA && MMU)
            """])
        XCTAssertEqual(Set(index.closure(of: ["CMA_DEBUGFS"])), ["CMA_DEBUGFS", "CMA", "DEBUG_FS", "MMU", "HAVE_MEMBLOCK"])
        XCTAssertEqual(index.valueDefaults(excluding: []), ["#define CONFIG_CMA_AREAS 8", "#define CONFIG_MODPROBE_PATH \"/sbin/modprobe\""])
        XCTAssertEqual(index.valueDefaults(excluding: ["CMA_AREAS"]), ["#define CONFIG_MODPROBE_PATH \"/sbin/modprobe\""])
        // The cache's form gives the same answers; anything else is no index.
        let copy = KconfigIndex(serialized: index.serialized())
        XCTAssertNotNil(copy)
        XCTAssertEqual(copy?.serialized(), index.serialized())
        XCTAssertEqual(Set(copy?.closure(of: ["CMA_DEBUGFS"]) ?? []), Set(index.closure(of: ["CMA_DEBUGFS"])))
        XCTAssertEqual(copy?.valueDefaults(excluding: []), index.valueDefaults(excluding: []))
        XCTAssertEqual(copy?.entries["CMA_AREAS"]?.defaults.map(\.1), ["NUMA", nil])
        XCTAssertEqual(copy?.entries["SELECTOR"]?.selects, ["CMA"])
        XCTAssertFalse(index.entries["SELECTOR"]?.alternatives.isEmpty ?? true)
        XCTAssertEqual(copy?.entries["SELECTOR"]?.alternatives, index.entries["SELECTOR"]?.alternatives)
        XCTAssertNil(KconfigIndex(serialized: Data("{\"entries\": {}}".utf8)))
    }

    func testMakefileGates() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gates-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try """
            obj-y := core.o
            obj-$(CONFIG_CMA)\t+= cma.o
            obj-${CONFIG_BPF_LSM} += bpf_lsm.o
            obj-$(CONFIG_ZSWAP) += zsw.o
            zsw-y := zswap.o \\
            \tzswap_pool.o
            """.write(to: dir.appendingPathComponent("Makefile"), atomically: true, encoding: .utf8)
        let gates = MakefileGates(directory: dir)
        XCTAssertEqual(gates.gates["core.o"], [])
        XCTAssertEqual(gates.gates["cma.o"], ["CMA"])
        XCTAssertEqual(gates.gates["bpf_lsm.o"], ["BPF_LSM"])
        XCTAssertEqual(gates.gates["zswap_pool.o"], ["ZSWAP"])
    }
}
