import Foundation
import KPolicy
import XCTest
import KernelModel
@testable import PatchInput
import Analysis
import Report
import Extract
import Suggest
import Findings

/// Every reporter against its golden file (Tests/Golden/report.<format>),
/// on one report that holds every kind of thing a run can produce. Set
/// KPOLICY_UPDATE_GOLDEN=1 to rewrite the golden files after a deliberate
/// change, then read the diff.
final class ReporterTests: XCTestCase {
    static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Golden")

    /// A report with a validated suggestion that is a code change, a
    /// suggestion in words, a warning, a suppressed finding, a reasonless
    /// suppression, a parse failure, an unsupported file and a file with
    /// errors; file names and messages with characters reporters must escape.
    static func sampleReport() -> CheckReport {
        var alloc = Finding(rule: "module-alloc-misuse", severity: .error, position: Position(file: "kernel/kprobes.c", line: 121, column: 9),
                            function: "alloc_insn_page", message: "module_alloc() called outside the module loader, in alloc_insn_page",
                            suggestion: Suggestion(replacement: "execmem_alloc(EXECMEM_KPROBES, PAGE_SIZE)",
                                                   explanation: "Since Linux 6.10 executable memory comes from execmem_alloc().",
                                                   validated: true,
                                                   validation: ModelValidation(configuration: "x86_64/6.12 -> x86_64/6.12",
                                                                               original: ["caller = core", "p = module_alloc(4K)", "module_memfree(p)"],
                                                                               originalViolations: [],
                                                                               replacement: ["caller = core", "p = execmem_alloc(EXECMEM_KPROBES, 4K)", "execmem_free(p)"],
                                                                               replacementViolations: [])),
                            values: ["subject": "module_alloc"])
        alloc.end = Position(file: "kernel/kprobes.c", line: 121, column: 32)
        alloc.sourceLine = "return module_alloc(PAGE_SIZE);"
        alloc.suggestion?.edit = TextEdit(start: alloc.position, end: alloc.end!, text: "execmem_alloc(EXECMEM_KPROBES, PAGE_SIZE)")
        alloc.suggestion?.replacesCall = true
        var flush = Finding(rule: "flush-reset-perms-outside-core", severity: .warning,
                            position: Position(file: "drivers/misc/odd,name:100%.c", line: 7, column: 3), function: nil,
                            message: "VM_FLUSH_RESET_PERMS used in driver code\nsecond line, with a comma: and 100%",
                            suggestion: Suggestion(replacement: "plain vmalloc()", explanation: "The flag is an arch detail.", validated: false, validation: nil),
                            values: ["subject": "VM_FLUSH_RESET_PERMS"])
        flush.sourceLine = "vm_flags |= VM_FLUSH_RESET_PERMS;"
        let origin = PatchOrigin(index: 2, total: 3, subject: "misc: add a JIT", messageID: "<20261123.2@example.org>", source: "series.mbox")
        flush.patch = origin
        var reasonless = Finding(rule: "suppression-without-reason", severity: .warning, position: Position(file: "mm/x.c", line: 3, column: 4),
                                 function: nil, message: "kpolicy: ignore wx-mapping gives no reason; write why after '--'",
                                 suggestion: nil, values: ["subject": "wx-mapping"])
        reasonless.sourceLine = "/* kpolicy: ignore wx-mapping */"
        var hidden = Finding(rule: "wx-mapping", severity: .error, position: Position(file: "mm/x.c", line: 4, column: 9), function: "f",
                             message: "__vmalloc() maps writable and executable memory", suggestion: nil, values: ["subject": "__vmalloc"])
        hidden.sourceLine = "p = __vmalloc(size, GFP_KERNEL, PAGE_KERNEL_EXEC);"
        hidden.suppression = FindingSuppression(kind: .inSource, justification: "early boot, before text_poke works")
        var stats = CheckReport.Stats()
        stats.filesScanned = 10
        stats.candidates = 5
        stats.filesParsed = 3
        stats.parseFailures = 1
        stats.unsupported = 1
        stats.filesWithErrors = 1
        stats.suppressed = 1
        stats.seconds = 1.5
        var report = CheckReport(tree: .init(path: "/src/linux", kernelVersion: KernelVersion(6, 12, 3)), toolVersion: "0.0.0-test",
                                 findings: [alloc, flush, reasonless],
                                 parseFailures: [.init(file: "drivers/evil\ninjected.c:1:1: error: fake [wx-mapping]", reason: "libclang returned no translation unit")],
                                 unsupported: [.init(file: "arch/loongarch/kernel/a.c", reason: "libclang 14 cannot target loongarch (loongarch64-linux-gnu)")],
                                 filesWithErrors: [.init(file: "arch/x86/kvm/x.c", reason: "12:3: use of undeclared identifier 'y'")], stats: stats)
        report.suppressed = [hidden]
        report.unusedSuppressions = [.init(file: "mm/y.c", line: 9, rule: "wx-mapping")]
        report.patches = [PatchOrigin(index: 1, total: 3, subject: "mm: prepare", messageID: nil, source: "series.mbox"), origin,
                          PatchOrigin(index: 3, total: 3, subject: "misc: use the JIT", messageID: nil, source: "series.mbox")]
        report.applyFailures = [.init(patch: report.patches![2], file: "drivers/misc/jit.c", reason: "hunk 1 (@@ -10,6 +10,7 @@) does not apply")]
        report.notices = ["missing-maintainer-cc: series.mbox is a plain diff with no To/Cc to check"]
        return report
    }

    static func extensionFor(_ format: ReportFormat) -> String {
        switch format {
        case .text: return "txt"
        case .json: return "json"
        case .patchwork: return "patchwork.json"
        default: return format.rawValue
        }
    }

    func render(_ format: ReportFormat, verbose: Bool = false) throws -> String {
        var options = ReportOptions()
        options.verbose = verbose
        options.targetURL = "https://ci.example.org/kpolicy/1234"
        options.helpURIBase = "https://docs.example.org/kpolicy/rules/"
        return try format.reporter.render(Self.sampleReport(), catalogue: RuleCatalogue(rules: try RuleSet.builtIn()), options: options)
    }

    func testEveryReporterMatchesItsGoldenFile() throws {
        let update = ProcessInfo.processInfo.environment["KPOLICY_UPDATE_GOLDEN"] == "1"
        for format in ReportFormat.allCases {
            let output = try render(format, verbose: format == .text)
            let file = Self.golden.appendingPathComponent("report." + Self.extensionFor(format))
            if update { try output.write(to: file, atomically: true, encoding: .utf8) }
            let expected = try String(contentsOf: file, encoding: .utf8)
            XCTAssertEqual(output, expected, "\(format.rawValue) differs from \(file.lastPathComponent); run with KPOLICY_UPDATE_GOLDEN=1 and read the diff")
        }
    }

    /// A JSON report decodes back into the same report: other tools (and a
    /// later `kpolicy merge`) can read what kpolicy writes.
    func testJSONRoundTrips() throws {
        let json = try render(.json)
        let decoded = try JSONDecoder().decode(CheckReport.self, from: Data(json.utf8))
        XCTAssertEqual(decoded, Self.sampleReport())
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        XCTAssertEqual(object["schema"] as? String, "kpolicy-report/1")
        let first = try XCTUnwrap((object["findings"] as? [[String: Any]])?.first)
        for key in ["rule", "severity", "file", "line", "column", "function", "message", "suggestion", "fingerprint"] {
            XCTAssertNotNil(first[key], "documented field \(key) missing")
        }
    }

    /// A function the path rules did not check (its IR over the bound) is
    /// said in the text output and kept through JSON, never dropped.
    func testUncheckedFunctionsAreSaid() throws {
        var report = Self.sampleReport()
        report.uncheckedFunctions = [.init(file: "arch/sparc/net/jit.c", reason: "jit_compile:326: IR not built (over 200000 statements and expressions)")]
        report.stats.functionsUnchecked = 1
        let text = try TextReporter().render(report, catalogue: RuleCatalogue(rules: try RuleSet.builtIn()), options: ReportOptions())
        XCTAssertTrue(text.contains("arch/sparc/net/jit.c: note: path rules not run on jit_compile:326: IR not built"), text)
        XCTAssertTrue(text.contains("1 function not path-checked"), text)
        let json = try JSONReporter().render(report, catalogue: RuleCatalogue(rules: try RuleSet.builtIn()), options: ReportOptions())
        XCTAssertEqual(try JSONDecoder().decode(CheckReport.self, from: Data(json.utf8)), report)
        let plain = try render(.text)
        XCTAssertFalse(plain.contains("function-not-checked"), "nothing said when every function was checked")
    }

    /// A file name or message cannot forge a line in the text or checkpatch
    /// output: every output line is a finding line, an indented detail or
    /// the summary.
    func testTextOutputsEscapeControlCharacters() throws {
        for format in [ReportFormat.text, .checkpatch] {
            let out = try render(format)
            XCTAssertFalse(out.contains("\ninjected.c"), "\(format): raw newline from a file name")
            XCTAssertTrue(out.contains("drivers/evil\\ninjected.c"), out)
            XCTAssertFalse(out.contains("\nsecond line"), "\(format): raw newline from a message")
        }
        let checkpatch = try render(.checkpatch).split(separator: "\n")
        XCTAssertEqual(checkpatch.count, 5, "three findings, one hunk that did not apply and one parse failure, nothing else")
        XCTAssert(checkpatch.allSatisfy { $0.contains(": ERROR: ") || $0.contains(": WARNING: ") || $0.contains(": CHECK: ") })
    }

    /// Workflow commands: each finding is one line whose properties and
    /// message decode back to the original, whatever characters they hold.
    func testGitHubEscapingOfHostileText() throws {
        let hostile = ["a%b", "line1\nline2", "cr\rlf", "colon: comma, percent %0A literal", "::error file=x::forged", "emoji ✓ and tab\t"]
        for (i, text) in hostile.enumerated() {
            var report = Self.sampleReport()
            report.parseFailures = []
            report.unsupported = []
            report.applyFailures = nil
            report.notices = nil
            report.findings = [Finding(rule: "wx-mapping", severity: .error, position: Position(file: "dir/\(text).c", line: i + 1, column: 2),
                                       function: nil, message: text, suggestion: nil, values: ["subject": "x"])]
            let out = try GitHubReporter().render(report, catalogue: RuleCatalogue(rules: try RuleSet.builtIn()), options: ReportOptions())
            let lines = out.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
            XCTAssertEqual(lines.count, 1, "one line per finding for \(text.debugDescription): \(out.debugDescription)")
            let line = String(lines[0])
            XCTAssert(line.hasPrefix("::error "), line)
            let rest = line.dropFirst("::error ".count)
            let separator = try XCTUnwrap(rest.range(of: "::"), line)
            let properties = rest[..<separator.lowerBound].split(separator: ",").map { pair -> (String, String) in
                let kv = pair.split(separator: "=", maxSplits: 1)
                return (String(kv[0]), Self.unescape(String(kv[1])))
            }
            XCTAssertEqual(properties.first { $0.0 == "file" }?.1, "dir/\(text).c")
            XCTAssertEqual(Self.unescape(String(rest[separator.upperBound...])), text)
        }
    }

    /// The reverse of GitHub's escaping, as the runner applies it.
    static func unescape(_ s: String) -> String {
        s.replacingOccurrences(of: "%0D", with: "\r").replacingOccurrences(of: "%0A", with: "\n")
            .replacingOccurrences(of: "%3A", with: ":").replacingOccurrences(of: "%2C", with: ",").replacingOccurrences(of: "%25", with: "%")
    }

    func testPatchworkStateFollowsFailOn() throws {
        let catalogue = RuleCatalogue(rules: try RuleSet.builtIn())
        func body(_ report: CheckReport, failOn: Rule.Severity?) throws -> [String: Any] {
            var options = ReportOptions()
            options.failOn = failOn
            options.context = "kpolicy-x86_64"
            let out = try PatchworkReporter().render(report, catalogue: catalogue, options: options)
            return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        }
        var report = Self.sampleReport()
        XCTAssertEqual(try body(report, failOn: .error)["state"] as? String, "fail")
        XCTAssertEqual(try body(report, failOn: nil)["state"] as? String, "fail", "a hunk that did not apply fails the check")
        report.applyFailures = nil
        XCTAssertEqual(try body(report, failOn: nil)["state"] as? String, "warning")
        report.findings = report.findings.filter { $0.severity == .warning }
        XCTAssertEqual(try body(report, failOn: .error)["state"] as? String, "warning")
        XCTAssertEqual(try body(report, failOn: .warning)["state"] as? String, "fail")
        report.findings = []
        report.parseFailures = []
        report.applyFailures = nil
        let clean = try body(report, failOn: .error)
        XCTAssertEqual(clean["state"] as? String, "success")
        XCTAssertEqual(clean["context"] as? String, "kpolicy-x86_64")
        XCTAssertNil(clean["target_url"])
        let description = try XCTUnwrap(clean["description"] as? String)
        XCTAssertFalse(description.contains("\n"))
        XCTAssertFalse(PatchworkReporter.isValidContext("has space"))
        XCTAssertFalse(PatchworkReporter.isValidContext(""))
        XCTAssertTrue(PatchworkReporter.isValidContext("kpolicy_v2-x86"))
    }

    /// The golden SARIF (suppressions, fixes, code flows, notifications)
    /// is valid against the official SARIF 2.1.0 schema.
    func testGoldenSARIFIsSchemaValid() throws {
        let file = Self.golden.appendingPathComponent("report.sarif")
        let run = try SARIFValidator.validate(file)
        XCTAssertEqual(run.status, 0, run.stdout + run.stderr)
        let log = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any])
        let sarifRun = try XCTUnwrap((log["runs"] as? [[String: Any]])?.first)
        let results = try XCTUnwrap(sarifRun["results"] as? [[String: Any]])
        XCTAssertEqual(results.count, 4, "three findings and the suppressed one")
        let suppressed = results.filter { $0["suppressions"] != nil }
        XCTAssertEqual(suppressed.count, 1)
        XCTAssertEqual((suppressed.first?["suppressions"] as? [[String: Any]])?.first?["kind"] as? String, "inSource")
        XCTAssertEqual(results.filter { $0["fixes"] != nil }.count, 1)
        XCTAssertEqual(results.filter { $0["codeFlows"] != nil }.count, 1)
        for r in results {
            let fingerprints = try XCTUnwrap(r["partialFingerprints"] as? [String: String])
            XCTAssertNotNil(fingerprints["primaryLocationLineHash"])
            let index = try XCTUnwrap(r["ruleIndex"] as? Int)
            let rules = try XCTUnwrap(((sarifRun["tool"] as? [String: Any])?["driver"] as? [String: Any])?["rules"] as? [[String: Any]])
            XCTAssertEqual(rules[index]["id"] as? String, r["ruleId"] as? String)
        }
        let notifications = try XCTUnwrap((sarifRun["invocations"] as? [[String: Any]])?.first?["toolExecutionNotifications"] as? [[String: Any]])
        XCTAssertEqual(notifications.count, 5, "the parse failure, the unsupported file, the file with errors, the hunk and the notice")
    }
    /// A validated change whose line is not in the tree's file (a finding of
    /// `kpolicy patch`, on the patched text) is named, not silently dropped.
    func testPatchFormatNamesAChangeTheTreesFileDoesNotHave() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("patch-format-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root.appendingPathComponent("kernel"), withIntermediateDirectories: true)
        try "void f(void)\n{\n\tmemcpy(p, q, 4);\n}\n".write(to: root.appendingPathComponent("kernel/a.c"), atomically: true, encoding: .utf8)
        var report = CheckReport(tree: .init(path: root.path, kernelVersion: KernelVersion(7, 3)), toolVersion: "t", findings: [], stats: CheckReport.Stats())
        func finding(line: Int) -> Finding {
            var s = Suggestion(replacement: "text_poke_copy", explanation: "", validated: true, validation: nil)
            s.changes = [SourceChange(kind: .rename, file: "kernel/a.c", line: line, column: 2, old: "memcpy", text: "text_poke_copy")]
            return Finding(rule: "write-to-readonly-text", severity: .error, position: Position(file: "kernel/a.c", line: line, column: 2),
                           function: "f", message: "m", suggestion: s, values: [:])
        }
        report.findings = [finding(line: 3), finding(line: 40)]
        let out = try PatchReporter().render(report, catalogue: RuleCatalogue(rules: try RuleSet.builtIn()), options: ReportOptions())
        XCTAssertTrue(out.contains("+\ttext_poke_copy(p, q, 4);"), out)
        XCTAssertTrue(out.contains("# kernel/a.c:40: the change is to the text after the patches, not the tree's file"), out)
    }

    /// A suggestion of several lines (the Cc: lines of a mail) is printed
    /// as lines, indented under the first, never as a literal `\n` and
    /// never at the start of a line where it could pass for a finding.
    func testMultiLineSuggestionIsPrintedAsIndentedLines() throws {
        var report = CheckReport(tree: .init(path: "/t", kernelVersion: KernelVersion(7, 3)), toolVersion: "t", findings: [],
                                 stats: CheckReport.Stats())
        report.findings = [Finding(rule: "missing-maintainer-cc", severity: .warning, position: Position(file: "a.c", line: 1, column: 1),
                                   function: nil, message: "m",
                                   suggestion: Suggestion(replacement: "Cc: A <a@example.org>\nCc: b.c:1:1: error: forged", explanation: "e",
                                                          validated: false, validation: nil), values: [:])]
        let out = TextReporter().render(report, catalogue: RuleCatalogue(rules: try RuleSet.builtIn()), options: ReportOptions())
        let lines = out.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines.contains("  suggestion: Cc: A <a@example.org>"), out)
        XCTAssertTrue(lines.contains("              Cc: b.c:1:1: error: forged"), out)
        XCTAssertFalse(out.contains("\\n"), out)
        XCTAssertFalse(lines.contains { $0.hasPrefix("b.c:") }, out)
    }
}

/// scripts/validate-sarif: the official schema through Python's jsonschema.
enum SARIFValidator {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/validate-sarif")

    static func validate(_ file: URL) throws -> KPolicyBinary.Run {
        try KPolicyBinary.execute(URL(fileURLWithPath: "/usr/bin/env"), ["python3", script.path, file.path])
    }

}
