import Foundation
import KPolicyFiles
import PatchInput
import Parse
import Extract
import PathCheck
import Suggest

/// One reported case.
public struct Finding: Sendable, Equatable {
    /// How much a finding matters (a rule's `severity`); `--fail-on`
    /// compares it.
    public enum Severity: String, Sendable, CaseIterable, Comparable, Codable {
        case info, warning, error
        public static func < (a: Self, b: Self) -> Bool {
            allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
        }
    }

    public var rule: String
    public var severity: Severity
    public var position: Position
    /// The function the finding is in, if any.
    public var function: String?
    public var message: String
    public var suggestion: Suggestion?
    /// Values the message and suggestion templates were filled with.
    public var values: [String: String]
    /// 0 for the first finding with this rule, file, function and subject;
    /// 1, 2... for later ones (two frees in one function stay apart).
    public var occurrence = 0
    /// Where the offending expression ends, when the source shows it (the
    /// closing parenthesis of a call); reporters use it for regions.
    public var end: Position?
    /// The offending line's text, whitespace-trimmed: baselines key on it
    /// and SARIF shows it as the region's snippet.
    public var sourceLine: String?
    /// Set when an inline comment or a baseline hides the finding. Reporters
    /// leave suppressed findings out, except SARIF, which keeps them marked.
    public var suppression: FindingSuppression?
    /// In patch mode: the patch of the series that introduces the finding.
    public var patch: PatchOrigin?
    /// For path rules: the steps of the path on which the model found it,
    /// with the permissions of the mapping and its direct-map alias.
    public var trace: [PathChecker.TraceStep]?
    /// For path rules: the definitions in other files the paths ran
    /// through, per arch (`x86_64: alloc_insn_page() arch/x86/kernel/kprobes/core.c:494 (x86 override)`).
    public var through: [String]?

    public init(rule: String, severity: Severity, position: Position, function: String?, message: String,
                suggestion: Suggestion?, values: [String: String], occurrence: Int = 0) {
        self.rule = rule
        self.severity = severity
        self.position = position
        self.function = function
        self.message = message
        self.suggestion = suggestion
        self.values = values
        self.occurrence = occurrence
    }

    /// The name the finding is about (a function or macro).
    public var subject: String { values["subject"] ?? "" }

    /// For path rules: the functions of the file whose exits left memory kept
    /// across calls in the state the finding's path starts it in (the
    /// trace's `stateFrom`).
    public var stateFrom: Set<String> { Set((trace ?? []).flatMap { $0.stateFrom ?? [] }) }

    /// For path rules: the functions other than the finding's own whose
    /// code the path ran (same-file helpers, other files' functions).
    public var functionsOnPath: Set<String> { Set((trace ?? []).compactMap(\.function)) }

    /// Sorted by place and rule, one finding per rule and place.
    package static func onePerPlace(_ findings: [Finding]) -> [Finding] {
        var seen: Set<String> = []
        return findings.sorted { ($0.position, $0.rule) < ($1.position, $1.rule) }.filter {
            seen.insert("\($0.rule):\($0.position.file):\($0.position.line):\($0.position.column)").inserted
        }
    }

    /// What the fingerprint is made of, without the occurrence.
    package var identity: String { "\(rule)\u{0}\(position.file)\u{0}\(function ?? "")\u{0}\(values["subject"] ?? "")" }

    /// Stable across unrelated edits: the rule, the file, the function and
    /// the finding's subject, not the line number.
    public var fingerprint: String {
        var key = identity
        if occurrence > 0 { key += "\u{0}\(occurrence)" }
        return String(FNV1a.hash(key), radix: 16, uppercase: false).leftPadded(to: 16)
    }
}

/// Which patch of a series something comes from.
public struct PatchOrigin: Codable, Sendable, Hashable {
    /// 1-based position in the series as given (files in order, patches in order).
    public var index: Int
    public var total: Int
    /// The subject without its `[PATCH ...]` prefix.
    public var subject: String
    public var messageID: String?
    /// The file the patch was read from (`-` for standard input).
    public var source: String

    public init(index: Int, total: Int, subject: String, messageID: String?, source: String) {
        self.index = index
        self.total = total
        self.subject = subject
        self.messageID = messageID
        self.source = source
    }

    /// `[2/5] mm: do the thing <msgid>`.
    public var label: String {
        "[\(index)/\(total)] \(subject)" + (messageID.map { " <\($0.trimmingCharacters(in: CharacterSet(charactersIn: "<>")))>" } ?? "")
    }
}

/// Why a finding is not shown: an inline `kpolicy: ignore` comment, or a
/// baseline entry. SARIF names these as `inSource` and `external`.
public struct FindingSuppression: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable { case inSource, external }
    public var kind: Kind
    public var justification: String
    public init(kind: Kind, justification: String) {
        self.kind = kind
        self.justification = justification
    }
}

/// A suggested change and whether the reference model has run it.
public struct Suggestion: Codable, Sendable, Equatable {
    public var replacement: String
    public var explanation: String
    /// True only when the replacement was executed in the reference model
    /// and broke no error-severity invariant.
    public var validated: Bool
    /// The model run behind `validated`, nil when none was possible.
    public var validation: ModelValidation?
    /// The replacement as an edit of the source, when the offending
    /// expression's extent is known (SARIF `fixes`).
    public var edit: TextEdit?
    /// True when `replacement` is a C call that replaces the matched call
    /// as written (and the tree has the API it names).
    public var replacesCall = false
    /// For path rules: a path of the function with the suggestion applied
    /// (the failing one when it is not validated).
    public var trace: [PathChecker.TraceStep]?
    /// For path rules: the suggestion as changes of the source, what
    /// `--format patch` writes as a diff when the suggestion is validated.
    public var changes: [SourceChange]?

    public init(replacement: String, explanation: String, validated: Bool, validation: ModelValidation?, edit: TextEdit? = nil) {
        self.replacement = replacement
        self.explanation = explanation
        self.validated = validated
        self.validation = validation
        self.edit = edit
    }
}

extension Suggestion {
    enum CodingKeys: String, CodingKey { case replacement, explanation, validated, validation, edit, replacesCall, trace, changes }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        replacement = try c.decode(String.self, forKey: .replacement)
        explanation = try c.decode(String.self, forKey: .explanation)
        validated = try c.decode(Bool.self, forKey: .validated)
        validation = try c.decodeIfPresent(ModelValidation.self, forKey: .validation)
        edit = try c.decodeIfPresent(TextEdit.self, forKey: .edit)
        replacesCall = try c.decodeIfPresent(Bool.self, forKey: .replacesCall) ?? false
        trace = try c.decodeIfPresent([PathChecker.TraceStep].self, forKey: .trace)
        changes = try c.decodeIfPresent([SourceChange].self, forKey: .changes)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(replacement, forKey: .replacement)
        try c.encode(explanation, forKey: .explanation)
        try c.encode(validated, forKey: .validated)
        try c.encodeIfPresent(validation, forKey: .validation)
        try c.encodeIfPresent(edit, forKey: .edit)
        if replacesCall { try c.encode(true, forKey: .replacesCall) }
        try c.encodeIfPresent(trace, forKey: .trace)
        try c.encodeIfPresent(changes, forKey: .changes)
    }

    /// `name(args)` and nothing else, parentheses balanced.
    package static func isCallExpression(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        var i = 0
        while i < bytes.count, SourceText.isIdentifierByte(bytes[i]) { i += 1 }
        guard i > 0, i < bytes.count, bytes[i] == UInt8(ascii: "("), !(bytes[0] >= 0x30 && bytes[0] <= 0x39) else { return false }
        var depth = 0
        for (j, b) in bytes[i...].enumerated() {
            if b == UInt8(ascii: "(") { depth += 1 }
            if b == UInt8(ascii: ")") {
                depth -= 1
                if depth == 0 { return i + j == bytes.count - 1 }
            }
        }
        return false
    }
}

/// Replace the text from `start` up to (not including) `end` with `text`.
/// Lines and columns are 1-based, columns in bytes as libclang counts them.
public struct TextEdit: Codable, Sendable, Equatable {
    public var start: Position
    public var end: Position
    public var text: String

    public init(start: Position, end: Position, text: String) {
        self.start = start
        self.end = end
        self.text = text
    }
}

extension String {
    package func leftPadded(to n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
}

/// The JSON shape of a finding is the documented `kpolicy-report/1` one
/// (docs/report-format.md): flat place, fingerprint included.
extension Finding: Codable {
    enum CodingKeys: String, CodingKey {
        case rule, severity, file, line, column, endLine, endColumn, function, message, suggestion, fingerprint
        case subject, occurrence, sourceLine, suppression, patch, trace, through
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        rule = try c.decode(String.self, forKey: .rule)
        severity = try c.decode(Finding.Severity.self, forKey: .severity)
        let file = try c.decode(String.self, forKey: .file)
        position = Position(file: file, line: try c.decode(Int.self, forKey: .line), column: try c.decode(Int.self, forKey: .column))
        if let line = try c.decodeIfPresent(Int.self, forKey: .endLine), let column = try c.decodeIfPresent(Int.self, forKey: .endColumn) {
            end = Position(file: file, line: line, column: column)
        }
        function = try c.decodeIfPresent(String.self, forKey: .function)
        message = try c.decode(String.self, forKey: .message)
        suggestion = try c.decodeIfPresent(Suggestion.self, forKey: .suggestion)
        values = ["subject": try c.decodeIfPresent(String.self, forKey: .subject) ?? ""]
        occurrence = try c.decodeIfPresent(Int.self, forKey: .occurrence) ?? 0
        sourceLine = try c.decodeIfPresent(String.self, forKey: .sourceLine)
        suppression = try c.decodeIfPresent(FindingSuppression.self, forKey: .suppression)
        patch = try c.decodeIfPresent(PatchOrigin.self, forKey: .patch)
        trace = try c.decodeIfPresent([PathChecker.TraceStep].self, forKey: .trace)
        through = try c.decodeIfPresent([String].self, forKey: .through)
        if let stored = try c.decodeIfPresent(String.self, forKey: .fingerprint), stored != fingerprint {
            throw DecodingError.dataCorruptedError(forKey: .fingerprint, in: c,
                                                   debugDescription: "fingerprint \(stored) does not match the finding (\(fingerprint))")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(rule, forKey: .rule)
        try c.encode(severity, forKey: .severity)
        try c.encode(position.file, forKey: .file)
        try c.encode(position.line, forKey: .line)
        try c.encode(position.column, forKey: .column)
        try c.encodeIfPresent(end?.line, forKey: .endLine)
        try c.encodeIfPresent(end?.column, forKey: .endColumn)
        try c.encodeIfPresent(function, forKey: .function)
        try c.encode(message, forKey: .message)
        try c.encode(suggestion, forKey: .suggestion)
        try c.encode(fingerprint, forKey: .fingerprint)
        try c.encode(subject, forKey: .subject)
        if occurrence > 0 { try c.encode(occurrence, forKey: .occurrence) }
        try c.encodeIfPresent(sourceLine, forKey: .sourceLine)
        try c.encodeIfPresent(suppression, forKey: .suppression)
        try c.encodeIfPresent(patch, forKey: .patch)
        try c.encodeIfPresent(trace, forKey: .trace)
        try c.encodeIfPresent(through, forKey: .through)
    }
}
