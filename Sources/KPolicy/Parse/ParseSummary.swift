import ClangKit
import Foundation

/// What `kpolicy parse` reports for one file: how long it took, what went
/// wrong, and what the compiler saw in the file itself.
public struct ParseSummary: Codable, Sendable {
    public struct Call: Codable, Sendable, Equatable {
        /// The called function as the compiler resolved it (e.g. `vmalloc_noprof`).
        public var callee: String
        /// The name written at the call site, when a macro stands in between (e.g. `vmalloc`).
        public var spelled: String
        public var line: Int
        public var column: Int
        /// The function the call is in.
        public var function: String
    }

    public var file: String
    public var arch: String
    public var configuration: String
    public var seconds: Double
    public var mainFileErrors: [String]
    public var headerErrors: [String]
    public var functions: [String]
    public var calls: [Call]
    public var stubbedHeaders: [String]

    /// Summarises a parsed file.
    public init(_ parsed: ParsedFile) {
        file = parsed.relativePath
        arch = parsed.configuration.arch
        configuration = parsed.configuration.origin.rawValue
        seconds = (parsed.seconds * 1000).rounded() / 1000
        let errors = parsed.errors
        mainFileErrors = errors.mainFile.map { "\($0.location.line):\($0.location.column): \($0.message)" }
        let rootPrefix = String(parsed.file.path.dropLast(parsed.relativePath.count))
        headerErrors = errors.headers.map { d in
            var path = d.location.file ?? "<built-in>"
            if path.hasPrefix(rootPrefix) { path = String(path.dropFirst(rootPrefix.count)) }
            return "\(path):\(d.location.line): \(d.message)"
        }
        stubbedHeaders = parsed.stubbedHeaders
        let source = SourceText(url: parsed.file)
        var functions: [String] = []
        var calls: [Call] = []
        parsed.unit.cursor.visitChildren { cursor, _ in
            guard cursor.isInMainFile, cursor.kind == .functionDecl, cursor.isDefinition else { return .continue }
            let name = cursor.spelling
            functions.append(name)
            cursor.visitChildren { node, _ in
                if node.kind == .callExpr, node.isInMainFile {
                    let loc = node.location
                    let callee = node.spelling
                    let spelled = source?.identifier(atOffset: loc.offset) ?? callee
                    calls.append(Call(callee: callee, spelled: spelled.isEmpty ? callee : spelled, line: loc.line, column: loc.column, function: name))
                }
                return .recurse
            }
            return .continue
        }
        self.functions = functions
        self.calls = calls
    }
}

/// The bytes of a source file, for reading what is written at a location.
public struct SourceText: Sendable {
    public let bytes: [UInt8]

    public init?(url: URL) {
        guard let data = try? Data(contentsOf: url) else { return nil }
        bytes = [UInt8](data)
    }

    public init(text: String) { bytes = Array(text.utf8) }

    /// The C identifier starting at `offset` ("" if none starts there).
    public func identifier(atOffset offset: Int) -> String {
        guard offset >= 0, offset < bytes.count else { return "" }
        var end = offset
        while end < bytes.count, SourceText.isIdentifierByte(bytes[end]) { end += 1 }
        return String(decoding: bytes[offset..<end], as: UTF8.self)
    }

    static func isIdentifierByte(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b == 0x5f
    }
}
