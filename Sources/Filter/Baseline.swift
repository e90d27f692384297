import Foundation
import KPolicyFiles
import PatchInput
import Report
import Findings

/// Findings accepted when adopting kpolicy on a tree (`kpolicy baseline
/// create`), hidden from later runs with `--baseline FILE`.
public struct Baseline: Codable, Sendable, Equatable {
    public static let schemaName = "kpolicy-baseline/1"
    public var schema = Baseline.schemaName
    public var entries: [BaselineEntry]

    public init(report: CheckReport) {
        entries = report.findings.map(BaselineEntry.init).sorted()
    }

    public init(entries: [BaselineEntry]) { self.entries = entries.sorted() }

    /// Sorted, pretty JSON.
    public func encoded() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self) + "\n"
    }

    /// Reads a baseline file; anything malformed is bad input naming the
    /// file and what is wrong.
    public static func load(path: String) throws -> Baseline {
        try decode(Data(try InputSource.read(path)), path: path)
    }

    public static func decode(_ data: Data, path: String) throws -> Baseline {
        let baseline: Baseline
        do {
            baseline = try JSONDecoder().decode(Baseline.self, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            throw KPolicyError.badInput(path: path, reason: "not a kpolicy baseline: \(where_(context))missing \"\(key.stringValue)\"")
        } catch let DecodingError.typeMismatch(_, context) {
            throw KPolicyError.badInput(path: path, reason: "not a kpolicy baseline: \(where_(context))wrong type")
        } catch let DecodingError.valueNotFound(_, context) {
            throw KPolicyError.badInput(path: path, reason: "not a kpolicy baseline: \(where_(context))null value")
        } catch {
            throw KPolicyError.badInput(path: path, reason: "not valid JSON")
        }
        guard baseline.schema == schemaName else {
            throw KPolicyError.badInput(path: path, reason: "schema is \"\(baseline.schema)\", expected \"\(schemaName)\"")
        }
        return baseline
    }

    private static func where_(_ context: DecodingError.Context) -> String {
        let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        return path.isEmpty ? "" : "at \(path): "
    }

    /// Hides the report's findings the baseline lists (each entry hides one
    /// finding) and records entries that matched nothing.
    public func apply(to report: inout CheckReport) {
        var remaining: [BaselineEntry: Int] = [:]
        for e in entries { remaining[e, default: 0] += 1 }
        var kept: [Finding] = []
        for f in report.findings {
            let key = BaselineEntry(f)
            if let n = remaining[key], n > 0 {
                remaining[key] = n - 1
                var hidden = f
                hidden.suppression = FindingSuppression(kind: .external, justification: "in the baseline")
                report.suppressed.append(hidden)
            } else {
                kept.append(f)
            }
        }
        report.findings = kept
        report.suppressed.sort { ($0.position, $0.rule) < ($1.position, $1.rule) }
        report.stats.suppressed = report.suppressed.count
        report.unmatchedBaselineEntries = remaining.flatMap { e, n in Array(repeating: e, count: n) }.sorted()
    }
}
