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
                in parallel and checked. Exit codes: 0 no findings, 1 findings, 2 bad input, \
                3 some file could not be parsed (and nothing was found).
                """)

        @Argument(help: "Files or directories of the tree (relative to the tree root or absolute); default: the whole tree.")
        var paths: [String] = []

        @OptionGroup var tree: TreeOptions

        @Option(help: "Output format: text or json.")
        var format: OutputFormat = .text

        @Option(help: "Parallel parsers (default: the number of cores).")
        var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

        @Option(help: "Write the report to this file instead of stdout.")
        var output: String?

        @Option(help: "Load rules from this directory instead of the built-in ones.")
        var rules: String?

        @Flag(help: "Show the model runs behind each suggestion.")
        var verbose = false

        @Flag(help: "No progress line on stderr.")
        var quiet = false

        func validate() throws {
            guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
        }

        func run() throws {
            let ruleSet = try loadRules(rules)
            let workspace = try tree.workspace()
            let checker = Checker(workspace: workspace, rules: ruleSet)
            let showProgress = !quiet && isatty(2) != 0
            if showProgress {
                let start = Date()
                checker.progress = { done, total, file in
                    let line = String(format: "\r\u{1B}[K[%d/%d] %.0fs %@", done, total, Date().timeIntervalSince(start), file)
                    FileHandle.standardError.write(Data(line.utf8))
                }
            }
            let report: CheckReport
            do {
                report = try checker.run(paths: paths, jobs: jobs)
            } catch let error as KPolicyError {
                throw Exit.fail("\(error)", Exit.badInput)
            }
            if showProgress { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            switch format {
            case .json: try emit(try JSONReport(report, toolVersion: KPolicyVersion.string).encoded(), to: output)
            case .text: try emit(TextReport.render(report, verbose: verbose), to: output)
            }
            if !report.findings.isEmpty { throw Exit.findings }
            if !report.failures.isEmpty { throw Exit.parseFailure }
        }
    }
}

/// The built-in rules, or a directory's (`--rules`).
func loadRules(_ directory: String?) throws -> RuleSet {
    do {
        if let directory { return try RuleSet.load(directory: URL(fileURLWithPath: directory)) }
        return try RuleSet.builtIn()
    } catch let error as KPolicyError {
        throw Exit.fail("\(error)", Exit.badInput)
    }
}
