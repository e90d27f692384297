import Foundation
import KPolicy
import XCTest

/// `kpolicy check` on real trees, through the built binary: the JSON report
/// has the documented shape (docs/report-format.md), exit codes are right,
/// and the core directories of both trees give the committed expectation.
final class CheckCommandTests: XCTestCase {
    func json(_ run: KPolicyBinary.Run) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8))
        return try XCTUnwrap(object as? [String: Any], run.stderr)
    }

    func testReportShapeOn61() throws {
        let tree = try RealTrees.path("6.1")
        let run = try KPolicyBinary.run(["check", "kernel/kprobes.c", "arch/x86/kernel/ftrace.c", "--tree", tree, "--format", "json"])
        XCTAssertEqual(run.status, 1, "findings give exit code 1: \(run.stderr)")
        let report = try json(run)
        XCTAssertEqual(report["schema"] as? String, "kpolicy-report/1")
        let tool = try XCTUnwrap(report["tool"] as? [String: Any])
        XCTAssertEqual(tool["name"] as? String, "kpolicy")
        XCTAssertNotNil(tool["version"] as? String)
        let treeInfo = try XCTUnwrap(report["tree"] as? [String: Any])
        XCTAssert((treeInfo["kernelVersion"] as? String)?.hasPrefix("6.1.") == true)
        let stats = try XCTUnwrap(report["stats"] as? [String: Any])
        for key in ["filesScanned", "candidates", "filesParsed", "parseFailures", "seconds"] { XCTAssertNotNil(stats[key], key) }
        XCTAssertEqual(stats["filesParsed"] as? Int, 2)
        let findings = try XCTUnwrap(report["findings"] as? [[String: Any]])
        let summary = findings.map { "\($0["rule"]!) \($0["file"]!):\($0["line"]!)" }
        XCTAssertEqual(summary, [
            "module-alloc-misuse arch/x86/kernel/ftrace.c:264",
            "module-alloc-misuse arch/x86/kernel/ftrace.c:268",
            "module-alloc-misuse kernel/kprobes.c:121",
            // free_insn_page() is the .free of alloc_insn_page()'s
            // kprobe_insn_slots: module_memfree() on the ROX vmalloc page of
            // arm64's and riscv's overrides (a pair across files).
            "exec-free-mismatch kernel/kprobes.c:126",
            "module-alloc-misuse kernel/kprobes.c:126",
        ])
        for f in findings {
            for key in ["rule", "severity", "file", "line", "column", "message", "fingerprint"] { XCTAssertNotNil(f[key], key) }
            let suggestion = try XCTUnwrap(f["suggestion"] as? [String: Any])
            XCTAssertNotNil(suggestion["validated"] as? Bool)
            XCTAssertNotNil(suggestion["explanation"] as? String)
        }
        // The execmem type upstream chose for each of these callers.
        let replacements = findings.compactMap { ($0["suggestion"] as? [String: Any])?["replacement"] as? String }
        XCTAssertEqual(replacements[0], "execmem_alloc(EXECMEM_FTRACE, size)")
        XCTAssertEqual(replacements[2], "execmem_alloc(EXECMEM_KPROBES, PAGE_SIZE)")
        XCTAssertEqual(replacements[4], "execmem_free(page)")
    }

    func testCleanFileExitsZeroAndTextFormat() throws {
        let tree = try RealTrees.path("6.12")
        let run = try KPolicyBinary.run(["check", "kernel/kprobes.c", "--tree", tree])
        XCTAssertEqual(run.status, 0, run.stdout + run.stderr)
        XCTAssert(run.stdout.hasPrefix("kpolicy: 0 findings; 1 files scanned, 1 candidates, 1 parsed"), run.stdout)
    }

    /// Debian 12's libclang 14 has no LoongArch target: those files are
    /// named as not checked, and do not make the run fail. libclang 17 and
    /// later (19 from bootstrap) target it: the file is parsed as LoongArch.
    func testUnsupportedArchIsNamedNotFailed() throws {
        let tree = try RealTrees.path("6.12")
        let run = try KPolicyBinary.run(["check", "arch/loongarch/include/asm/io.h", "--tree", tree, "--format", "json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let report = try json(run)
        let unsupported = try XCTUnwrap(report["unsupported"] as? [[String: Any]])
        let stats = try XCTUnwrap(report["stats"] as? [String: Any])
        if ArchSupport().unsupportedReason(arch: "loongarch") == nil {
            XCTAssertEqual(unsupported.count, 0, run.stdout)
            XCTAssertEqual(stats["filesParsed"] as? Int, 1, run.stdout)
        } else {
            XCTAssertEqual(unsupported.map { $0["file"] as? String }, ["arch/loongarch/include/asm/io.h"])
            XCTAssert((unsupported.first?["reason"] as? String)?.contains("cannot target loongarch") == true)
        }
        XCTAssertEqual(stats["parseFailures"] as? Int, 0)
    }

    func testBadRulesDirectoryIsBadInput() throws {
        let tree = try RealTrees.path("6.12")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rules-\(UUID().uuidString)/x")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try "id: broken\ntitle: [\n".write(to: dir.appendingPathComponent("broken.yaml"), atomically: true, encoding: .utf8)
        let run = try KPolicyBinary.run(["check", "kernel/kprobes.c", "--tree", tree, "--rules", dir.deletingLastPathComponent().path])
        XCTAssertEqual(run.status, 2, run.stderr)
        XCTAssertEqual(run.stderr.split(separator: "\n").count, 1, run.stderr)
        XCTAssert(run.stderr.hasPrefix("kpolicy: ") && run.stderr.contains("broken.yaml"), run.stderr)
    }
}
