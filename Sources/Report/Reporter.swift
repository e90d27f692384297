import Foundation
import KPolicyFiles
import PatchInput
import Analysis
import Findings

/// A reporter turns a run's report into the bytes one consumer reads: a
/// pure function of the report, the rule catalogue and the options.
public protocol Reporter: Sendable {
    /// The `--format` name.
    static var identifier: String { get }
    /// One line for `--help` and the docs.
    static var summary: String { get }
    func render(_ report: CheckReport, catalogue: RuleCatalogue, options: ReportOptions) throws -> String
}

/// What reporters may be told besides the report.
public struct ReportOptions: Sendable {
    /// More detail: model runs, files with errors, unused suppressions,
    /// baseline entries that no longer match.
    public var verbose = false
    /// Print the path behind each path-rule finding as a table (text format).
    public var explain = false
    /// The severity from which findings fail the run (`--fail-on`); nil
    /// for `never`. Patchwork's state follows it.
    public var failOn: Finding.Severity? = .error
    /// Patchwork check context (`^[-a-zA-Z0-9_]+$`).
    public var context = "kpolicy"
    /// Patchwork check target URL (at most 200 characters).
    public var targetURL: String?
    /// Base URI the rule docs are published under (SARIF `helpUri` is
    /// `<base><rule-id>.md`); nil leaves `helpUri` out.
    public var helpURIBase: String?

    public init() {}
}

/// Every output format, by `--format` name.
public enum ReportFormat: String, CaseIterable, Sendable {
    case text, json, sarif, github, patchwork, checkpatch, patch

    public var reporter: any Reporter {
        switch self {
        case .text: return TextReporter()
        case .json: return JSONReporter()
        case .sarif: return SARIFReporter()
        case .github: return GitHubReporter()
        case .patchwork: return PatchworkReporter()
        case .checkpatch: return CheckpatchReporter()
        case .patch: return PatchReporter()
        }
    }

    /// Formats a machine reads: no progress line, nothing else on stdout.
    public var isMachineReadable: Bool { self != .text }
}

/// The rules a report may name, from Rules/ and kpolicy's built-in ones,
/// with what reporters show of them.
public struct RuleCatalogue: Sendable {
    public struct Entry: Sendable {
        public var id: String
        public var title: String
        public var summary: String
        public var rationale: String
        public var category: String
        public var severity: Finding.Severity
        public var confidence: Rule.Confidence
        /// The rule's documentation page (docs/rules/<id>.md) as Markdown.
        public var markdown: String
    }

    public var entries: [Entry]

    public init(rules: RuleSet) {
        entries = rules.rules.map { r in
            Entry(id: r.id, title: r.title, summary: r.summary.trimmingCharacters(in: .whitespacesAndNewlines),
                  rationale: r.rationale.trimmingCharacters(in: .whitespacesAndNewlines), category: r.category,
                  severity: r.severity, confidence: r.confidence, markdown: RuleDoc.markdown(r))
        }
        let b = BuiltInRule.suppressionWithoutReason
        entries.append(Entry(id: b.id, title: b.title, summary: b.summary, rationale: b.rationale, category: "kpolicy",
                             severity: b.severity, confidence: b.confidence,
                             markdown: "# \(b.id)\n\n**\(b.title)**\n\n\(b.summary)\n\n## Why\n\n\(b.rationale)\n"))
        entries.sort { $0.id < $1.id }
    }

    public func index(of id: String) -> Int? { entries.firstIndex { $0.id == id } }
}

extension String {
    /// The text on one line: control characters (newlines included) shown
    /// as escapes, so a file name or message cannot forge report lines.
    public var escapingControlCharacters: String {
        var out = ""
        for scalar in unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7f || (scalar.value >= 0x80 && scalar.value < 0xa0) {
                    out += String(format: "\\x%02x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}

extension CheckReport {
    /// "2 errors, 1 warning" (most severe first), or "no findings".
    var severityCounts: String {
        let counts = Dictionary(grouping: findings, by: \.severity).mapValues(\.count)
        let parts = Finding.Severity.allCases.reversed().compactMap { sev in counts[sev].map { "\($0) \(sev.rawValue)\($0 == 1 ? "" : "s")" } }
        return parts.isEmpty ? "no findings" : parts.joined(separator: ", ")
    }
}
