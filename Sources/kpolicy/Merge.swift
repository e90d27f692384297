import ArgumentParser
import Foundation
import KPolicy
import PatchInput
import Report

extension KPolicyCommand {
    /// `kpolicy merge`: join the JSON reports of `kpolicy check --shard K/N`.
    struct Merge: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Join the kpolicy-report/1 JSON reports of the shards of one check into one report.",
            discussion: """
                Findings are deduplicated by fingerprint, every parse failure is kept and the \
                stats are summed. The result is written in any --format; exit codes as for \
                'kpolicy check' (2 when a report cannot be read or belongs to another tree \
                version or kpolicy version).
                """)

        @Argument(help: "JSON reports written by 'kpolicy check --format json' ('-' reads stdin).")
        var reports: [String]

        @Option(help: "Load rules from this directory instead of the built-in ones (for the rule catalogue of SARIF).")
        var rules: String?

        @OptionGroup var reporting: ReportingOptions

        func validate() throws {
            guard !reports.isEmpty else { throw ValidationError("give at least one report") }
        }

        func run() throws {
            let inputs = try reports.map { path -> (source: String, report: CheckReport) in
                (path, try CheckReport.decode(json: Data(try InputSource.read(path)), source: path))
            }
            try reporting.finish(try CheckReport.merged(inputs), rules: try loadRules(rules))
        }
    }
}
