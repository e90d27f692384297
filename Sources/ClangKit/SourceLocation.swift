import CClang

/// A position in a file. For text inside a macro expansion this is the
/// place where the macro was used (the expansion location), which is what
/// a person reading the file sees.
public struct SourceLocation: Hashable, Sendable, CustomStringConvertible {
    /// The file's path as libclang knows it; nil for built-in or invalid
    /// locations.
    public var file: String?
    public var line: Int
    public var column: Int
    /// Byte offset in the file.
    public var offset: Int
    /// Whether the location is in the main file of the translation unit.
    public var isInMainFile: Bool

    public init(file: String?, line: Int, column: Int, offset: Int, isInMainFile: Bool) {
        self.file = file
        self.line = line
        self.column = column
        self.offset = offset
        self.isInMainFile = isInMainFile
    }

    init(expansionOf raw: CXSourceLocation) { self.init(raw, decomposedBy: clang_getExpansionLocation) }

    init(spellingOf raw: CXSourceLocation) { self.init(raw, decomposedBy: clang_getSpellingLocation) }

    private init(_ raw: CXSourceLocation,
                 decomposedBy decompose: (CXSourceLocation, UnsafeMutablePointer<CXFile?>?, UnsafeMutablePointer<UInt32>?,
                                          UnsafeMutablePointer<UInt32>?, UnsafeMutablePointer<UInt32>?) -> Void) {
        var file: CXFile?
        var line: UInt32 = 0, column: UInt32 = 0, offset: UInt32 = 0
        decompose(raw, &file, &line, &column, &offset)
        self.file = file.map { consume(clang_getFileName($0)) }
        self.line = Int(line)
        self.column = Int(column)
        self.offset = Int(offset)
        self.isInMainFile = clang_Location_isFromMainFile(raw) != 0
    }

    public var description: String { "\(file ?? "<built-in>"):\(line):\(column)" }
}

/// A half-open source range.
public struct SourceRange: @unchecked Sendable {
    let raw: CXSourceRange

    init(_ raw: CXSourceRange) { self.raw = raw }

    /// Where the range starts, as expansion location.
    public var start: SourceLocation { SourceLocation(expansionOf: clang_getRangeStart(raw)) }
    /// Where the range ends, as expansion location.
    public var end: SourceLocation { SourceLocation(expansionOf: clang_getRangeEnd(raw)) }
    /// Whether the start lies in the main file (cheap: no file name).
    public var startsInMainFile: Bool { clang_Location_isFromMainFile(clang_getRangeStart(raw)) != 0 }
}

/// How serious a diagnostic is.
public enum DiagnosticSeverity: Int, Comparable, Sendable {
    case ignored = 0, note, warning, error, fatal
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}

/// A compiler diagnostic, copied out of libclang.
public struct Diagnostic: Sendable, CustomStringConvertible {
    public var severity: DiagnosticSeverity
    public var message: String
    public var location: SourceLocation

    init(_ raw: CXDiagnostic) {
        severity = DiagnosticSeverity(rawValue: Int(clang_getDiagnosticSeverity(raw).rawValue)) ?? .error
        message = consume(clang_getDiagnosticSpelling(raw))
        location = SourceLocation(expansionOf: clang_getDiagnosticLocation(raw))
    }

    public var description: String { "\(location): \(severity): \(message)" }
}

/// The lexical class of a token.
public enum TokenKind: Sendable {
    case punctuation, keyword, identifier, literal, comment

    init(_ token: CXToken) {
        switch clang_getTokenKind(token) {
        case CXToken_Punctuation: self = .punctuation
        case CXToken_Keyword: self = .keyword
        case CXToken_Identifier: self = .identifier
        case CXToken_Literal: self = .literal
        default: self = .comment
        }
    }
}

/// One token as written in the source.
public struct Token: Sendable {
    public var kind: TokenKind
    public var spelling: String
    public var location: SourceLocation
}
