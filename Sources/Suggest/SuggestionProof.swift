import Foundation

/// One change of a source file a path-rule suggestion makes: a called name
/// replaced, or a statement inserted on a line of its own before or after
/// a statement (indented like it).
public struct SourceChange: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable { case rename, insertBefore, insertAfter }
    public var kind: Kind
    public var file: String
    public var line: Int
    /// rename: the 1-based byte column where `old` starts.
    public var column: Int
    /// rename: the name replaced.
    public var old: String
    /// rename: the new name; insert: the statement, without indentation or newline.
    public var text: String
    /// rename: when set, the bytes from `column` up to this column are
    /// replaced (whatever they are) instead of `old`.
    public var endColumn: Int?

    public init(kind: Kind, file: String, line: Int, column: Int, old: String, text: String, endColumn: Int? = nil) {
        self.kind = kind; self.file = file; self.line = line; self.column = column; self.old = old; self.text = text
        self.endColumn = endColumn
    }
}

/// The model runs behind a suggestion: the original sequence and the replacement.
public struct ModelValidation: Codable, Sendable, Equatable {
    public var configuration: String
    public var original: [String]
    public var originalViolations: [String]
    public var replacement: [String]
    public var replacementViolations: [String]

    public init(configuration: String, original: [String], originalViolations: [String], replacement: [String], replacementViolations: [String]) {
        self.configuration = configuration
        self.original = original
        self.originalViolations = originalViolations
        self.replacement = replacement
        self.replacementViolations = replacementViolations
    }
}
