import ArgumentParser
import Foundation
import KPolicy

extension KPolicyCommand {
    /// `kpolicy check`: run the rules over a tree or some paths of it.
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a kernel tree, or some paths of it, against the policy rules.",
            discussion: """
                Files are prefiltered on the rules' trigger identifiers, parsed with libclang \
                in parallel and checked. Exit codes: 0 nothing at or above --fail-on, 1 findings \
                at or above it, 2 bad input, 3 some file could not be parsed or read, 64 bad \
                command line, 70 internal error.
                """)

        @OptionGroup var input: RunOptions
        @OptionGroup var reporting: ReportingOptions

        func run() throws {
            let (report, rules) = try input.check(progress: reporting.progressLine())
            try reporting.finish(report, rules: rules)
        }
    }
}
