import Foundation
import KPolicyFiles
import PatchInput
import Analysis
import Report
import Findings

extension CheckReport {
    /// Joins the reports of the shards of one check (`kpolicy merge`):
    /// findings and suppressed findings deduplicated by fingerprint (a
    /// header's finding is seen from files of several shards), every parse
    /// failure, unsupported file and file with errors kept (once per file),
    /// stats summed (`seconds` too: the machine time the shards spent). An
    /// inline suppression one shard did not use is dropped when the merged
    /// report holds a finding it hid; a baseline entry is unmatched when no
    /// shard matched it.
    ///
    /// - Throws: `KPolicyError.badInput` for no reports, patch-mode reports,
    ///   or reports of different kernel versions, trees or tool versions.
    public static func merged(_ reports: [(source: String, report: CheckReport)]) throws -> CheckReport {
        guard let first = reports.first?.report else {
            throw KPolicyError.badInput(path: "merge", reason: "no reports to merge")
        }
        for (source, r) in reports {
            if r.schema != first.schema {
                throw KPolicyError.badInput(path: source, reason: "is \(r.schema), not \(first.schema)")
            }
            if r.patches != nil || r.applyFailures != nil {
                throw KPolicyError.badInput(path: source, reason: "is a patch-mode report; merge joins the shards of one 'kpolicy check'")
            }
            if r.tree.kernelVersion != first.tree.kernelVersion {
                throw KPolicyError.badInput(path: source, reason: "is a report on Linux \(r.tree.kernelVersion), the first on \(first.tree.kernelVersion)")
            }
            if r.tool.version != first.tool.version {
                throw KPolicyError.badInput(path: source, reason: "was written by kpolicy \(r.tool.version), the first by \(first.tool.version)")
            }
        }
        try checkShards(reports)
        func unique(_ findings: [Finding]) -> [Finding] {
            var seen: Set<String> = []
            return findings.sorted { ($0.position, $0.rule, $0.fingerprint) < ($1.position, $1.rule, $1.fingerprint) }
                .filter { seen.insert($0.fingerprint).inserted }
        }
        func notes(_ lists: [[FileNote]]) -> [FileNote] {
            var seen: Set<String> = []
            return lists.joined().sorted { ($0.file, $0.reason) < ($1.file, $1.reason) }.filter { seen.insert($0.file).inserted }
        }
        var merged = first
        merged.shard = nil   // the whole check again
        merged.findings = unique(reports.flatMap(\.report.findings))
        merged.suppressed = unique(reports.flatMap(\.report.suppressed))
        merged.parseFailures = notes(reports.map(\.report.parseFailures))
        merged.unsupported = notes(reports.map(\.report.unsupported))
        merged.filesWithErrors = notes(reports.map(\.report.filesWithErrors))
        var seenUnchecked: Set<String> = []
        let unchecked = reports.flatMap { $0.report.uncheckedFunctions ?? [] }.sorted { ($0.file, $0.reason) < ($1.file, $1.reason) }
            .filter { seenUnchecked.insert("\($0.file)\u{0}\($0.reason)").inserted }
        merged.uncheckedFunctions = unchecked.isEmpty ? nil : unchecked

        // An inline suppression hides findings on its line and the next.
        let hidden = Set(merged.suppressed.compactMap { f -> String? in
            guard f.suppression?.kind == .inSource else { return nil }
            return "\(f.position.file):\(f.position.line):\(f.rule)"
        })
        var seenUnused: Set<String> = []
        merged.unusedSuppressions = reports.flatMap(\.report.unusedSuppressions).filter { s in
            !hidden.contains("\(s.file):\(s.line):\(s.rule)") && !hidden.contains("\(s.file):\(s.line + 1):\(s.rule)")
                && seenUnused.insert("\(s.file):\(s.line):\(s.rule)").inserted
        }.sorted { ($0.file, $0.line, $0.rule) < ($1.file, $1.line, $1.rule) }

        // Unmatched in the merge = unmatched in every shard (multiset minimum).
        var unmatched: [BaselineEntry: Int] = [:]
        for (i, r) in reports.enumerated() {
            var counts: [BaselineEntry: Int] = [:]
            for e in r.report.unmatchedBaselineEntries { counts[e, default: 0] += 1 }
            if i == 0 { unmatched = counts } else {
                unmatched = unmatched.compactMapValues { $0 }.reduce(into: [:]) { out, kv in
                    let n = min(kv.value, counts[kv.key] ?? 0)
                    if n > 0 { out[kv.key] = n }
                }
            }
        }
        merged.unmatchedBaselineEntries = unmatched.flatMap { Array(repeating: $0.key, count: $0.value) }.sorted()

        var stats = Stats()
        for (source, r) in reports {
            // Checked: counts come from files a user hands over.
            func add(_ total: Int, _ value: Int, _ field: String) throws -> Int {
                let (sum, overflow) = total.addingReportingOverflow(value)
                guard !overflow, value >= 0 else {
                    throw KPolicyError.badInput(path: source, reason: "stats.\(field) is \(value), which cannot be a count of this report")
                }
                return sum
            }
            stats.filesScanned = try add(stats.filesScanned, r.stats.filesScanned, "filesScanned")
            stats.candidates = try add(stats.candidates, r.stats.candidates, "candidates")
            stats.filesParsed = try add(stats.filesParsed, r.stats.filesParsed, "filesParsed")
            stats.seconds += r.stats.seconds
            if let c = r.stats.fromCache { stats.fromCache = try add(stats.fromCache ?? 0, c, "fromCache") }
        }
        stats.seconds = (stats.seconds * 100).rounded() / 100
        stats.parseFailures = merged.parseFailures.count
        stats.unsupported = merged.unsupported.count
        stats.filesWithErrors = merged.filesWithErrors.count
        stats.functionsUnchecked = merged.uncheckedFunctions.map(\.count)
        stats.suppressed = merged.suppressed.count
        merged.stats = stats
        merged.notices = reports.compactMap(\.report.notices).isEmpty ? nil
            : Array(Set(reports.compactMap(\.report.notices).joined())).sorted()
        return merged
    }

    /// The shards of a split check must all be there, once each: reports
    /// that carry `shard` must all carry one, of the same N, and every K
    /// from 1 to N exactly once. Reports without one (a whole check, or
    /// kpolicy before the field) are merged as they are.
    static func checkShards(_ reports: [(source: String, report: CheckReport)]) throws {
        guard let marked = reports.first(where: { $0.report.shard != nil }) else { return }
        var seen: [Int: String] = [:]
        var count: Int?
        for (source, r) in reports {
            guard let text = r.shard else {
                throw KPolicyError.badInput(path: source, reason: "is not a shard report (no \"shard\"), \(marked.source) is shard \(marked.report.shard!); merge the shards of one split check")
            }
            guard let shard = try? Shard(parsing: text) else {
                throw KPolicyError.badInput(path: source, reason: "names shard '\(text)', which is not K/N with 1 <= K <= N")
            }
            if let count, count != shard.count {
                throw KPolicyError.badInput(path: source, reason: "is shard \(shard) of a check split \(shard.count) ways, \(marked.source) of one split \(count) ways")
            }
            count = shard.count
            if let other = seen[shard.index] {
                throw KPolicyError.badInput(path: source, reason: "is shard \(shard), and so is \(other): a shard given twice")
            }
            seen[shard.index] = source
        }
        if let count, let gap = (1...count).first(where: { seen[$0] == nil }) {
            let given = seen.keys.sorted().map { "\($0)/\(count)" }.joined(separator: ", ")
            throw KPolicyError.badInput(path: "merge", reason: "shard \(gap)/\(count) is missing (given: \(given)); merge needs every shard of the check")
        }
    }

    /// The largest number a report may hold (2^40): beyond any count of
    /// files, lines or seconds, and far enough below Int.max that sums and
    /// `line + 1` over merged reports cannot overflow.
    public static let largestNumber: Double = 1_099_511_627_776

    /// Reads a `kpolicy-report/1` JSON document. Every number in it must be
    /// between 0 and `largestNumber`: a hand-edited report cannot make the
    /// merge or a reporter overflow.
    public static func decode(json data: Data, source: String) throws -> CheckReport {
        let report: CheckReport
        do {
            report = try JSONDecoder().decode(CheckReport.self, from: data)
        } catch {
            throw KPolicyError.badInput(path: source, reason: "is not a kpolicy-report/1 JSON report (\(Self.describe(error)))")
        }
        if let object = try? JSONSerialization.jsonObject(with: data), let (field, value) = outOfRange(object, path: "") {
            throw KPolicyError.badInput(path: source, reason: "\(field) is \(value), outside 0...\(Int(largestNumber))")
        }
        return report
    }

    /// The first number in a decoded JSON value outside 0...largestNumber,
    /// with where it is (`stats.filesScanned`, `findings[3].line`).
    static func outOfRange(_ value: Any, path: String) -> (String, String)? {
        switch value {
        case let dictionary as [String: Any]:
            for key in dictionary.keys.sorted() {
                if let found = outOfRange(dictionary[key]!, path: path.isEmpty ? key : path + "." + key) { return found }
            }
        case let array as [Any]:
            for (i, element) in array.enumerated() {
                if let found = outOfRange(element, path: "\(path)[\(i)]") { return found }
            }
        case let number as NSNumber where !(number is Bool):
            let d = number.doubleValue
            if !(d >= 0 && d <= largestNumber) { return (path, number.stringValue) }
        default:
            break
        }
        return nil
    }

    static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let c):
            return "missing \((c.codingPath + [key]).map(\.stringValue).joined(separator: "."))"
        case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c), DecodingError.dataCorrupted(let c):
            return "\(c.codingPath.map(\.stringValue).joined(separator: ".")): \(c.debugDescription)"
        default:
            return "\(error)"
        }
    }
}
