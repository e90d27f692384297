import ArgumentParser
import Foundation
import KPolicy
import Filter

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

            @OptionGroup var input: RunOptions

            @Option(help: "Write the baseline to this file instead of stdout.")
            var output: String?

            func run() throws {
                let (report, _) = try input.check()
                try emit(try Filter.Baseline(report: report).encoded(), to: output)
                for failure in report.parseFailures { Exit.printError("\(failure.file): not checked: \(failure.reason)") }
                if !report.parseFailures.isEmpty { throw Exit.parseFailure }
            }
        }
    }
}
