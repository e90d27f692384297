import Foundation
import KPolicyFiles
import PatchInput

/// The `kpolicy-report/1` JSON document (docs/report-format.md): the
/// report's own Codable form, keys sorted.
public struct JSONReporter: Reporter {
    public static let identifier = "json"
    public static let summary = "kpolicy-report/1, the whole report as JSON (docs/report-format.md)"

    public init() {}

    public func render(_ report: CheckReport, catalogue: RuleCatalogue, options: ReportOptions) throws -> String {
        try report.encodedJSON()
    }
}
