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

        @Argument(help: "Files or directories of the tree (relative to the tree root or absolute); default: the whole tree.")
        var paths: [String] = []

        @OptionGroup var tree: TreeOptions
        @OptionGroup var reporting: ReportingOptions

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
            run.progress = reporting.progressLine()
            try reporting.finish(try run.run(paths: paths, jobs: jobs), rules: ruleSet)
        }
    }
}

/// The built-in rules, or a directory's (`--rules`).
func loadRules(_ directory: String?) throws -> RuleSet {
    if let directory { return try RuleSet.load(directory: URL(fileURLWithPath: directory)) }
    return try RuleSet.builtIn()
}
