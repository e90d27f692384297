import ClangKit
import Foundation
import KPolicyFiles
import PatchInput

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
    /// For a header parsed after its includers' beginnings: those includers.
    public var prelude: [String]

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
        prelude = (parsed.prelude?.parts ?? []).map { String($0.source.dropFirst(rootPrefix.count)) }
        let source = SourceText(url: parsed.file)
        var functions: [String] = []
        var calls: [Call] = []
        // The cursor visitor recurses per level of the tree: a large stack.
        LargeStack.run {
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

    /// A byte of a C identifier (letters, digits, `_`): the one test every
    /// text scan uses (the prefilter's hot loop included).
    @inline(__always) package static func isIdentifierByte(_ b: UInt8) -> Bool {
        (b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a) || (b >= 0x30 && b <= 0x39) || b == 0x5f
    }
}

extension SourceText {
    /// An expression as written: its text and the identifiers in it.
    public struct Written: Sendable {
        public var text: String
        public var identifiers: [String]

        package init(text: String, identifiers: [String]) {
            self.text = text
            self.identifiers = identifiers
        }
    }

    /// The arguments of the call whose callee name starts at `offset`, split
    /// at top-level commas; nil when no `(` follows the name.
    public func callArguments(atOffset offset: Int) -> [Written]? {
        var i = offset
        while i < bytes.count, SourceText.isIdentifierByte(bytes[i]) { i += 1 }
        i = skipSpace(i)
        guard i < bytes.count, bytes[i] == UInt8(ascii: "(") else { return nil }
        let pieces = split(from: i + 1, stopAtComma: false)
        if pieces.count == 1 && pieces[0].text.isEmpty { return [] }
        return pieces
    }

    /// The initialiser after a declared name at `offset` (`name = value`), if any.
    public func initializer(afterNameAt offset: Int) -> Written? { valueAfterEquals(skippingNameAt: offset) }

    /// The right-hand side of the assignment `name = value` whose `name`
    /// starts at `offset`.
    public func assignedValue(atOperator offset: Int) -> Written? { valueAfterEquals(skippingNameAt: offset) }

    /// Skips the identifier at `offset` and spaces; then, if a lone `=`
    /// follows, the expression after it.
    func valueAfterEquals(skippingNameAt offset: Int) -> Written? {
        var i = offset
        while i < bytes.count, SourceText.isIdentifierByte(bytes[i]) { i += 1 }
        i = skipSpace(i)
        guard i + 1 < bytes.count, bytes[i] == UInt8(ascii: "="), bytes[i + 1] != UInt8(ascii: "=") else { return nil }
        return split(from: i + 1, stopAtComma: true).first
    }

    func skipSpace(_ start: Int) -> Int {
        var i = start
        while i < bytes.count {
            let b = bytes[i]
            if b == 0x20 || b == 0x09 || b == 0x0a || b == 0x0d || b == 0x5c { i += 1; continue }
            if b == UInt8(ascii: "/"), i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "*") {
                i += 2
                while i + 1 < bytes.count, !(bytes[i] == UInt8(ascii: "*") && bytes[i + 1] == UInt8(ascii: "/")) { i += 1 }
                i += 2
                continue
            }
            if b == UInt8(ascii: "/"), i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "/") {
                while i < bytes.count, bytes[i] != 0x0a { i += 1 }
                continue
            }
            break
        }
        return i
    }

    /// Pieces of an expression list from `start` to the closing bracket (or,
    /// for a single expression, to `;`), split at top-level commas. Comments
    /// and string literals are skipped.
    func split(from start: Int, stopAtComma: Bool) -> [Written] {
        var pieces: [Written] = []
        var text: [UInt8] = []
        var identifiers: [String] = []
        var depth = 0
        var i = start
        func finish() {
            let t = String(decoding: text, as: UTF8.self).split(whereSeparator: \.isWhitespace).joined(separator: " ")
            pieces.append(Written(text: t, identifiers: identifiers))
            text = []
            identifiers = []
        }
        var limit = 0
        while i < bytes.count, limit < 20_000 {
            limit += 1
            let b = bytes[i]
            let j = skipSpace(i)
            if j != i { text.append(0x20); i = j; continue }
            if b == UInt8(ascii: "\"") || b == UInt8(ascii: "'") {
                var k = i + 1
                while k < bytes.count, bytes[k] != b { k += bytes[k] == 0x5c ? 2 : 1 }
                text += bytes[i..<min(k + 1, bytes.count)]
                i = k + 1
                continue
            }
            if SourceText.isIdentifierByte(b) {
                var k = i
                while k < bytes.count, SourceText.isIdentifierByte(bytes[k]) { k += 1 }
                if !(b >= 0x30 && b <= 0x39) { identifiers.append(String(decoding: bytes[i..<k], as: UTF8.self)) }
                text += bytes[i..<k]
                i = k
                continue
            }
            switch b {
            case UInt8(ascii: "("), UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
            case UInt8(ascii: ")"), UInt8(ascii: "]"), UInt8(ascii: "}"):
                if depth == 0 { finish(); return pieces }
                depth -= 1
            case UInt8(ascii: ","):
                if depth == 0 {
                    if stopAtComma { finish(); return pieces }
                    finish()
                    i += 1
                    continue
                }
            case UInt8(ascii: ";"):
                if depth == 0 { finish(); return pieces }
            default:
                break
            }
            text.append(b)
            i += 1
        }
        finish()
        return pieces
    }
}
