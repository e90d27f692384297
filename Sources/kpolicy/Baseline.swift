import ArgumentParser
import Foundation
import KPolicy

extension KPolicyCommand {
    /// `kpolicy baseline`: accept today's findings so later runs show only new ones.
    struct Baseline: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record the findings a tree has now, for --baseline to hide later.",
            subcommands: [Create.self])

        struct Create: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Check the tree and write a baseline of its findings (sorted, pretty JSON).",
                discussion: """
                    Entries are keyed by file, rule, the offending line's text and the message, not by \
                    line number, so they survive code moving. Exit codes: 0 written, 2 bad input, \
                    3 some file could not be parsed (the baseline is still written).
                    """)

            @Argument(help: "Files or directories of the tree; default: the whole tree.")
            var paths: [String] = []

            @OptionGroup var tree: TreeOptions

            @Option(help: "Write the baseline to this file instead of stdout.")
            var output: String?

            @Option(help: "Parallel parsers (default: the number of cores).")
            var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

            @Option(help: "Load rules from this directory instead of the built-in ones.")
            var rules: String?

            func validate() throws {
                guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
            }

            func run() throws {
                let ruleSet = try loadRules(rules)
                let run = CheckRun(workspace: try tree.workspace(), rules: ruleSet, toolVersion: KPolicyVersion.string)
                let report = try run.run(paths: paths, jobs: jobs)
                try emit(try KPolicy.Baseline(report: report).encoded(), to: output)
                for failure in report.parseFailures { Exit.printError("\(failure.file): not checked: \(failure.reason)") }
                if !report.parseFailures.isEmpty { throw Exit.parseFailure }
            }
        }
    }
}
