import Foundation
import KPolicyFiles
import PatchInput
import Findings

/// One line per finding as `checkpatch.pl --terse` prints them, and
/// nothing else on stdout: `FILE:LINE: ERROR: message [rule]` (WARNING:,
/// CHECK: for info). b4's per-patch check reads each stdout line as one
/// finding and a line containing `ERROR:` as a failure.
public struct CheckpatchReporter: Reporter {
    public static let identifier = "checkpatch"
    public static let summary = "checkpatch.pl --terse lines, one per finding (for b4 prep --check)"

    public init() {}

    static func label(_ severity: Finding.Severity) -> String {
        switch severity {
        case .error: return "ERROR"
        case .warning: return "WARNING"
        case .info: return "CHECK"
        }
    }

    public func render(_ report: CheckReport, catalogue: RuleCatalogue, options: ReportOptions) -> String {
        var out = ""
        for f in report.findings {
            var text = "\(f.position.file):\(f.position.line): \(Self.label(f.severity)): \(f.message)"
            if let s = f.suggestion, !s.replacement.isEmpty { text += "; instead: \(s.replacement)" }
            text += " [\(f.rule)]"
            // Which patch, when the run had several; b4 hands over one at a time.
            if let patch = f.patch, (report.patches?.count ?? 0) > 1 { text += " (patch \(patch.label))" }
            out += text.escapingControlCharacters + "\n"
        }
        for failure in report.applyFailures ?? [] {
            out += "\(failure.file):1: ERROR: \(failure.patch.label): \(failure.reason) [patch-does-not-apply]".escapingControlCharacters + "\n"
        }
        for failure in report.parseFailures {
            out += "\(failure.file):1: ERROR: not checked: \(failure.reason) [parse-failure]".escapingControlCharacters + "\n"
        }
        return out
    }
}
