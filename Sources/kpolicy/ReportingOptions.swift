import ArgumentParser
import Foundation
import KPolicy
import KPolicyFiles
import Analysis
import Report
import Filter

extension ReportFormat: ExpressibleByArgument {}

/// `--fail-on`: the lowest severity that makes the run fail (exit 1).
enum FailOn: String, ExpressibleByArgument, CaseIterable {
    case error, warning, info, never

    var threshold: Rule.Severity? {
        switch self {
        case .error: return .error
        case .warning: return .warning
        case .info: return .info
        case .never: return nil
        }
    }
}

/// Options of every subcommand that reports findings.
struct ReportingOptions: ParsableArguments {
    @Option(help: "Output format: \(ReportFormat.allCases.map(\.rawValue).joined(separator: ", ")).")
    var format: ReportFormat = .text

    @Option(help: "Write the report to this file instead of stdout.")
    var output: String?

    @Option(help: "Findings of this severity or above fail the run with exit code 1: error, warning, info or never.")
    var failOn: FailOn = .error

    @Option(help: "Hide the findings a baseline file (from 'kpolicy baseline create') lists.")
    var baseline: String?

    @Option(help: "Patchwork check context (letters, digits, '-' and '_').")
    var context: String = "kpolicy"

    @Option(help: "Patchwork check target URL (at most 200 characters).")
    var targetURL: String?

    @Option(help: "SARIF: base URI the rule docs are published under; helpUri becomes <base><rule-id>.md.")
    var helpURIBase: String?

    @Flag(help: "Show the model runs behind suggestions, files parsed with errors, unused suppressions and stale baseline entries.")
    var verbose = false

    @Flag(help: "Text format: print the path behind each finding of a path rule as a table (step, line, call, permissions of the mapping and of its direct-map alias, invariants).")
    var explain = false

    @Flag(help: "No progress line on stderr.")
    var quiet = false

    func validate() throws {
        guard PatchworkReporter.isValidContext(context) else {
            throw ValidationError("--context must match ^[-a-zA-Z0-9_]+$, got '\(context)'")
        }
        if let targetURL, targetURL.count > 200 || URL(string: targetURL)?.scheme == nil {
            throw ValidationError("--target-url must be an absolute URL of at most 200 characters")
        }
    }

    var reportOptions: ReportOptions {
        var o = ReportOptions()
        o.verbose = verbose
        o.explain = explain
        o.failOn = failOn.threshold
        o.context = context
        o.targetURL = targetURL
        o.helpURIBase = helpURIBase
        return o
    }

    /// Applies the baseline, renders, writes, and ends with the run's exit
    /// code: 1 for findings at or above --fail-on, else 3 when a file could
    /// not be parsed or read, else 0.
    func finish(_ report: CheckReport, rules: RuleSet) throws {
        var report = report
        if let baseline {
            try Filter.Baseline.load(path: baseline).apply(to: &report)
        }
        let text = try format.reporter.render(report, catalogue: RuleCatalogue(rules: rules), options: reportOptions)
        try emit(text, to: output)
        // A hunk that did not apply: the check is incomplete, the input is bad.
        for failure in report.applyFailures ?? [] {
            // The reason of a hunk that does not apply already starts with the file.
            let reason = failure.reason.hasPrefix(failure.file + ":") ? failure.reason : "\(failure.file): \(failure.reason)"
            Exit.printError("\(failure.patch.label): \(reason)")
        }
        if !(report.applyFailures ?? []).isEmpty { throw Exit.badInput }
        if !report.findings(atLeast: failOn.threshold).isEmpty { throw Exit.findings }
        if !report.parseFailures.isEmpty { throw Exit.parseFailure }
    }

    /// A live progress line on stderr, only when it is a terminal and the
    /// output is for people.
    func progressLine() -> (@Sendable (Int, Int, String) -> Void)? {
        guard !quiet, isatty(2) != 0, !format.isMachineReadable || output != nil else { return nil }
        let start = Date()
        return { done, total, file in
            let elapsed = Date().timeIntervalSince(start)
            let eta = done > 0 ? elapsed / Double(done) * Double(total - done) : 0
            let line = String(format: "\r\u{1B}[K[%d/%d] %.0fs, about %.0fs left %@", done, total, elapsed, eta, file.escapingControlCharacters)
            StandardError.write(line)
            if done == total { StandardError.write("\r\u{1B}[K") }
        }
    }
}
