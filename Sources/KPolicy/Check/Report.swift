import Foundation

/// The JSON report, schema `kpolicy-report/1` (docs/report-format.md).
public struct JSONReport: Codable, Sendable {
    public struct Tool: Codable, Sendable { public var name: String; public var version: String }
    public struct Tree: Codable, Sendable { public var path: String; public var kernelVersion: String }
    public struct Validation: Codable, Sendable {
        public var configuration: String
        public var original: [String]
        public var originalViolations: [String]
        public var replacement: [String]
        public var replacementViolations: [String]
    }
    public struct SuggestionJSON: Codable, Sendable {
        public var replacement: String
        public var explanation: String
        public var validated: Bool
        public var validation: Validation?
    }
    public struct FindingJSON: Codable, Sendable {
        public var rule: String
        public var severity: String
        public var file: String
        public var line: Int
        public var column: Int
        public var function: String?
        public var message: String
        public var suggestion: SuggestionJSON?
        public var fingerprint: String
    }
    public struct Failure: Codable, Sendable { public var file: String; public var reason: String }
    public struct Stats: Codable, Sendable {
        public var filesScanned: Int
        public var candidates: Int
        public var filesParsed: Int
        public var parseFailures: Int
        public var unsupported: Int
        public var filesWithErrors: Int
        public var seconds: Double
    }
    public var schema = "kpolicy-report/1"
    public var tool: Tool
    public var tree: Tree
    public var findings: [FindingJSON]
    public var parseFailures: [Failure]
    /// Files of an arch the installed libclang cannot target, not parsed.
    public var unsupported: [Failure]
    /// Parsed files with errors inside them (their facts may be incomplete), with the first error.
    public var filesWithErrors: [Failure]
    public var stats: Stats

    public init(_ report: CheckReport, toolVersion: String) {
        tool = Tool(name: "kpolicy", version: toolVersion)
        tree = Tree(path: report.treePath, kernelVersion: report.kernelVersion.description)
        findings = report.findings.map { f in
            FindingJSON(rule: f.rule, severity: f.severity.rawValue, file: f.position.file, line: f.position.line,
                        column: f.position.column, function: f.function, message: f.message,
                        suggestion: f.suggestion.map { s in
                            SuggestionJSON(replacement: s.replacement, explanation: s.explanation, validated: s.validated,
                                           validation: s.validation.map {
                                               Validation(configuration: $0.configuration, original: $0.original,
                                                          originalViolations: $0.originalViolations,
                                                          replacement: $0.replacement, replacementViolations: $0.replacementViolations)
                                           })
                        },
                        fingerprint: f.fingerprint)
        }
        parseFailures = report.failures.map { Failure(file: $0.file, reason: $0.reason) }
        unsupported = report.unsupported.map { Failure(file: $0.file, reason: $0.reason) }
        filesWithErrors = report.erroredFiles.map { Failure(file: $0.file, reason: $0.error) }
        let s = report.stats
        stats = Stats(filesScanned: s.filesScanned, candidates: s.candidates, filesParsed: s.filesParsed,
                      parseFailures: s.parseFailures, unsupported: report.unsupported.count, filesWithErrors: s.filesWithErrors,
                      seconds: (s.seconds * 100).rounded() / 100)
    }

    public func encoded() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self) + "\n"
    }
}

/// Compiler-style text: `file:line:col: severity: message [rule]`, then the
/// suggestion indented.
public enum TextReport {
    public static func render(_ report: CheckReport, verbose: Bool = false) -> String {
        var out = ""
        for f in report.findings {
            out += "\(f.position.file):\(f.position.line):\(f.position.column): \(f.severity.rawValue): \(f.message) [\(f.rule)]\n"
            if let s = f.suggestion {
                if !s.replacement.isEmpty {
                    out += "  suggestion: \(s.replacement)\(s.validation == nil ? "" : s.validated ? " (validated in the model)" : " (NOT validated: the model found problems)")\n"
                }
                out += "  why: \(s.explanation)\n"
                if verbose, let v = s.validation {
                    out += "  model \(v.configuration):\n"
                    out += "    now:     \(v.original.joined(separator: "; "))\n"
                    for x in v.originalViolations { out += "      ! \(x)\n" }
                    out += "    instead: \(v.replacement.joined(separator: "; "))\n"
                    for x in v.replacementViolations { out += "      ! \(x)\n" }
                }
            }
        }
        for failure in report.failures {
            out += "\(failure.file): error: not parsed: \(failure.reason) [parse-failure]\n"
        }
        for (reason, files) in Dictionary(grouping: report.unsupported, by: \.reason).sorted(by: { $0.key < $1.key }) {
            out += "kpolicy: \(files.count) file\(files.count == 1 ? "" : "s") not checked: \(reason): \(files.map(\.file).joined(separator: ", "))\n"
        }
        let s = report.stats
        let counts = Dictionary(grouping: report.findings, by: \.severity).mapValues(\.count)
        let summary = Rule.Severity.allCases.reversed().compactMap { sev in counts[sev].map { "\($0) \(sev.rawValue)\($0 == 1 ? "" : "s")" } }
        out += "kpolicy: \(report.findings.count) finding\(report.findings.count == 1 ? "" : "s")"
        if !summary.isEmpty { out += " (\(summary.joined(separator: ", ")))" }
        out += "; \(s.filesScanned) files scanned, \(s.candidates) candidates, \(s.filesParsed) parsed"
        if s.parseFailures > 0 { out += ", \(s.parseFailures) not parsed" }
        if s.filesWithErrors > 0 { out += ", \(s.filesWithErrors) with errors" }
        out += String(format: ", %.1f s\n", s.seconds)
        return out
    }
}
