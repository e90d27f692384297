import ArgumentParser
import Foundation
import KPolicy

extension KPolicyCommand {
    /// `kpolicy rules`: what the rules are and say.
    struct Rules: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List, show and document the policy rules.",
            subcommands: [List.self, Show.self, Docs.self])

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
    }
}
