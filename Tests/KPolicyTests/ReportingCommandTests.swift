import Foundation
import KPolicy
import XCTest
import Analysis

/// `check` and `baseline` through the built binary on a small scratch tree:
/// every documented exit code, --fail-on, baselines that survive moving
/// code, inline suppressions, and SARIF from a real tree validated against
/// the official schema.
final class ReportingCommandTests: XCTestCase {
    typealias Run = KPolicyBinary.Run
    var tree: URL!

    static let jit = """
        void *module_alloc(unsigned long size);
        void module_memfree(void *p);

        void *jit_alloc(unsigned long size)
        {
        \treturn module_alloc(size);
        }

        """

    override func setUpWithError() throws {
        tree = FileManager.default.temporaryDirectory.appendingPathComponent("kpolicy-scratch-\(UUID().uuidString)")
        for sub in ["arch/x86/include", "include", "drivers/misc", "mm"] {
            try FileManager.default.createDirectory(at: tree.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        try "VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 0\n".write(to: tree.appendingPathComponent("Makefile"), atomically: true, encoding: .utf8)
        try write("drivers/misc/jit.c", Self.jit)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: tree)
    }

    func write(_ path: String, _ text: String) throws {
        try text.write(to: tree.appendingPathComponent(path), atomically: true, encoding: .utf8)
    }

    func kpolicy(_ arguments: [String], environment: [String: String] = [:]) throws -> Run {
        try KPolicyBinary.run(arguments + (arguments.first == "check" || arguments.starts(with: ["baseline", "create"]) ? ["--tree", tree.path] : []),
                              environment: environment)
    }

    func assertOneLine(_ run: Run, _ status: Int32, _ text: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(run.status, status, run.stdout + run.stderr, file: file, line: line)
        XCTAssertEqual(run.stderr.split(separator: "\n").count, 1, run.stderr, file: file, line: line)
        XCTAssert(run.stderr.hasPrefix("kpolicy: ") && run.stderr.contains(text), run.stderr, file: file, line: line)
    }

    func testExitCodesOfCheck() throws {
        // 1: an error-severity finding under the default --fail-on error.
        let found = try kpolicy(["check"])
        XCTAssertEqual(found.status, 1, found.stdout + found.stderr)
        XCTAssert(found.stdout.contains("drivers/misc/jit.c:6:9: error: module_alloc() called outside the module loader"), found.stdout)
        // 0: the same with --fail-on never; and on a clean file.
        XCTAssertEqual(try kpolicy(["check", "--fail-on", "never"]).status, 0)
        try write("mm/clean.c", "int clean(void) { return 0; }\n")
        XCTAssertEqual(try kpolicy(["check", "mm/clean.c"]).status, 0)
        // 2: bad input, one line.
        assertOneLine(try kpolicy(["check", "no/such/file.c"]), 2, "no such file")
        assertOneLine(try kpolicy(["check", ""]), 2, "empty path")
        try "{\"schema\": \"kpolicy-baseline/1\", \"entries\": [{\"file\": 3}]}".write(to: tree.appendingPathComponent("bad-baseline.json"), atomically: true, encoding: .utf8)
        assertOneLine(try kpolicy(["check", "--baseline", tree.appendingPathComponent("bad-baseline.json").path]), 2, "bad-baseline.json")
        // 3: a file that cannot be read as source (a FIFO named like one), nothing found.
        XCTAssertEqual(mkfifo(tree.appendingPathComponent("mm/pipe.c").path, 0o644), 0)
        let fifo = try kpolicy(["check", "mm"])
        XCTAssertEqual(fifo.status, 3, fifo.stdout + fifo.stderr)
        XCTAssert(fifo.stdout.contains("mm/pipe.c: error: not checked: not a regular file (a FIFO)"), fifo.stdout)
        // 64: a bad command line, one line naming the problem.
        assertOneLine(try kpolicy(["check", "--no-such-option"]), 64, "no-such-option")
        assertOneLine(try kpolicy(["check", "--fail-on", "sometimes"]), 64, "sometimes")
        assertOneLine(try kpolicy(["check", "--context", "has space"]), 64, "--context")
        // 70: an error kpolicy does not expect (injected through the documented test hook).
        assertOneLine(try kpolicy(["check"], environment: ["KPOLICY_FAULT": "internal"]), 70, "internal error")
    }

    func testExitCodesOfOtherCommands() throws {
        XCTAssertEqual(try kpolicy(["rules", "list"]).status, 0)
        assertOneLine(try kpolicy(["rules", "show", "no-such-rule"]), 2, "no rule no-such-rule")
        assertOneLine(try kpolicy(["rules", "list", "--bogus"]), 64, "bogus")
        XCTAssertEqual(try kpolicy(["baseline", "create"]).status, 0)
        assertOneLine(try kpolicy(["baseline", "create", "missing.c"]), 2, "no such file")
        let scenario = tree.appendingPathComponent("s.yaml")
        try "name: broken\nsteps: [\n".write(to: scenario, atomically: true, encoding: .utf8)
        assertOneLine(try kpolicy(["model", "run", scenario.path]), 2, "s.yaml")
        assertOneLine(try kpolicy(["parse", "--tree", tree.path, tree.appendingPathComponent("nope.c").path]), 2, "no such file")
        assertOneLine(try kpolicy(["parse"]), 64, "Missing expected argument")
    }

    /// stdout closed or full: exit 2 with one line, never a trap.
    func testWriteErrorIsBadInput() throws {
        let run = try KPolicyBinary.run(["rules", "list", "--output", "/dev/full"])
        // `rules list` has no --output: a usage error; use check instead.
        XCTAssertEqual(run.status, 64)
        let full = try kpolicy(["check", "--output", "/dev/full"])
        assertOneLine(full, 2, "cannot write /dev/full")
        let dir = try kpolicy(["check", "--output", tree.path])
        assertOneLine(dir, 2, "cannot write")
    }

    func testFailOnDecidesExitOne() throws {
        // A reasonless suppression: the error is hidden, a warning appears.
        try write("drivers/misc/jit.c", Self.jit.replacingOccurrences(of: "return module_alloc(size);", with: "return module_alloc(size); // kpolicy: ignore module-alloc-misuse"))
        let byDefault = try kpolicy(["check"])
        XCTAssertEqual(byDefault.status, 0, byDefault.stdout)
        XCTAssert(byDefault.stdout.contains("warning: kpolicy: ignore module-alloc-misuse gives no reason"), byDefault.stdout)
        XCTAssertEqual(try kpolicy(["check", "--fail-on", "warning"]).status, 1)
        XCTAssertEqual(try kpolicy(["check", "--fail-on", "info"]).status, 1)
        XCTAssertEqual(try kpolicy(["check", "--fail-on", "error"]).status, 0)
    }

    func testInlineSuppressions() throws {
        let text = Self.jit.replacingOccurrences(of: "\treturn module_alloc(size);", with: "\t/* kpolicy: ignore module-alloc-misuse -- the JIT predates execmem here */\n\treturn module_alloc(size);")
            + "/* kpolicy: ignore wx-mapping -- nothing here maps memory */\nint unrelated;\n"
        try write("drivers/misc/jit.c", text)
        let run = try kpolicy(["check", "--verbose"])
        XCTAssertEqual(run.status, 0, run.stdout + run.stderr)
        XCTAssert(run.stdout.contains("0 findings, 1 suppressed"), run.stdout)
        XCTAssert(run.stdout.contains("drivers/misc/jit.c:9: note: unused suppression of wx-mapping"), run.stdout)
        // SARIF keeps the suppressed result, marked, with the justification.
        let sarif = try kpolicy(["check", "--format", "sarif"])
        let log = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(sarif.stdout.utf8)) as? [String: Any])
        let results = try XCTUnwrap((log["runs"] as? [[String: Any]])?.first?["results"] as? [[String: Any]])
        XCTAssertEqual(results.count, 1)
        let suppression = try XCTUnwrap((results[0]["suppressions"] as? [[String: Any]])?.first)
        XCTAssertEqual(suppression["kind"] as? String, "inSource")
        XCTAssertEqual(suppression["justification"] as? String, "the JIT predates execmem here")
        // A suppression of another rule does not hide the finding.
        try write("drivers/misc/jit.c", Self.jit.replacingOccurrences(of: "\treturn module_alloc(size);", with: "\t// kpolicy: ignore wx-mapping -- wrong rule\n\treturn module_alloc(size);"))
        XCTAssertEqual(try kpolicy(["check"]).status, 1)
    }

    func testBaselineSurvivesMovingCodeButNotEditingTheLine() throws {
        let created = try kpolicy(["baseline", "create"])
        XCTAssertEqual(created.status, 0, created.stderr)
        let baseline = tree.appendingPathComponent("kpolicy-baseline.json")
        try created.stdout.write(to: baseline, atomically: true, encoding: .utf8)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(created.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(object["schema"] as? String, "kpolicy-baseline/1")
        let entries = try XCTUnwrap(object["entries"] as? [[String: String]])
        XCTAssertEqual(entries, [["file": "drivers/misc/jit.c", "rule": "module-alloc-misuse", "line": "return module_alloc(size);",
                                  "message": "module_alloc() called outside the module loader, in jit_alloc"]])
        XCTAssertEqual(try kpolicy(["check", "--baseline", baseline.path]).status, 0)
        // Twenty lines above the finding: still hidden.
        let moved = (1...20).map { "/* filler \($0) */" }.joined(separator: "\n") + "\n" + Self.jit
        try write("drivers/misc/jit.c", moved)
        let afterMove = try kpolicy(["check", "--baseline", baseline.path])
        XCTAssertEqual(afterMove.status, 0, afterMove.stdout)
        XCTAssert(afterMove.stdout.contains("0 findings, 1 suppressed"), afterMove.stdout)
        // The offending line changed: reported again, and the entry is stale.
        try write("drivers/misc/jit.c", moved.replacingOccurrences(of: "return module_alloc(size);", with: "return module_alloc(size * 2);"))
        let afterEdit = try kpolicy(["check", "--baseline", baseline.path, "--verbose"])
        XCTAssertEqual(afterEdit.status, 1, afterEdit.stdout)
        XCTAssert(afterEdit.stdout.contains("drivers/misc/jit.c:26:9: error: module_alloc()"), afterEdit.stdout)
        XCTAssert(afterEdit.stdout.contains("baseline entry matches nothing now: module-alloc-misuse: return module_alloc(size);"), afterEdit.stdout)
        // A malformed baseline names the file and what is wrong.
        try "[1, 2]".write(to: baseline, atomically: true, encoding: .utf8)
        assertOneLine(try kpolicy(["check", "--baseline", baseline.path]), 2, "kpolicy-baseline.json: not a kpolicy baseline")
        try "{\"schema\": \"other/2\", \"entries\": []}".write(to: baseline, atomically: true, encoding: .utf8)
        assertOneLine(try kpolicy(["check", "--baseline", baseline.path]), 2, "expected \"kpolicy-baseline/1\"")
    }

    /// On a tree that has execmem (6.10+), the module_alloc replacement is a
    /// code change: SARIF carries it as a fix whose region is exactly the
    /// call, and applying it gives the suggested code.
    func testSARIFFixReplacesTheCall() throws {
        try "VERSION = 6\nPATCHLEVEL = 12\nSUBLEVEL = 0\n".write(to: tree.appendingPathComponent("Makefile"), atomically: true, encoding: .utf8)
        let run = try kpolicy(["check", "--format", "sarif"])
        XCTAssertEqual(run.status, 1, run.stderr)
        let log = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let result = try XCTUnwrap(((log["runs"] as? [[String: Any]])?.first?["results"] as? [[String: Any]])?.first)
        let change = try XCTUnwrap(((result["fixes"] as? [[String: Any]])?.first?["artifactChanges"] as? [[String: Any]])?.first)
        let replacement = try XCTUnwrap((change["replacements"] as? [[String: Any]])?.first)
        let region = try XCTUnwrap(replacement["deletedRegion"] as? [String: Int])
        let inserted = try XCTUnwrap((replacement["insertedContent"] as? [String: String])?["text"])
        XCTAssertEqual(inserted, "execmem_alloc(EXECMEM_BPF, size)")
        var lines = Self.jit.components(separatedBy: "\n")
        let line = Array(lines[region["startLine"]! - 1].utf8)
        XCTAssertEqual(region["startLine"], region["endLine"])
        XCTAssertEqual(String(decoding: line[(region["startColumn"]! - 1)..<(region["endColumn"]! - 1)], as: UTF8.self), "module_alloc(size)")
        lines[region["startLine"]! - 1] = String(decoding: line[..<(region["startColumn"]! - 1)], as: UTF8.self) + inserted
            + String(decoding: line[(region["endColumn"]! - 1)...], as: UTF8.self)
        XCTAssertEqual(lines[5], "\treturn execmem_alloc(EXECMEM_BPF, size);")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("kpolicy-\(UUID().uuidString).sarif")
        try run.stdout.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        XCTAssertEqual(try SARIFValidator.validate(file).status, 0)
    }

    /// Paths that are not plain source: a symlink out of the tree is bad
    /// input; a directory named like a source file is named, not skipped;
    /// an arch libclang cannot target is named as not checked.
    func testOddPaths() throws {
        let outside = FileManager.default.temporaryDirectory.appendingPathComponent("kpolicy-outside-\(UUID().uuidString).c")
        try Self.jit.write(to: outside, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: outside) }
        try FileManager.default.createSymbolicLink(at: tree.appendingPathComponent("mm/link_out.c"), withDestinationURL: outside)
        assertOneLine(try kpolicy(["check", "mm/link_out.c"]), 2, "outside the tree")
        try FileManager.default.removeItem(at: tree.appendingPathComponent("mm/link_out.c"))
        try FileManager.default.createDirectory(at: tree.appendingPathComponent("mm/dir.c"), withIntermediateDirectories: true)
        let dir = try kpolicy(["check", "mm"])
        XCTAssertEqual(dir.status, 3, dir.stdout)
        XCTAssert(dir.stdout.contains("mm/dir.c: error: not checked: not a regular file (a directory)"), dir.stdout)
        let loongarch = try kpolicy(["check", "drivers/misc/jit.c", "--arch", "x86"])
        XCTAssertEqual(loongarch.status, 1)
        try FileManager.default.createDirectory(at: tree.appendingPathComponent("arch/loongarch/include"), withIntermediateDirectories: true)
        let unsupported = try kpolicy(["check", "drivers/misc/jit.c", "--arch", "loongarch"])
        if ArchSupport().unsupportedReason(arch: "loongarch") != nil {
            // libclang before 17 cannot target LoongArch.
            XCTAssertEqual(unsupported.status, 0, unsupported.stdout + unsupported.stderr)
            XCTAssert(unsupported.stdout.contains("1 file not checked: libclang") && unsupported.stdout.contains("cannot target loongarch"), unsupported.stdout)
        } else {
            XCTAssertFalse(unsupported.stdout.contains("not checked"), unsupported.stdout)
        }
    }

    /// The acceptance case: SARIF of a real tree with findings
    /// (6.1 kernel/ and arch/x86/) is valid against the official schema.
    func testRealTreeSARIFIsSchemaValid() throws {
        let real = try RealTrees.path("6.1")
        let run = try KPolicyBinary.run(["check", "kernel", "arch/x86", "--tree", real, "--format", "sarif"])
        XCTAssertEqual(run.status, 1, run.stderr)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("kpolicy-\(UUID().uuidString).sarif")
        try run.stdout.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let validation = try SARIFValidator.validate(file)
        XCTAssertEqual(validation.status, 0, validation.stdout + validation.stderr)
        XCTAssert(validation.stdout.contains("sarif: 1 passed, 0 failed"), validation.stdout)
        let log = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let sarifRun = try XCTUnwrap((log["runs"] as? [[String: Any]])?.first)
        let results = try XCTUnwrap(sarifRun["results"] as? [[String: Any]])
        XCTAssertGreaterThanOrEqual(results.count, 5, "6.1 kernel/ and arch/x86 have module_alloc callers")
        XCTAssert(results.allSatisfy { ($0["codeFlows"] as? [[String: Any]])?.isEmpty == false }, "module-alloc-misuse findings carry the model runs")
        let rules = try XCTUnwrap(((sarifRun["tool"] as? [String: Any])?["driver"] as? [String: Any])?["rules"] as? [[String: Any]])
        XCTAssertEqual(rules.count, try RuleSet.builtIn().rules.count + 1, "every Rules/ rule and suppression-without-reason")
    }
}
