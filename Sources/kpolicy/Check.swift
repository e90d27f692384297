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

        @Flag(help: "Fidelity gate: analyse every candidate with the precompiled header and the full way, list the files where facts or findings differ and why others were parsed the full way (exit 1 when any differ).")
        var pchFidelity = false

        func run() throws {
            if pchFidelity {
                let fidelity = try input.makeRun(try loadRules(input.rules), progress: reporting.progressLine())
                    .precompiledHeaderFidelity(paths: input.paths, jobs: input.jobs)
                try emit(fidelity.text, to: reporting.output)
                if !fidelity.differing.isEmpty { throw Exit.findings }
                return
            }
            let (report, rules) = try input.check(progress: reporting.progressLine())
            try reporting.finish(report, rules: rules)
        }
    }
}
