import Foundation
import KernelModel
@testable import KPolicy
import XCTest
@testable import PatchInput
@testable import Analysis
@testable import Report
import Findings

/// Path-rule findings carry the path the model found them on, and every
/// reporter shows it: JSON `trace`, text `--explain`, SARIF codeFlows.
final class PathReportTests: XCTestCase {
    func finding() throws -> Finding {
        let runner = try CorpusRunner(rules: try RuleSet.builtIn(), includeDirectory: FunctionIRTests.include)
        let text = """
        #include "kpolicy-corpus.h"
        int f(int fail)
        {
                void *p = module_alloc(PAGE_SIZE);

                if (!p)
                        return -ENOMEM;
                if (fail)
                        goto undo;
                set_memory_ro((unsigned long)p, 1);
                set_memory_x((unsigned long)p, 1);
                return 0;
        undo:
                set_memory_x((unsigned long)p, 1);
                module_memfree(p);
                return -EINVAL;
        }
        """
        let found = try runner.run(text: text, path: "kernel/example.c", kernel: KernelVersion(string: "6.1")!).findings
        return try XCTUnwrap(found.first { $0.rule == "wx-window" })
    }

    func report(_ f: Finding) -> CheckReport {
        CheckReport(tree: .init(path: "/src/linux", kernelVersion: KernelVersion(6, 1, 0)), toolVersion: "0.0.0-test",
                    findings: [f], parseFailures: [], unsupported: [], filesWithErrors: [], stats: CheckReport.Stats())
    }

    func testFindingCarriesTheErrorPathAndTheArches() throws {
        let f = try finding()
        XCTAssertEqual(f.position.line, 14, "the set_memory_x on the goto path")
        let trace = try XCTUnwrap(f.trace)
        XCTAssertEqual(trace.map(\.line), [4, 14], "allocation, then the jump straight to undo")
        XCTAssertEqual(trace.last?.mapping, "RWX")
        XCTAssertEqual(trace.last?.invariants.contains("INV-ORDER"), true)
        // 6.1 module_alloc is RW everywhere but s390 (RWX already: set_memory_x on it is advisory there).
        XCTAssertTrue(f.values["arches"]?.contains("x86_64") == true && f.values["arches"]?.contains("arm64") == true, f.values["arches"] ?? "")
    }

    func testJSONCarriesTheTrace() throws {
        let f = try finding()
        let json = try JSONReporter().render(report(f), catalogue: RuleCatalogue(rules: try RuleSet.builtIn()), options: ReportOptions())
        let decoded = try JSONDecoder().decode(CheckReport.self, from: Data(json.utf8))
        XCTAssertEqual(decoded.findings.first?.trace, f.trace)
        XCTAssertTrue(json.contains("\"trace\""))
    }

    func testExplainPrintsATable() throws {
        let f = try finding()
        var options = ReportOptions()
        options.explain = true
        let text = TextReporter().render(report(f), catalogue: RuleCatalogue(rules: try RuleSet.builtIn()), options: options)
        XCTAssertTrue(text.contains("step  line  call"), text)
        XCTAssertTrue(text.contains("INV-ORDER"), text)
        let plain = TextReporter().render(report(f), catalogue: RuleCatalogue(rules: try RuleSet.builtIn()), options: ReportOptions())
        XCTAssertFalse(plain.contains("step  line  call"))
    }

    func testSARIFHasACodeFlowForThePath() throws {
        let f = try finding()
        let sarif = try SARIFReporter().render(report(f), catalogue: RuleCatalogue(rules: try RuleSet.builtIn()), options: ReportOptions())
        let object = try JSONSerialization.jsonObject(with: Data(sarif.utf8)) as? [String: Any]
        let result = ((object?["runs"] as? [[String: Any]])?.first?["results"] as? [[String: Any]])?.first
        let flows = try XCTUnwrap(result?["codeFlows"] as? [[String: Any]])
        let locations = (flows.last?["threadFlows"] as? [[String: Any]])?.first?["locations"] as? [[String: Any]]
        XCTAssertEqual(locations?.count, f.trace?.count)
    }

    func findings(_ body: String, kernel: String = "6.1", path: String = "kernel/example.c") throws -> [Finding] {
        let runner = try CorpusRunner(rules: try RuleSet.builtIn(), includeDirectory: FunctionIRTests.include)
        return try runner.run(text: "#include \"kpolicy-corpus.h\"\n" + body, path: path, kernel: KernelVersion(string: kernel)!).findings
    }

    func testSuggestionIsProvenOnEveryPath() throws {
        let f = try finding()
        let s = try XCTUnwrap(f.suggestion)
        XCTAssertTrue(s.validated, "\(s.validation?.replacementViolations ?? [])")
        XCTAssertTrue(s.validation?.configuration.contains("every path of f") == true)
        XCTAssertEqual(s.validation?.replacement.filter { $0.hasPrefix("set_memory_ro(") }.count, 2, "\(s.validation?.replacement ?? [])")
        let trace = try XCTUnwrap(s.trace, "a validated suggestion shows a path through the changed step")
        XCTAssertTrue(trace.contains { $0.call.hasPrefix("set_memory_ro") && $0.mapping == "R--" })
    }

    func testSuggestionThatBreaksAnotherPathIsNotValidated() throws {
        // Making it read-only first makes the memcpy after it fault: the model says so.
        let fs = try findings("""
        void f(void *buf, const void *code)
        {
                set_memory_x((unsigned long)buf, 1);
                memcpy(buf, code, 16);
                set_memory_ro((unsigned long)buf, 1);
        }
        """)
        let f = try XCTUnwrap(fs.first { $0.rule == "wx-window" })
        let s = try XCTUnwrap(f.suggestion)
        XCTAssertFalse(s.validated)
        let why = s.validation?.replacementViolations.joined(separator: "\n") ?? ""
        XCTAssertTrue(why.contains("INV-WRITE") && why.contains("line 5") && why.contains("x86_64"), why)
    }

    func testRewritesOfTheOtherRules() throws {
        let fs = try findings("""
        void a(const void *code)
        {
                void *p = module_alloc(PAGE_SIZE);

                if (!p)
                        return;
                set_memory_ro((unsigned long)p, 1);
                memcpy(p, code, 16);
                set_memory_x((unsigned long)p, 1);
        }
        void b(void)
        {
                void *p = module_alloc(PAGE_SIZE);

                if (!p)
                        return;
                vfree(p);
        }
        void c(void)
        {
                void *p = vmalloc(PAGE_SIZE);

                if (!p)
                        return;
                set_memory_ro((unsigned long)p, 1);
                vfree(p);
        }
        """, path: "arch/x86/kernel/example.c")
        for rule in ["write-to-readonly-text", "exec-free-mismatch", "missing-perms-reset"] {
            let f = try XCTUnwrap(fs.first { $0.rule == rule }, rule)
            XCTAssertEqual(f.suggestion?.validated, true, "\(rule): \(f.suggestion?.validation?.replacementViolations ?? [])")
        }
    }

    func testRewriteReachesEveryUnrolledCopyOfTheStep() throws {
        // 6.1 arch/x86/platform/efi/efi_32.c: set_memory_x in a loop over descriptors.
        let fs = try findings("""
        struct desc { unsigned long virt_addr; int num_pages; };
        void f(struct desc *descs, int n)
        {
                struct desc *md;
                int i;

                for (i = 0; i < n; i++) {
                        md = &descs[i];
                        memset((void *)md->virt_addr, 0xcc, 16);
                        set_memory_x(md->virt_addr, md->num_pages);
                }
        }
        """, path: "arch/x86/platform/efi/example.c")
        let f = try XCTUnwrap(fs.first { $0.rule == "wx-window" })
        XCTAssertEqual(f.suggestion?.validated, true, "\(f.suggestion?.validation?.replacementViolations ?? [])")
    }

    func testCallRuleSuggestionIsProvenOnTheFunctionsPaths() throws {
        // module_alloc → execmem_alloc(EXECMEM_KPROBES): ROX on arm64 and
        // riscv, so the memcpy that follows faults there; RW elsewhere.
        let fs = try findings("""
        void *alloc_insn_page(const void *code)
        {
                void *p = module_alloc(PAGE_SIZE);

                if (!p)
                        return NULL;
                memcpy(p, code, 16);
                set_memory_ro((unsigned long)p, 1);
                set_memory_x((unsigned long)p, 1);
                return p;
        }
        """, path: "kernel/kprobes.c")
        let f = try XCTUnwrap(fs.first { $0.rule == "module-alloc-misuse" && $0.position.line == 4 })
        let s = try XCTUnwrap(f.suggestion)
        XCTAssertTrue(s.validation?.configuration.contains("every path of alloc_insn_page") == true, s.validation?.configuration ?? "")
        XCTAssertFalse(s.validated)
        let why = s.validation?.replacementViolations.joined(separator: "\n") ?? ""
        XCTAssertTrue(why.contains("INV-WRITE") && why.contains("arm64") && !why.contains("x86_64"), why)
        XCTAssertTrue(s.validation?.replacement.contains { $0.contains("execmem_alloc(EXECMEM_KPROBES") } == true)
    }

    func testNoHelperOnAnArchMeansNotValidated() throws {
        let fs = try findings("""
        void f(void *buf, const void *code)
        {
                set_memory_ro((unsigned long)buf, 1);
                memcpy(buf, code, 16);
        }
        """, path: "arch/powerpc/kernel/example.c")
        let f = try XCTUnwrap(fs.first { $0.rule == "write-to-readonly-text" })
        XCTAssertEqual(f.suggestion?.validated, false)
        XCTAssertTrue(f.suggestion?.validation?.replacementViolations.first?.contains("ppc64") == true)
    }
}

/// `--format patch`: the validated suggestions as a diff `git apply` takes.
final class PatchFormatTests: XCTestCase {
    func testPatchAppliesWithGitAndFixesTheFindings() throws {
        let text = """
        #include "kpolicy-corpus.h"
        void *jit_finish(const void *code)
        {
        \tvoid *p = vmalloc(PAGE_SIZE);

        \tif (!p)
        \t\treturn NULL;
        \tmemcpy(p, code, 64);
        \tset_memory_x((unsigned long)p, 1);
        \tset_memory_ro((unsigned long)p, 1);
        \treturn p;
        }

        void jit_free(void *unused)
        {
        \tvoid *p = vmalloc(PAGE_SIZE);

        \tif (!p)
        \t\treturn;
        \tset_memory_ro((unsigned long)p, 1);
        \tvfree(p);
        }

        """
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kpolicy-patch-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("arch/x86/kernel"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = "arch/x86/kernel/jit.c"
        try text.write(to: dir.appendingPathComponent(path), atomically: true, encoding: .utf8)
        let runner = try CorpusRunner(rules: try RuleSet.builtIn(), includeDirectory: FunctionIRTests.include)
        let findings = try runner.run(text: text, path: path, kernel: KernelVersion(string: "6.1")!).findings
        XCTAssertEqual(Set(findings.map(\.rule)), ["wx-window", "missing-perms-reset"], "\(findings.map(\.message))")
        let report = CheckReport(tree: .init(path: dir.path, kernelVersion: KernelVersion(6, 1, 0)), toolVersion: "0.0.0-test",
                                 findings: findings, parseFailures: [], unsupported: [], filesWithErrors: [], stats: CheckReport.Stats())
        let diff = try PatchReporter().render(report, catalogue: RuleCatalogue(rules: try RuleSet.builtIn()), options: ReportOptions())
        XCTAssertTrue(diff.contains("+\tset_memory_ro((unsigned long)p, 1);\n+\tset_memory_x"), diff)
        XCTAssertTrue(diff.contains("+\tset_vm_flush_reset_perms(p);"), diff)
        let patchFile = dir.appendingPathComponent("fix.patch")
        try diff.write(to: patchFile, atomically: true, encoding: .utf8)
        let git = Process()
        git.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        git.arguments = ["git", "-C", dir.path, "apply", patchFile.path]
        try git.run()
        git.waitUntilExit()
        XCTAssertEqual(git.terminationStatus, 0, diff)
        // The patched file has no path finding left.
        let patched = try String(contentsOf: dir.appendingPathComponent(path), encoding: .utf8)
        let after = try runner.run(text: patched, path: path, kernel: KernelVersion(string: "6.1")!).findings
        XCTAssertEqual(after.filter { ["wx-window", "missing-perms-reset"].contains($0.rule) }.map(\.message), [])
    }
}
