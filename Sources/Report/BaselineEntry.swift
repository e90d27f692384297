import Foundation
import Findings

/// One accepted finding: where (by file, not line number), which rule, the
/// offending line's text with whitespace normalised, and the message. Code
/// moving up or down does not change it; editing the line does.
public struct BaselineEntry: Codable, Sendable, Hashable, Comparable {
    public var file: String
    public var rule: String
    public var line: String
    public var message: String

    public init(_ finding: Finding) {
        file = finding.position.file
        rule = finding.rule
        line = BaselineEntry.normalise(finding.sourceLine ?? "")
        message = finding.message
    }

    public static func < (a: Self, b: Self) -> Bool {
        (a.file, a.rule, a.line, a.message) < (b.file, b.rule, b.line, b.message)
    }

    /// Runs of blanks become one space; leading and trailing blanks go.
    package static func normalise(_ text: String) -> String {
        text.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
    }
}
