import Foundation
import KPolicyFiles
import PatchInput
import Findings

/// GitHub Actions workflow commands, one per finding:
/// `::error file=F,line=L,col=C,endLine=..,endColumn=..,title=T::message`.
/// Data escapes `%`, CR and LF; property values also `:` and `,`.
public struct GitHubReporter: Reporter {
    public static let identifier = "github"
    public static let summary = "GitHub Actions annotations (::error file=...::message)"

    public init() {}

    /// A workflow command's message.
    public static func escapeData(_ s: String) -> String {
        s.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "\r", with: "%0D").replacingOccurrences(of: "\n", with: "%0A")
    }

    /// A workflow command's property value.
    public static func escapeProperty(_ s: String) -> String {
        escapeData(s).replacingOccurrences(of: ":", with: "%3A").replacingOccurrences(of: ",", with: "%2C")
    }

    static func command(_ severity: Finding.Severity) -> String {
        switch severity {
        case .error: return "error"
        case .warning: return "warning"
        case .info: return "notice"
        }
    }

    static func line(_ command: String, _ properties: [(String, String)], _ message: String) -> String {
        let props = properties.map { "\($0.0)=\(escapeProperty($0.1))" }.joined(separator: ",")
        return "::\(command)\(props.isEmpty ? "" : " " + props)::\(escapeData(message))\n"
    }

    public func render(_ report: CheckReport, catalogue: RuleCatalogue, options: ReportOptions) -> String {
        var out = ""
        for f in report.findings {
            var props = [("file", f.position.file), ("line", "\(f.position.line)"), ("col", "\(f.position.column)")]
            if let end = f.end {
                props += [("endLine", "\(end.line)")]
                if end.line == f.position.line { props += [("endColumn", "\(end.column)")] }
            }
            props.append(("title", "kpolicy \(f.rule)"))
            var message = f.message
            if let patch = f.patch { message += "\nPatch: \(patch.label)" }
            if let s = f.suggestion {
                if !s.replacement.isEmpty { message += "\nInstead: \(s.replacement)\(s.validated ? " (validated in the model)" : "")" }
                message += "\nWhy: \(s.explanation)"
            }
            out += Self.line(Self.command(f.severity), props, message)
        }
        for failure in report.applyFailures ?? [] {
            out += Self.line("error", [("file", failure.file), ("title", "kpolicy patch-does-not-apply")], "\(failure.patch.label): \(failure.reason)")
        }
        for notice in report.notices ?? [] { out += Self.line("notice", [("title", "kpolicy")], notice) }
        for failure in report.parseFailures {
            out += Self.line("error", [("file", failure.file), ("title", "kpolicy parse-failure")], "not checked: \(failure.reason)")
        }
        for (reason, files) in Dictionary(grouping: report.unsupported, by: \.reason).sorted(by: { $0.key < $1.key }) {
            out += Self.line("notice", [("title", "kpolicy: files not checked")],
                             "\(files.count) file\(files.count == 1 ? "" : "s") not checked: \(reason): \(files.map(\.file).joined(separator: ", "))")
        }
        return out
    }
}
