import Foundation
import KernelModel
@testable import KPolicy
import XCTest
@testable import Kbuild
@testable import Analysis

/// A tree's capabilities are read from its own files; the catalogue's
/// versions are only what the reading is held to on the trees kpolicy
/// knows.
final class TreeCapabilitiesTests: XCTestCase {
    func read(_ series: String) throws -> TreeCapabilities {
        let tree = try KernelTree(path: try RealTrees.path(series))
        return TreeCapabilitiesReader.read(tree: tree.root, version: tree.version)
    }

    /// A scratch directory and a writer of files in it.
    func scratch(_ name: String) -> (root: URL, write: (String, String) throws -> Void) {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)")
        return (root, { path, text in
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        })
    }

    /// The 6.1 and 6.12 expectations (what the model was written from) are
    /// exactly what the trees declare.
    func testTheDebianTreesAreWhatTheCatalogueExpects() throws {
        for series in ["6.1", "6.12"] {
            let derived = try read(series)
            let expected = TreeCapabilities.expected(for: derived.version)
            XCTAssertEqual(derived.declared.sorted(), expected.declared.sorted(), series)
            XCTAssertEqual(derived.bpfArchTextCopy, expected.bpfArchTextCopy, series)
            XCTAssertEqual(derived.roxCache, expected.roxCache, series)
        }
    }

    /// What holds for any 7.x, read from the newest tree Debian carries.
    func testTheNewestTreeHasTheExecmemAPIOfSevenX() throws {
        let seven = try read("7")
        XCTAssertGreaterThanOrEqual(seven.version.version, 7)
        for api in ["execmem_alloc", "execmem_alloc_rw", "execmem_restore_rox", "execmem_is_rox", "set_memory_rox", "smp_text_poke_single"] {
            XCTAssertTrue(seven.has(api), api)
        }
        XCTAssertFalse(seven.has("module_alloc"))
        XCTAssertFalse(seven.has("text_poke_bp"))
        XCTAssertEqual(seven.generation, .v6_12)
        let x86 = seven.roxCache[.x86_64] ?? []
        XCTAssertTrue(x86.isSuperset(of: [.moduleText, .kprobes, .ftrace, .bpf]), "\(x86)")
        XCTAssertFalse(x86.contains(.moduleData), "module data is never executable")
    }

    /// `execmem_arch_setup()` read as text: a flag through a local, a flag
    /// written directly, a range without it, and an arch whose Kconfig does
    /// not select ARCH_HAS_EXECMEM_ROX (mm/execmem.c clears the flag there).
    func testROXCacheIsReadFromTheArchSetup() throws {
        let (root, write) = scratch("caps")
        defer { try? FileManager.default.removeItem(at: root) }
        let setup = """
            /* execmem_alloc_rw(int type, unsigned long size); in a comment is not a declaration */
            struct execmem_info __init *execmem_arch_setup(void)
            {
            \tenum execmem_range_flags flags;

            \tif (IS_ENABLED(CONFIG_ARCH_HAS_EXECMEM_ROX))
            \t\tflags = EXECMEM_KASAN_SHADOW | EXECMEM_ROX_CACHE;
            \telse
            \t\tflags = EXECMEM_KASAN_SHADOW;
            \texecmem_info = (struct execmem_info){
            \t\t.ranges = {
            \t\t\t[EXECMEM_MODULE_TEXT] = { .flags = flags, .start = 1, },
            \t\t\t[EXECMEM_BPF] = { .start = 1, .flags = EXECMEM_ROX_CACHE },
            \t\t\t[EXECMEM_MODULE_DATA] = { .flags = EXECMEM_KASAN_SHADOW, },
            \t\t},
            \t};
            \treturn &execmem_info;
            }
            """
        try write("arch/x86/Kconfig", "config X86\n\tselect ARCH_HAS_EXECMEM_ROX\t\tif X86_64\n")
        try write("arch/x86/mm/init.c", setup)
        try write("arch/arm64/Kconfig", "config ARM64\n\tselect ARCH_HAS_SET_MEMORY\n")
        try write("arch/arm64/mm/init.c", setup)
        try write("include/linux/execmem.h", "/* void *execmem_alloc_rw(int type, unsigned long size); */\nvoid *execmem_alloc(int type, unsigned long size);\n")
        try write("arch/riscv/net/bpf_jit_core.c", "void *bpf_arch_text_copy(void *dst, void *src, size_t len)\n{\n}\n")
        try write("arch/arm64/net/bpf_jit_comp.c", "static int f(void)\n{\n\tbpf_arch_text_copy(a, b, 4);\n}\n")
        let caps = TreeCapabilitiesReader.read(tree: root, version: KernelVersion(7, 0))
        XCTAssertEqual(caps.roxCache[.x86_64], [.moduleText, .bpf])
        XCTAssertNil(caps.roxCache[.arm64], "no ARCH_HAS_EXECMEM_ROX: no ROX cache")
        XCTAssertTrue(caps.has("execmem_alloc"))
        XCTAssertFalse(caps.has("execmem_alloc_rw"), "a declaration inside a comment does not count")
        XCTAssertTrue(caps.bpfArchTextCopy.contains(.riscv64))
        XCTAssertFalse(caps.bpfArchTextCopy.contains(.arm64), "a call is not a definition")
        // What the scratch tree has no file for is what its version predicts.
        XCTAssertTrue(caps.has("set_memory_rox"), "no include/linux/set_memory.h: predicted from 7.0")
        XCTAssertTrue(caps.bpfArchTextCopy.contains(.x86_64), "no arch/x86/net: predicted from 7.0")
        XCTAssertNil(caps.roxCache[.s390], "no arch/s390/Kconfig: predicted from 7.0, no cache")
    }

    /// A tree between 6.2 and 6.9 has set_memory_rox() and no execmem: the
    /// advice and the diff of `--format patch` both use set_memory_rox;
    /// without the header's set_memory_rox() both fall back to ro then x.
    func testAdviceAndPatchAgreeOnATreeBetweenSixTwoAndSixTen() throws {
        let (root, write) = scratch("tree65")
        defer { try? FileManager.default.removeItem(at: root) }
        try write("Makefile", "VERSION = 6\nPATCHLEVEL = 5\nSUBLEVEL = 0\n")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("arch/x86/include"), withIntermediateDirectories: true)
        try write("include/linux/moduleloader.h", "void *module_alloc(unsigned long size);\nvoid module_memfree(void *region);\n")
        try write("kernel/jit.c", """
            #include <linux/moduleloader.h>
            #include <linux/set_memory.h>

            void *jit_finish(unsigned long size)
            {
            \tvoid *p = module_alloc(size);

            \tif (!p)
            \t\treturn 0;
            \tset_memory_x((unsigned long)p, 1);
            \tset_memory_ro((unsigned long)p, 1);
            \treturn p;
            }

            """)
        let rox = "static inline int set_memory_rox(unsigned long addr, int numpages)\n{\n\treturn set_memory_ro(addr, numpages) ?: set_memory_x(addr, numpages);\n}\n"
        let header = "int set_memory_ro(unsigned long addr, int numpages);\nint set_memory_x(unsigned long addr, int numpages);\n"
        for withROX in [true, false] {
            try write("include/linux/set_memory.h", header + (withROX ? rox : ""))
            let cache = root.appendingPathComponent(".cache-\(withROX)").path
            let json = try KPolicyBinary.run(["check", "kernel/jit.c", "--tree", root.path, "--cache-dir", cache, "--format", "json"], in: root)
            let report = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
            let window = (report?["findings"] as? [[String: Any]])?.first { $0["rule"] as? String == "wx-window" }
            let suggestion = window?["suggestion"] as? [String: Any]
            XCTAssertNotNil(suggestion, json.stdout + json.stderr)
            let patch = try KPolicyBinary.run(["check", "kernel/jit.c", "--tree", root.path, "--cache-dir", cache, "--format", "patch"], in: root).stdout
            if withROX {
                XCTAssertTrue((suggestion?["replacement"] as? String ?? "").hasPrefix("set_memory_rox("), "\(suggestion ?? [:])")
                XCTAssertTrue(patch.contains("+\tset_memory_rox((unsigned long)p, 1);"), patch)
            } else {
                XCTAssertTrue((suggestion?["explanation"] as? String ?? "").contains("predates set_memory_rox()"), "\(suggestion ?? [:])")
                XCTAssertTrue(patch.contains("+\tset_memory_ro((unsigned long)p, 1);"), patch)
                XCTAssertFalse(patch.contains("set_memory_rox"), patch)
            }
        }
    }
}
