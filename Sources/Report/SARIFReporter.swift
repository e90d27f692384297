import Foundation
import KPolicyFiles
import PatchInput
import Extract
import Analysis
import Findings

/// SARIF 2.1.0, as GitHub code scanning and other SARIF consumers read it:
/// the full rule catalogue in `tool.driver.rules`, one result per finding
/// (suppressed ones kept, marked), fixes for suggestions that are code,
/// the model runs as code flows, and every file not checked named as a tool
/// execution notification.
public struct SARIFReporter: Reporter {
    public static let identifier = "sarif"
    public static let summary = "SARIF 2.1.0 (GitHub code scanning and other SARIF tools)"
    /// GitHub code scanning accepts at most this many results per run.
    public static let resultLimit = 25_000
    static let schemaURI = "https://json.schemastore.org/sarif-2.1.0.json"
    static let srcroot = "%SRCROOT%"

    public init() {}

    public func render(_ report: CheckReport, catalogue: RuleCatalogue, options: ReportOptions) throws -> String {
        let all = report.allFindings
        var results = all.prefix(Self.resultLimit).map { result($0, catalogue: catalogue, in: all) }
        results.sort { ($0.order) < ($1.order) }
        var notifications: [Notification] = report.parseFailures.map {
            Notification(level: "error", message: .init(text: "not checked: \($0.reason)"),
                         locations: [Location(file: $0.file)], descriptor: .init(id: "parse-failure"))
        }
        notifications += report.unsupported.map {
            Notification(level: "warning", message: .init(text: "not checked: \($0.reason)"),
                         locations: [Location(file: $0.file)], descriptor: .init(id: "unsupported-arch"))
        }
        notifications += report.filesWithErrors.map {
            Notification(level: "note", message: .init(text: "parsed with errors inside the file, findings may be incomplete: \($0.reason)"),
                         locations: [Location(file: $0.file)], descriptor: .init(id: "file-with-errors"))
        }
        notifications += (report.applyFailures ?? []).map {
            Notification(level: "error", message: .init(text: "\($0.patch.label): \($0.reason)"),
                         locations: [Location(file: $0.file)], descriptor: .init(id: "patch-does-not-apply"))
        }
        notifications += (report.notices ?? []).map {
            Notification(level: "note", message: .init(text: $0), locations: nil, descriptor: .init(id: "not-checked"))
        }
        if all.count > Self.resultLimit {
            notifications.append(Notification(level: "warning",
                                              message: .init(text: "\(all.count) findings; only the first \(Self.resultLimit) are in this log (GitHub's limit per run)"),
                                              locations: nil, descriptor: .init(id: "results-truncated")))
        }
        let rules = catalogue.entries.map { rule($0, options: options) }
        var root = URL(fileURLWithPath: report.tree.path).absoluteString
        if !root.hasSuffix("/") { root += "/" }
        let run = Run(
            tool: .init(driver: .init(name: "kpolicy", version: report.tool.version, semanticVersion: report.tool.version, rules: rules)),
            originalUriBaseIds: [Self.srcroot: .init(uri: root)],
            invocations: [.init(executionSuccessful: report.parseFailures.isEmpty && (report.applyFailures ?? []).isEmpty,
                                toolExecutionNotifications: notifications)],
            results: results.map(\.value),
            properties: .init(kernelVersion: report.tree.kernelVersion.description, stats: report.stats))
        let log = Log(version: "2.1.0", schema: Self.schemaURI, runs: [run])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(log), as: UTF8.self) + "\n"
    }

    static func level(_ s: Finding.Severity) -> String {
        switch s {
        case .error: return "error"
        case .warning: return "warning"
        case .info: return "note"
        }
    }

    /// GitHub's `precision` property values.
    static func precision(_ c: Rule.Confidence) -> String {
        switch c {
        case .high: return "high"
        case .medium: return "medium"
        case .low: return "low"
        }
    }

    func rule(_ e: RuleCatalogue.Entry, options: ReportOptions) -> ReportingDescriptor {
        var full = e.summary
        if full.count > 1024 { full = String(full.prefix(1023)) + "…" }
        let name = e.id.split(separator: "-").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
        return ReportingDescriptor(
            id: e.id, name: name, shortDescription: .init(text: e.title), fullDescription: .init(text: full),
            help: .init(text: e.summary + "\n\n" + e.rationale, markdown: e.markdown),
            helpUri: options.helpURIBase.map { $0 + e.id + ".md" },
            defaultConfiguration: .init(level: Self.level(e.severity)),
            properties: .init(precision: Self.precision(e.confidence), tags: [e.category, "executable-memory"]))
    }

    /// GitHub's `primaryLocationLineHash`: a hash of the offending line's
    /// normalised text, then `:n` for its n-th occurrence in the file.
    static func lineHash(_ f: Finding, in all: [Finding]) -> String {
        let text = BaselineEntry.normalise(f.sourceLine ?? "")
        let same = all.filter { $0.position.file == f.position.file && BaselineEntry.normalise($0.sourceLine ?? "") == text }
            .sorted { $0.position < $1.position }
        let n = (same.firstIndex { $0.position == f.position && $0.rule == f.rule } ?? 0) + 1
        return String(FNV1a.hash(text), radix: 16).leftPadded(to: 16) + ":\(n)"
    }

    func result(_ f: Finding, catalogue: RuleCatalogue, in all: [Finding]) -> (order: Position, value: Result) {
        let region = Region(startLine: f.position.line, startColumn: f.position.column,
                            endLine: f.end?.line ?? f.position.line, endColumn: f.end?.column ?? (f.position.column + max(1, f.subject.utf8.count)),
                            snippet: f.sourceLine.map { .init(text: $0) })
        let location = Location(physicalLocation: .init(artifactLocation: .init(uri: f.position.file), region: region))
        var message = f.message
        if let patch = f.patch { message += " (patch \(patch.label))" }
        if let s = f.suggestion {
            if !s.replacement.isEmpty { message += ". Instead: \(s.replacement)\(s.validation == nil ? "" : s.validated ? " (validated in the model)" : " (not validated: the model found problems)")" }
            message += ". \(s.explanation)"
        }
        var fixes: [Fix]?
        if let s = f.suggestion, let edit = s.edit {
            fixes = [Fix(description: .init(text: "Replace with \(s.replacement)"),
                         artifactChanges: [.init(artifactLocation: .init(uri: edit.start.file), replacements: [
                             .init(deletedRegion: .init(startLine: edit.start.line, startColumn: edit.start.column,
                                                        endLine: edit.end.line, endColumn: edit.end.column, snippet: nil),
                                   insertedContent: .init(text: edit.text)),
                         ])])]
        }
        var flows: [CodeFlow]?
        if let v = f.suggestion?.validation {
            func thread(_ label: String, _ steps: [String], _ violations: [String]) -> ThreadFlow {
                ThreadFlow(message: .init(text: label + (violations.isEmpty ? ": no violation" : ": " + violations.joined(separator: "; "))),
                           locations: steps.enumerated().map { i, step in
                               ThreadFlowLocation(location: Location(physicalLocation: location.physicalLocation, message: .init(text: step)),
                                                  executionOrder: i + 1)
                           })
            }
            let threads = [thread("what the code does now", v.original, v.originalViolations),
                           thread("the suggestion", v.replacement, v.replacementViolations)].filter { !$0.locations.isEmpty }
            if !threads.isEmpty { flows = [CodeFlow(message: .init(text: "reference model, \(v.configuration)"), threadFlows: threads)] }
        }
        if let trace = f.trace, !trace.isEmpty {
            let steps = trace.enumerated().map { i, step in
                let l = step.line > 0 ? step.line : f.position.line
                let region = Region(startLine: l, startColumn: 1, endLine: l, endColumn: 2, snippet: nil)
                let text = "\(step.call) — mapping \(step.mapping), alias \(step.alias)" + (step.invariants.isEmpty ? "" : " — \(step.invariants.joined(separator: ", "))")
                return ThreadFlowLocation(location: Location(physicalLocation: .init(artifactLocation: .init(uri: f.position.file), region: region),
                                                             message: .init(text: text)),
                                          executionOrder: i + 1)
            }
            let path = CodeFlow(message: .init(text: "the path on which the reference model finds it\(trace.first?.arch.map { " (\($0))" } ?? "")"),
                                threadFlows: [ThreadFlow(message: .init(text: "path"), locations: steps)])
            flows = (flows ?? []) + [path]
        }
        let suppressions = f.suppression.map { [Suppression(kind: $0.kind.rawValue, justification: $0.justification.isEmpty ? nil : $0.justification)] }
        return (f.position, Result(
            ruleId: f.rule, ruleIndex: catalogue.index(of: f.rule), level: Self.level(f.severity), message: .init(text: message),
            locations: [location],
            partialFingerprints: ["primaryLocationLineHash": Self.lineHash(f, in: all), "kpolicyFingerprint/v1": f.fingerprint],
            fixes: fixes, codeFlows: flows, suppressions: suppressions,
            properties: .init(function: f.function, validated: f.suggestion?.validated, patch: f.patch)))
    }

    // MARK: The subset of the SARIF 2.1.0 object model kpolicy writes.

    struct Log: Encodable {
        var version: String
        var schema: String
        var runs: [Run]
        enum CodingKeys: String, CodingKey { case version, schema = "$schema", runs }
    }
    struct Run: Encodable {
        var tool: Tool
        var originalUriBaseIds: [String: ArtifactLocationBase]
        var invocations: [Invocation]
        var results: [Result]
        var properties: RunProperties
    }
    struct RunProperties: Encodable {
        var kernelVersion: String
        var stats: CheckReport.Stats
    }
    struct ArtifactLocationBase: Encodable { var uri: String }
    struct Tool: Encodable { var driver: Driver }
    struct Driver: Encodable {
        var name: String
        var version: String
        var semanticVersion: String
        var rules: [ReportingDescriptor]
    }
    struct Text: Encodable { var text: String }
    struct MultiformatText: Encodable {
        var text: String
        var markdown: String
    }
    struct ReportingDescriptor: Encodable {
        var id: String
        var name: String
        var shortDescription: Text
        var fullDescription: Text
        var help: MultiformatText
        var helpUri: String?
        var defaultConfiguration: Configuration
        var properties: RuleProperties
    }
    struct Configuration: Encodable { var level: String }
    struct RuleProperties: Encodable {
        var precision: String
        var tags: [String]
    }
    struct Invocation: Encodable {
        var executionSuccessful: Bool
        var toolExecutionNotifications: [Notification]
    }
    struct Notification: Encodable {
        var level: String
        var message: Text
        var locations: [Location]?
        var descriptor: DescriptorReference
    }
    struct DescriptorReference: Encodable { var id: String }
    struct Result: Encodable {
        var ruleId: String
        var ruleIndex: Int?
        var level: String
        var message: Text
        var locations: [Location]
        var partialFingerprints: [String: String]
        var fixes: [Fix]?
        var codeFlows: [CodeFlow]?
        var suppressions: [Suppression]?
        var properties: ResultProperties
    }
    struct ResultProperties: Encodable {
        var function: String?
        var validated: Bool?
        var patch: PatchOrigin?
    }
    struct Location: Encodable {
        var physicalLocation: PhysicalLocation
        var message: Text?
        init(physicalLocation: PhysicalLocation, message: Text? = nil) {
            self.physicalLocation = physicalLocation
            self.message = message
        }
        init(file: String) { physicalLocation = PhysicalLocation(artifactLocation: .init(uri: file), region: nil) }
    }
    struct PhysicalLocation: Encodable {
        var artifactLocation: ArtifactLocation
        var region: Region?
    }
    struct ArtifactLocation: Encodable {
        var uri: String
        var uriBaseId = SARIFReporter.srcroot
        init(uri: String) {
            // A relative URI reference: percent-encode what is not allowed in a path.
            self.uri = uri.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? uri
        }
    }
    struct Region: Encodable {
        var startLine: Int
        var startColumn: Int
        var endLine: Int
        var endColumn: Int
        var snippet: Text?
    }
    struct Fix: Encodable {
        var description: Text
        var artifactChanges: [ArtifactChange]
    }
    struct ArtifactChange: Encodable {
        var artifactLocation: ArtifactLocation
        var replacements: [Replacement]
    }
    struct Replacement: Encodable {
        var deletedRegion: Region
        var insertedContent: Text
    }
    struct CodeFlow: Encodable {
        var message: Text
        var threadFlows: [ThreadFlow]
    }
    struct ThreadFlow: Encodable {
        var message: Text
        var locations: [ThreadFlowLocation]
    }
    struct ThreadFlowLocation: Encodable {
        var location: Location
        var executionOrder: Int
    }
    struct Suppression: Encodable {
        var kind: String
        var justification: String?
    }
}
