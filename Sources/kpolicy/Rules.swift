import ArgumentParser
import Foundation
import KPolicy
import Kbuild
import Parse
import Analysis

extension KPolicyCommand {
    /// `kpolicy rules`: what the rules are and say.
    struct Rules: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List, show and document the policy rules.",
            subcommands: [List.self, Show.self, Docs.self, Schema.self, Test.self])

        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "One line per rule: id, severity, title.")
            @Option(help: "Load rules from this directory instead of the built-in ones.")
            var rules: String?

            func run() throws {
                let set = try loadRules(rules)
                let width = set.rules.map(\.id.count).max() ?? 0
                var out = ""
                for r in set.rules {
                    out += r.id.padding(toLength: width + 2, withPad: " ", startingAt: 0)
                        + r.severity.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0) + r.title + "\n"
                }
                try emit(out, to: nil)
            }
        }

        struct Show: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "A rule's full description, rationale and examples.")
            @Argument(help: "The rule id.")
            var id: String
            @Option(help: "Load rules from this directory instead of the built-in ones.")
            var rules: String?

            func run() throws {
                let set = try loadRules(rules)
                guard let rule = set.rule(id) else {
                    throw Exit.fail("no rule \(id); known: \(set.rules.map(\.id).joined(separator: ", "))", Exit.badInput)
                }
                try emit(RuleDoc.markdown(rule), to: nil)
            }
        }

        struct Docs: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Write docs/rules/<id>.md for every rule.")
            @Option(help: "The directory to write to.")
            var output: String = "docs/rules"
            @Option(help: "Load rules from this directory instead of the built-in ones.")
            var rules: String?

            func run() throws {
                let set = try loadRules(rules)
                let dir = URL(fileURLWithPath: output)
                try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
                for rule in set.rules {
                    try emit(RuleDoc.markdown(rule), to: dir.appendingPathComponent("\(rule.id).md").path)
                }
            }
        }

        struct Schema: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "The rule-file schema (docs/rules-schema.md): fields and matcher kinds.")
            func run() throws { try emit(RuleSchema.markdown(), to: nil) }
        }

        struct Test: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Run the `// ruleid:` / `// ok:` annotations of a directory of C cases.",
                discussion: """
                    Every .c file under DIR (not include/ or model/) starts with `// corpus-path: <path in a tree>` and \
                    `// corpus-kernel: <version>` and includes the headers of DIR/include (docs/corpus.md). Each missing \
                    or extra finding is printed as file:line; the last line counts the files that passed and failed. \
                    What an internal-exposure rule calls internal comes from the cases that pretend to be its defining file \
                    and internal header, or with --tree from that kernel tree. Exit 0 when every case passes, 1 when one \
                    fails, 2 for bad input.
                    """)
            @Argument(help: "The directory of cases.")
            var directory: String = "Corpus"
            @Option(help: "Load rules from this directory instead of the built-in ones.")
            var rules: String?
            @Option(help: "The headers the cases include (default: DIR/include).")
            var include: String?
            @Option(help: "A kernel tree to derive internal function sets from, instead of the cases.")
            var tree: String?

            func run() throws {
                let set = try loadRules(rules)
                let dir = URL(fileURLWithPath: directory)
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: dir.path, isDirectory: &isDirectory), isDirectory.boolValue else {
                    throw Exit.fail("\(directory) is not a directory of cases", Exit.badInput)
                }
                let cases = try RuleTest.cases(in: dir)
                guard !cases.isEmpty else { throw Exit.fail("no .c cases under \(directory)", Exit.badInput) }
                let runner = try CorpusRunner(rules: set, includeDirectory: URL(fileURLWithPath: include ?? dir.appendingPathComponent("include").path))
                if let tree {
                    let workspace = try Workspace(tree: try KernelTree(path: tree))
                    runner.internals = try TreeKnowledge.internals(for: set, parser: try SourceParser(workspace: workspace))
                } else {
                    runner.internals = try RuleTest.internals(for: set, cases: cases, runner: runner)
                }
                try runner.useAsTree(cases)
                var out = ""
                var failed = 0
                let base = dir.standardizedFileURL.path + "/"
                for file in cases {
                    let name = file.standardizedFileURL.path.hasPrefix(base) ? String(file.standardizedFileURL.path.dropFirst(base.count)) : file.path
                    let outcome = try RuleTest.run(file, name: name, runner: runner)
                    if !outcome.passed { failed += 1 }
                    for p in outcome.problems { out += p + "\n" }
                }
                out += "kpolicy: \(cases.count - failed) passed, \(failed) failed\n"
                try emit(out, to: nil)
                if failed > 0 { throw Exit.findings }
            }
        }
    }
}