import Foundation
import XCTest
import Analysis

/// Patches across functions (Tests/Data/patches-xfn, made with git
/// format-patch from the Debian 6.1 and 6.12 trees' own files) run through
/// `kpolicy patch`: a counterpart free rewritten to free with the wrong API
/// is found through its allocator, which another function (or another
/// file, per arch) defines; a permission reset removed from the function
/// that allocates is found where other functions protect and free the
/// memory; the correct change beside each stays quiet.
/// Without the trees the tests are skipped.
final class XfnPatchTests: XCTestCase {
    static let data = CorpusTests.repo.appendingPathComponent("Tests/Data/patches-xfn")

    /// One result cache for the class: the summaries of the arch JITs the
    /// trampoline patches call are made once per tree.
    static let cache = FileManager.default.temporaryDirectory.appendingPathComponent("kpolicy-xfn-\(UUID().uuidString)")
    override class func tearDown() { try? FileManager.default.removeItem(at: cache) }

    func check(_ patch: String, tree series: String) throws -> [Execmem7PatchTests.Reported.Finding] {
        let tree = try RealTrees.path(series)
        let cache = Self.cache.appendingPathComponent(series)
        let run = try KPolicyBinary.run(["patch", Self.data.appendingPathComponent(patch + ".patch").path, "--tree", tree,
                                         "--cache-dir", cache.path, "--format", "json"])
        XCTAssertTrue(run.status == 0 || run.status == 1, run.stderr)
        return try JSONDecoder().decode(Execmem7PatchTests.Reported.self, from: Data(run.stdout.utf8)).findings
    }

    func mismatch(_ found: [Execmem7PatchTests.Reported.Finding]) -> [Execmem7PatchTests.Reported.Finding] {
        found.filter { $0.rule == "exec-free-mismatch" }
    }

    /// x86's arch_free_bpf_trampoline() with vfree(): x86's own allocator
    /// (same file) hands out BPF prog pack chunks.
    func testX86TrampolineFreeWithVfree() throws {
        let f = try XCTUnwrap(mismatch(try check("612-x86-bpf-trampoline-free-vfree", tree: "6.12")).first)
        XCTAssertEqual(f.file, "arch/x86/net/bpf_jit_comp.c")
        XCTAssertTrue(f.message.contains("(on x86_64)"), f.message)
        XCTAssertTrue(f.message.contains("arch_alloc_bpf_trampoline()"), f.message)
        XCTAssertTrue(f.message.contains("bpf_prog_pack"), f.message)
    }

    func testX86TrampolineFreeNullCheckIsQuiet() throws {
        XCTAssertEqual(mismatch(try check("612-x86-bpf-trampoline-free-null-check", tree: "6.12")).map(\.message), [])
    }

    /// The __weak free with vfree(): only the arches that link the __weak
    /// allocator and free (not x86, arm64 or riscv, which override both).
    func testWeakTrampolineFreeWithVfreeNamesTheArchesThatLinkIt() throws {
        let found = mismatch(try check("612-bpf-default-trampoline-free-vfree", tree: "6.12"))
        let f = try XCTUnwrap(found.first { $0.file == "kernel/bpf/trampoline.c" })
        XCTAssertTrue(f.message.contains("(on ppc64, s390)"), f.message)
        XCTAssertTrue(f.message.contains("bpf_jit_alloc_exec"), f.message)
    }

    func testWeakTrampolineFreeNullCheckIsQuiet() throws {
        XCTAssertEqual(mismatch(try check("612-bpf-default-trampoline-free-null-check", tree: "6.12")).map(\.message), [])
    }

    /// free_insn_page() with vfree(): the .alloc of the same initializer is
    /// alloc_insn_page(), module_alloc() memory where x86, powerpc and s390
    /// override it (and in the __weak default), a vfree-able ROX mapping on
    /// arm64 and riscv.
    func testKprobesFreeInsnPageWithVfree() throws {
        let f = try XCTUnwrap(mismatch(try check("61-kprobes-free-insn-page-vfree", tree: "6.1")).first)
        XCTAssertEqual(f.file, "kernel/kprobes.c")
        XCTAssertTrue(f.message.contains("(on ppc64, s390, x86_64)"), f.message)
        XCTAssertTrue(f.message.contains(".alloc/.free of one initializer"), f.message)
    }

    func testX86FtraceTrampFreeWithVfree() throws {
        let f = try XCTUnwrap(mismatch(try check("61-x86-ftrace-tramp-free-vfree", tree: "6.1")).first)
        XCTAssertEqual(f.file, "arch/x86/kernel/ftrace.c")
        XCTAssertTrue(f.message.contains("alloc_tramp()"), f.message)
        XCTAssertTrue(f.message.contains("module_alloc"), f.message)
    }

    func testX86FtraceTrampFreeNullCheckIsQuiet() throws {
        XCTAssertEqual(mismatch(try check("61-x86-ftrace-tramp-free-null-check", tree: "6.1")).map(\.message), [])
    }

    func reset(_ found: [Execmem7PatchTests.Reported.Finding]) -> [Execmem7PatchTests.Reported.Finding] {
        found.filter { $0.rule == "missing-perms-reset" }
    }

    /// 6.1 bpf_tramp_image_alloc() without set_vm_flush_reset_perms():
    /// bpf_trampoline_update() protects the image and bpf_tramp_image_free()
    /// frees it. Only arm64 both builds trampolines (x86 and arm64 override
    /// the -ENOTSUPP `__weak` arch_prepare_bpf_trampoline()) and allocates
    /// without the flag (its bpf_jit_alloc_exec() is vmalloc(); x86's
    /// module_alloc() sets it).
    func testTrampolineImageResetRemovedIsFoundWhereOtherFunctionsProtectAndFree() throws {
        let found = reset(try check("61-bpf-trampoline-image-reset-removed", tree: "6.1"))
        XCTAssertFalse(found.isEmpty)
        for f in found {
            XCTAssertEqual(f.file, "kernel/bpf/trampoline.c")
            XCTAssertTrue(f.message.contains("(on arm64, Linux 6.1)"), f.message)
        }
        // Where the image is freed: the free helper itself, with the state
        // the allocating and protecting functions leave, and the error path
        // of the function that protects it, through the allocating helper.
        let free = try XCTUnwrap(found.first { $0.message.contains("in bpf_tramp_image_free ") })
        XCTAssertTrue(free.message.contains("state left by bpf_tramp_image_alloc()"), free.message)
        XCTAssertTrue(free.message.contains("bpf_trampoline_update() line"), free.message)
        XCTAssertTrue(found.contains { $0.message.contains("in bpf_trampoline_update ") }, found.map(\.message).joined(separator: "\n"))
    }

    func testTrampolineImageCommentIsQuiet() throws {
        XCTAssertEqual(reset(try check("61-bpf-trampoline-image-comment", tree: "6.1")).map(\.message), [])
    }

    /// The same removal from 6.12's `__weak` arch_alloc_bpf_trampoline() is
    /// harmless there: execmem_alloc() (under bpf_jit_alloc_exec()) sets
    /// VM_FLUSH_RESET_PERMS itself since 6.10.
    func testDefaultTrampolineResetRemovedOn612IsQuiet() throws {
        XCTAssertEqual(reset(try check("612-bpf-default-trampoline-reset-removed", tree: "6.12")).map(\.message), [])
    }
}
