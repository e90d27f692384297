import Foundation
import KPolicy
import XCTest
import KernelModel
import Kbuild
import Parse
import Analysis
import Findings

/// Runs every rule on its annotated corpus (Corpus/<category>/<rule-id>[.<label>].c)
/// and every rule example, bare and hidden in a comment, a string and #if 0.
final class CorpusTests: XCTestCase {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let corpus = repo.appendingPathComponent("Corpus")

    /// Internal sets derived from the real 6.12 tree, as a check run would.
    static func runner() throws -> CorpusRunner {
        let rules = try RuleSet.builtIn()
        let tree = try KernelTree(path: try RealTrees.path("6.12"))
        let parser = try SourceParser(workspace: try Workspace(tree: tree))
        let internals = try TreeKnowledge.internals(for: rules, parser: parser)
        let runner = try CorpusRunner(rules: rules, includeDirectory: corpus.appendingPathComponent("include"), internals: internals)
        try runner.useAsTree(try RuleTest.cases(in: corpus))
        return runner
    }

    /// The corpus files, as `kpolicy rules test` finds them.
    func corpusFiles() throws -> [URL] { try RuleTest.cases(in: Self.corpus) }

    /// Every corpus file with the internal sets of the real 6.12 tree (as a
    /// check run derives them), and the count of cases per rule.
    func testCorpus() throws {
        let runner = try Self.runner()
        let ruleIDs = Set(runner.engine.rules.rules.map(\.id))
        var counts: [String: RuleTest.Counts] = [:]
        var problems: [String] = []
        for file in try corpusFiles() {
            let name = file.lastPathComponent
            // Corpus/tree/ holds the definitions other cases call, named for the function.
            XCTAssert(file.deletingLastPathComponent().lastPathComponent == "tree" || ruleIDs.contains(String(name.split(separator: ".").first!)),
                      "\(name): the file name does not start with a rule id")
            let outcome = try RuleTest.run(file, name: name, runner: runner)
            problems += outcome.problems
            for (rule, c) in outcome.counts {
                counts[rule, default: RuleTest.Counts()].ruleid += c.ruleid
                counts[rule, default: RuleTest.Counts()].ok += c.ok
                counts[rule, default: RuleTest.Counts()].todo += c.todo
            }
        }
        let mailRules = Set(runner.engine.rules.rules.filter { $0.match.kind == "recipients" }.map(\.id))
        for id in ruleIDs.sorted() where !mailRules.contains(id) {
            let c = counts[id] ?? RuleTest.Counts()
            if c.ruleid < 8 || c.ok < 8 { problems.append("\(id): the corpus has \(c.ruleid) ruleid and \(c.ok) ok cases; at least 8 of each are required") }
        }
        XCTAssert(problems.isEmpty, "corpus mismatches:\n" + problems.joined(separator: "\n"))
    }

    /// Each example: `bad` reported, `good` not; `bad` inside a comment, a
    /// string literal or #if 0 not reported.
    func testRuleExamples() throws {
        let runner = try Self.runner()
        var problems: [String] = []
        for rule in runner.engine.rules.rules where rule.match.kind != "recipients" {
            for example in rule.examples {
                let kernel = KernelVersion(string: example.kernel)!
                func findings(_ body: String) throws -> [Finding] {
                    let text = "#include \"kpolicy-corpus.h\"\n" + body
                    let (found, errors) = try runner.run(text: text, path: example.path, kernel: kernel)
                    if !errors.isEmpty { problems.append("\(rule.id) / \(example.name): does not compile: \(errors[0])") }
                    return found.filter { $0.rule == rule.id }
                }
                if try findings(example.bad).isEmpty { problems.append("\(rule.id) / \(example.name): bad example not reported") }
                if let f = try findings(example.good).first { problems.append("\(rule.id) / \(example.name): good example reported: \(f.message)") }
                let quoted = example.bad.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                    .split(separator: "\n", omittingEmptySubsequences: false).map { "\"\($0)\\n\"" }.joined(separator: "\n")
                let hidden = [
                    "comment": "/*\n" + example.bad + "\n*/\n",
                    "line comments": example.bad.split(separator: "\n", omittingEmptySubsequences: false).map { "// " + $0 }.joined(separator: "\n") + "\n",
                    "string literal": "static const char example_text[] =\n" + quoted + ";\n",
                    "#if 0": "#if 0\n" + example.bad + "\n#endif\n",
                ]
                for (how, text) in hidden.sorted(by: { $0.key < $1.key }) {
                    if let f = try findings(text).first { problems.append("\(rule.id) / \(example.name): reported inside a \(how): \(f.message)") }
                }
                // With an inline suppression on each reported line (the line itself,
                // or the line before), nothing is reported.
                let lines = example.bad.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                let reported = Set(try findings(example.bad).map { $0.position.line - 2 })  // 0-based in `lines`: line 1 is the #include
                let sameLine = lines.enumerated().map { i, l in reported.contains(i) ? "\(l) /* kpolicy: ignore \(rule.id) -- example */" : l }
                let lineBefore = lines.enumerated().flatMap { i, l in reported.contains(i) ? ["// kpolicy: ignore \(rule.id) -- example", l] : [l] }
                for (how, body) in [("on the line", sameLine), ("on the line before", lineBefore)] {
                    let found = try findings(body.joined(separator: "\n"))
                    if let f = found.first { problems.append("\(rule.id) / \(example.name): reported despite a suppression \(how): \(f.message)") }
                }
                if reported.isEmpty { problems.append("\(rule.id) / \(example.name): no line to suppress") }
            }
        }
        XCTAssert(problems.isEmpty, problems.joined(separator: "\n"))
    }

    /// Examples of mail rules are patch mails: `bad` is reported against the
    /// real tree's MAINTAINERS of the example's kernel, `good` is not.
    func testRecipientRuleExamples() throws {
        let rules = try RuleSet.builtIn()
        var problems: [String] = []
        var checked = 0
        for rule in rules.rules where rule.match.kind == "recipients" {
            for example in rule.examples {
                let version = KernelVersion(string: example.kernel)!
                let tree = URL(fileURLWithPath: try RealTrees.path(version.series))
                let check = RecipientCheck(rules: RuleSet(rules: [rule]), version: version, tree: tree)
                for (label, text, expected) in [("bad", example.bad, true), ("good", example.good, false)] {
                    let patches = try PatchInput.read([(source: "\(rule.id)/\(example.name)/\(label)", bytes: Array(text.utf8))])
                    let (found, notices) = try check.findings(for: patches)
                    XCTAssert(notices.isEmpty, "\(notices)")
                    if found.isEmpty == expected {
                        problems.append("\(rule.id) / \(example.name): \(label) example \(expected ? "not reported" : "reported: \(found[0].message)")")
                    }
                    if expected, let f = found.first, f.position.file != example.path {
                        problems.append("\(rule.id) / \(example.name): reported at \(f.position.file), expected \(example.path)")
                    }
                    checked += 1
                }
            }
        }
        XCTAssertGreaterThan(checked, 0)
        XCTAssert(problems.isEmpty, problems.joined(separator: "\n"))
    }

    /// Corpus/<category>/<rule-id>.<label>.patch: patch mails (or plain
    /// diffs) made with git from real tree files, applied in memory to the
    /// real tree their `X-Kpolicy-Tree:` names. Their `X-Kpolicy-Expect:`
    /// lines (`<rule> <file>[:<line>]`, or `none`) must be exactly what
    /// `kpolicy patch` reports.
    func testPatchCorpus() throws {
        let fm = FileManager.default
        var files: [URL] = []
        for category in try fm.contentsOfDirectory(atPath: Self.corpus.path).sorted() {
            let dir = Self.corpus.appendingPathComponent(category)
            for name in (try? fm.contentsOfDirectory(atPath: dir.path))?.sorted() ?? [] where name.hasSuffix(".patch") {
                files.append(dir.appendingPathComponent(name))
            }
        }
        XCTAssertGreaterThanOrEqual(files.count, 8)
        let rules = try RuleSet.builtIn()
        var runs: [String: PatchRun] = [:]
        var problems: [String] = []
        var counts: [String: (ruleid: Int, ok: Int)] = [:]
        for file in files {
            let text = try String(contentsOf: file, encoding: .utf8)
            var series: String?
            var expected: [String] = []
            for line in text.split(separator: "\n", omittingEmptySubsequences: false).prefix(40) {
                let l = line.hasPrefix("# ") ? line.dropFirst(2) : line[...]
                if l.hasPrefix("X-Kpolicy-Tree:") { series = l.dropFirst("X-Kpolicy-Tree:".count).trimmingCharacters(in: .whitespaces) }
                if l.hasPrefix("X-Kpolicy-Expect:") { expected.append(l.dropFirst("X-Kpolicy-Expect:".count).trimmingCharacters(in: .whitespaces)) }
            }
            let name = file.lastPathComponent
            let stem = String(name.split(separator: ".")[0])
            guard let series, !expected.isEmpty else {
                problems.append("\(name): no X-Kpolicy-Tree or X-Kpolicy-Expect line")
                continue
            }
            if runs[series] == nil {
                runs[series] = PatchRun(workspace: try Workspace(tree: try KernelTree(path: try RealTrees.path(series))), rules: rules, toolVersion: "test")
            }
            let report = try runs[series]!.run(try PatchInput.read([(source: name, bytes: Array(text.utf8))]), jobs: 2)
            XCTAssertEqual(report.applyFailures ?? [], [], name)
            let wanted = Set(expected.filter { $0 != "none" })
            let found = report.findings.map { f -> String in
                let place = wanted.contains { $0.contains(":") } ? "\(f.position.file):\(f.position.line)" : f.position.file
                return "\(f.rule) \(place)"
            }
            if Set(found) != wanted { problems.append("\(name): expected \(wanted.sorted()), got \(found.sorted())") }
            var c = counts[stem] ?? (0, 0)
            if wanted.contains(where: { $0.hasPrefix(stem + " ") }) { c.ruleid += 1 } else { c.ok += 1 }
            counts[stem] = c
        }
        for (rule, c) in counts where c.ruleid < 4 || c.ok < 4 {
            problems.append("\(rule): \(c.ruleid) reported and \(c.ok) clean patch cases; at least 4 of each are required")
        }
        XCTAssert(counts["missing-maintainer-cc"] != nil, "no patch cases for missing-maintainer-cc")
        XCTAssert(problems.isEmpty, "patch corpus mismatches:\n" + problems.joined(separator: "\n"))
    }
}
