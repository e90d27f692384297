import Foundation
import KPolicyFiles
import PatchInput

/// The JSON body of patchwork's `POST /api/patches/{id}/checks/`:
/// `state` (success, warning or fail), `context`, a one-line
/// `description` and an optional `target_url` (docs/report-format.md has a
/// curl example).
public struct PatchworkReporter: Reporter {
    public static let identifier = "patchwork"
    public static let summary = "the body of a patchwork check (POST /api/patches/{id}/checks/)"

    /// Patchwork keeps descriptions short; longer ones are cut with an ellipsis.
    static let descriptionLimit = 250

    public init() {}

    struct Body: Encodable {
        var state: String
        var context: String
        var description: String
        var target_url: String?
    }

    public func render(_ report: CheckReport, catalogue: RuleCatalogue, options: ReportOptions) throws -> String {
        let failing = report.findings(atLeast: options.failOn)
        let state: String
        if !failing.isEmpty { state = "fail" }
        else if !(report.applyFailures ?? []).isEmpty { state = "fail" }
        else if !report.findings.isEmpty || !report.parseFailures.isEmpty { state = "warning" }
        else { state = "success" }
        var description: String
        if let first = failing.first ?? report.findings.first {
            description = "\(report.severityCounts); first: \(first.position.file):\(first.position.line) \(first.message) [\(first.rule)]"
            if let patch = first.patch, patch.total > 1 { description += " in patch \(patch.index)/\(patch.total)" }
        } else {
            description = "no findings in \(report.stats.filesParsed) checked file\(report.stats.filesParsed == 1 ? "" : "s")"
        }
        if let failures = report.applyFailures, !failures.isEmpty {
            description += "; \(failures.count) file\(failures.count == 1 ? "" : "s") did not apply"
        }
        if !report.parseFailures.isEmpty {
            description += "; \(report.parseFailures.count) file\(report.parseFailures.count == 1 ? "" : "s") not parsed"
        }
        description = description.escapingControlCharacters
        if description.count > Self.descriptionLimit { description = String(description.prefix(Self.descriptionLimit - 1)) + "…" }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let body = Body(state: state, context: options.context, description: description, target_url: options.targetURL)
        return String(decoding: try encoder.encode(body), as: UTF8.self) + "\n"
    }

    /// Whether `context` is a valid patchwork check context.
    public static func isValidContext(_ context: String) -> Bool {
        !context.isEmpty && context.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b == 0x2d || b == 0x5f
        }
    }
}
