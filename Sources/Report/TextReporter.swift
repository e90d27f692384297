import Foundation
import KPolicyFiles
import PatchInput
import PathCheck

/// Compiler-style text: `file:line:col: severity: message [rule]`, the
/// suggestion and why indented under it, then one summary line. Control
/// characters in names and messages are escaped.
public struct TextReporter: Reporter {
    public static let identifier = "text"
    public static let summary = "compiler-style lines with suggestions, then a summary (the default)"

    public init() {}

    /// The path behind a finding as an aligned table.
    static func traceTable(_ trace: [PathChecker.TraceStep]) -> [String] {
        let header = ["step", "line", "call", "mapping", "alias", "invariant"]
        var rows = [header]
        for (i, s) in trace.enumerated() {
            rows.append(["\(i + 1)", s.line > 0 ? "\(s.line)" : "-", s.call, s.mapping, s.alias, s.invariants.isEmpty ? "" : s.invariants.joined(separator: ", ")])
        }
        var widths = Array(repeating: 0, count: header.count)
        for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], min(c.count, 70)) } }
        let arch = trace.first?.arch.map { " (\($0))" } ?? ""
        return ["path\(arch):"] + rows.map { r in
            r.enumerated().map { i, c in i == r.count - 1 ? c : c.padding(toLength: max(widths[i], c.count), withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
    }

    public func render(_ report: CheckReport, catalogue: RuleCatalogue, options: ReportOptions) -> String {
        var out = ""
        func line(_ s: String) { out += s.escapingControlCharacters + "\n" }
        for f in report.findings {
            line("\(f.position.file):\(f.position.line):\(f.position.column): \(f.severity.rawValue): \(f.message) [\(f.rule)]")
            if let patch = f.patch { line("  patch: \(patch.label)") }
            if let through = f.through { line("  through: \(through.joined(separator: "; "))") }
            if options.explain, let trace = f.trace {
                for row in TextReporter.traceTable(trace) { line("  " + row) }
            }
            if let s = f.suggestion {
                if !s.replacement.isEmpty {
                    let verdict = s.validation == nil ? "" : s.validated ? " (validated in the model)" : " (NOT validated: the model found problems)"
                    // A suggestion of several lines (the Cc: lines of a mail) keeps
                    // them, each escaped and indented under the first.
                    let lines = s.replacement.split(separator: "\n", omittingEmptySubsequences: false)
                    line("  suggestion: \(lines[0])\(lines.count == 1 ? verdict : "")")
                    for more in lines.dropFirst() { line("              \(more)") }
                    if lines.count > 1, !verdict.isEmpty { line("             \(verdict)") }
                }
                line("  why: \(s.explanation)")
                if options.verbose, let v = s.validation {
                    line("  model \(v.configuration):")
                    line("    now:     \(v.original.joined(separator: "; "))")
                    for x in v.originalViolations { line("      ! \(x)") }
                    line("    instead: \(v.replacement.joined(separator: "; "))")
                    for x in v.replacementViolations { line("      ! \(x)") }
                }
            }
        }
        for failure in report.applyFailures ?? [] {
            line("\(failure.file): error: \(failure.patch.label): \(failure.reason) [patch-does-not-apply]")
        }
        for notice in report.notices ?? [] { line("kpolicy: note: \(notice)") }
        for failure in report.parseFailures {
            line("\(failure.file): error: not checked: \(failure.reason) [parse-failure]")
        }
        for (reason, files) in Dictionary(grouping: report.unsupported, by: \.reason).sorted(by: { $0.key < $1.key }) {
            line("kpolicy: \(files.count) file\(files.count == 1 ? "" : "s") not checked: \(reason): \(files.map(\.file).joined(separator: ", "))")
        }
        for u in report.uncheckedFunctions ?? [] {
            line("\(u.file): note: path rules not run on \(u.reason) [function-not-checked]")
        }
        if options.verbose {
            for e in report.filesWithErrors { line("\(e.file):\(e.reason) [file-with-errors]") }
            for u in report.unusedSuppressions { line("\(u.file):\(u.line): note: unused suppression of \(u.rule)") }
            for e in report.unmatchedBaselineEntries { line("\(e.file): note: baseline entry matches nothing now: \(e.rule): \(e.line)") }
        }
        let s = report.stats
        var summary = "kpolicy: \(report.findings.count) finding\(report.findings.count == 1 ? "" : "s")"
        if !report.findings.isEmpty { summary += " (\(report.severityCounts))" }
        if s.suppressed > 0 { summary += ", \(s.suppressed) suppressed" }
        if let patches = report.patches { summary += "; \(patches.count) patch\(patches.count == 1 ? "" : "es")" }
        summary += "; \(s.filesScanned) files \(report.patches == nil ? "scanned" : "touched"), \(s.candidates) candidates, \(s.filesParsed) parsed"
        if s.parseFailures > 0 { summary += ", \(s.parseFailures) not parsed" }
        if let n = s.functionsUnchecked, n > 0 { summary += ", \(n) function\(n == 1 ? "" : "s") not path-checked" }
        if s.filesWithErrors > 0 { summary += ", \(s.filesWithErrors) with errors\(options.verbose ? "" : " (--verbose lists them)")" }
        summary += String(format: ", %.1f s", s.seconds)
        line(summary)
        return out
    }
}
