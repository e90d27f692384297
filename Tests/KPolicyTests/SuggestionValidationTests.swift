import Foundation
import KPolicy
import XCTest
import KernelModel
import Analysis
import Findings

/// `validated` comes from running the model, so it must be able to say no,
/// and the original code's run must show why the finding was made.
final class SuggestionValidationTests: XCTestCase {
    func findings(_ body: String, path: String, kernel: String) throws -> [Finding] {
        let runner = try CorpusRunner(rules: try RuleSet.builtIn(),
                                      includeDirectory: CorpusTests.corpus.appendingPathComponent("include"))
        let (found, errors) = try runner.run(text: "#include \"kpolicy-corpus.h\"\n" + body, path: path, kernel: KernelVersion(string: kernel)!)
        XCTAssertEqual(errors, [])
        return found
    }

    func testModuleAllocOn612RunsIntoINVVersion() throws {
        let f = try XCTUnwrap(try findings("void *get_slot(void) { return module_alloc(PAGE_SIZE); }", path: "kernel/kprobes.c", kernel: "6.12").first)
        XCTAssertEqual(f.rule, "module-alloc-misuse")
        let s = try XCTUnwrap(f.suggestion)
        XCTAssertEqual(s.replacement, "execmem_alloc(EXECMEM_KPROBES, PAGE_SIZE)")
        let v = try XCTUnwrap(s.validation)
        XCTAssert(v.originalViolations.contains { $0.hasPrefix("INV-VERSION") }, "\(v.originalViolations)")
        XCTAssertEqual(v.replacementViolations, [])
        XCTAssertTrue(s.validated)
    }

    func testWXMappingOriginalBreaksINVWX() throws {
        let body = """
            void *jit(unsigned long size)
            {
                    return __vmalloc_node_range(size, 1, VMALLOC_START, VMALLOC_END, GFP_KERNEL,
                                                PAGE_KERNEL_EXEC, 0, NUMA_NO_NODE, 0);
            }
            """
        let f = try XCTUnwrap(try findings(body, path: "kernel/bpf/jit.c", kernel: "6.12").first { $0.rule == "wx-mapping" })
        let v = try XCTUnwrap(f.suggestion?.validation)
        XCTAssert(v.originalViolations.contains { $0.hasPrefix("INV-WX") }, "\(v.originalViolations)")
        XCTAssertTrue(f.suggestion!.replacement.contains("EXECMEM_BPF"))
    }

    func testRulesWithoutModelRunNeverClaimValidation() throws {
        let body = "void *buf(unsigned long n) { return __vmalloc_node_range(n, 1, VMALLOC_START, VMALLOC_END, GFP_KERNEL, PAGE_KERNEL, VM_FLUSH_RESET_PERMS, NUMA_NO_NODE, 0); }"
        let f = try XCTUnwrap(try findings(body, path: "drivers/misc/buf.c", kernel: "6.12").first { $0.rule == "flush-reset-perms-outside-core" })
        XCTAssertFalse(f.suggestion!.validated)
        XCTAssertNil(f.suggestion!.validation)
    }
}
