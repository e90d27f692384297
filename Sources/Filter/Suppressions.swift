import Foundation
import KPolicyFiles
import PatchInput
import Report
import Extract
import Analysis
import Findings

/// Inline suppressions: `/* kpolicy: ignore <rule-id>[,<rule-id>...] -- reason */`
/// or the same after `//`, on the finding's line or the line before. A
/// suppression without a reason still hides the finding but is itself
/// reported (`suppression-without-reason`); one that hides nothing is listed
/// as unused (`--verbose`).
public enum Suppressions {
    /// One `kpolicy: ignore` comment.
    public struct Comment: Sendable, Equatable {
        public var line: Int
        public var column: Int
        public var rules: [String]
        public var reason: String
    }

    /// The rule id of the finding a reasonless suppression gets.
    public static let withoutReasonRule = BuiltInRule.suppressionWithoutReason.id

    /// The built-in rule behind `suppression-without-reason`.
    public static var withoutReason: BuiltInRule { .suppressionWithoutReason }

    /// The suppression comments of a file's lines.
    public static func comments(in lines: [[UInt8]]) -> [Comment] {
        var out: [Comment] = []
        let marker = Array("kpolicy:".utf8)
        for (i, line) in lines.enumerated() {
            guard let at = find(marker, in: line[...]) else { continue }
            // Only inside a comment that opens on this line before the marker.
            let before = line[..<at]
            guard find(Array("//".utf8), in: before) != nil || find(Array("/*".utf8), in: before) != nil else { continue }
            var rest = String(decoding: line[(at + marker.count)...], as: UTF8.self)
            if let close = rest.range(of: "*/") { rest = String(rest[..<close.lowerBound]) }
            rest = rest.trimmingCharacters(in: .whitespaces)
            guard rest.hasPrefix("ignore") else { continue }
            rest = String(rest.dropFirst("ignore".count))
            var reason = ""
            if let dashes = rest.range(of: "--") {
                reason = rest[dashes.upperBound...].trimmingCharacters(in: .whitespaces)
                rest = String(rest[..<dashes.lowerBound])
            }
            let rules = rest.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" }).map(String.init)
            guard !rules.isEmpty else { continue }
            out.append(Comment(line: i + 1, column: at + 1, rules: rules, reason: reason))
        }
        return out
    }

    static func find(_ needle: [UInt8], in hay: ArraySlice<UInt8>) -> Int? {
        guard needle.count <= hay.count else { return nil }
        var i = hay.startIndex
        while i + needle.count <= hay.endIndex {
            if hay[i] == needle[0], hay[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }

    /// What applying one file's comments to its findings gave.
    public struct Outcome: Sendable {
        public var kept: [Finding] = []
        public var suppressed: [Finding] = []
        public var withoutReason: [Finding] = []
        public var unused: [Comment] = []
    }

    /// Applies `comments` of `file` to `findings` (of any files; only those
    /// in `file` are looked at for suppression, all are returned).
    public static func apply(_ comments: [Comment], file: String, to findings: [Finding]) -> Outcome {
        var outcome = Outcome()
        var used = Set<Int>()
        for f in findings {
            guard f.position.file == file,
                  let (index, c) = comments.enumerated().first(where: { _, c in
                      (c.line == f.position.line || c.line == f.position.line - 1) && c.rules.contains(f.rule)
                  }) else {
                outcome.kept.append(f)
                continue
            }
            used.insert(index)
            var hidden = f
            hidden.suppression = FindingSuppression(kind: .inSource, justification: c.reason)
            outcome.suppressed.append(hidden)
        }
        for (i, c) in comments.enumerated() {
            if c.reason.isEmpty {
                var f = Finding(rule: withoutReasonRule, severity: withoutReason.severity,
                                position: Position(file: file, line: c.line, column: c.column), function: nil,
                                message: "kpolicy: ignore \(c.rules.joined(separator: ",")) gives no reason; write why after '--'",
                                suggestion: nil, values: ["subject": c.rules.joined(separator: ",")])
                f.occurrence = outcome.withoutReason.count
                outcome.withoutReason.append(f)
            }
            if !used.contains(i) { outcome.unused.append(c) }
        }
        return outcome
    }

    /// Applies the comments of every checked file (and of every file with a
    /// finding) to the report.
    package static func apply(to report: inout CheckReport, sources: SourceLines, checkedFiles: [String], rules: RuleSet) {
        let files = Set(checkedFiles).union(report.findings.map(\.position.file))
        var findings = report.findings
        var added: [Finding] = []
        for file in files.sorted() {
            let lines = sources.lines(of: file)
            let comments = comments(in: lines)
            guard !comments.isEmpty else { continue }
            let outcome = apply(comments, file: file, to: findings)
            findings = outcome.kept
            report.suppressed += outcome.suppressed
            added += outcome.withoutReason.map(sources.annotate)
            report.unusedSuppressions += outcome.unused.flatMap { c in
                c.rules.map { CheckReport.UnusedSuppression(file: file, line: c.line, rule: $0) }
            }
        }
        report.findings = (findings + added).sorted { ($0.position, $0.rule) < ($1.position, $1.rule) }
        report.stats.suppressed = report.suppressed.count
    }
}
