import ClangKit
import Foundation
import KPolicyFiles
import PatchInput

/// A function declaration's storage class (`FunctionFact.Storage` in the
/// facts): what a PCH's declarations record of each top-level function.
public enum FunctionStorage: String, Sendable { case `static`, `extern`, none }

/// The macro definitions and function declarations of a precompiled
/// header's headers, read once from the PCH's own unit when it is built and
/// kept next to it. A file parsed with the PCH is then visited without the
/// PCH's declarations (`ClangIndex(excludeDeclarationsFromPCH:)`): libclang
/// would read every one of them back from the PCH for each file, which on
/// x86 costs more CPU (about 0.45 s for kernel/bpf/core.c on 6.12) than the
/// parse itself with the PCH (0.1 s). The fact stages look names up here
/// after the file's own macros and declarations.
///
/// The file is text, one record a line, fields separated by tabs:
/// `P path` (the file table, numbered in order), `M name functionLike file
/// tokens` (tokens separated by U+0001, each a kind letter and its
/// spelling, the macro's name first as libclang gives it) and `F name file
/// line column storage definition endLine`.
public final class PrecompiledDeclarations: @unchecked Sendable {
    public struct Macro: Sendable {
        public var isFunctionLike: Bool
        public var file: String
        /// The encoded tokens, decoded when a fact stage needs them.
        let encodedTokens: Substring

        public var tokens: [MacroToken] {
            encodedTokens.split(separator: "\u{1}", omittingEmptySubsequences: true).compactMap { field in
                guard let kind = field.first.flatMap(PrecompiledDeclarations.kind(of:)) else { return nil }
                return MacroToken(kind: kind, spelling: PrecompiledDeclarations.unescape(field.dropFirst()))
            }
        }
    }

    public struct Function: Sendable {
        public var name: String
        public var file: String
        public var line: Int
        public var column: Int
        public var storage: FunctionStorage
        public var isDefinition: Bool
        public var endLine: Int?
    }

    /// The last definition of each name (as the preprocessor keeps it).
    public let macros: [String: Macro]
    /// Every top-level function declaration, in order.
    public let functions: [Function]

    init(macros: [String: Macro], functions: [Function]) {
        self.macros = macros
        self.functions = functions
    }

    // MARK: Writing

    /// The records of `unit` (the PCH's own unit, everything in it local).
    static func encode(_ unit: TranslationUnit) -> String {
        var files: [String: Int] = [:]
        var out = ""
        func fileIndex(_ path: String?) -> Int {
            let path = path ?? ""
            if let i = files[path] { return i }
            let i = files.count
            files[path] = i
            out += "P\t\(escape(path))\n"
            return i
        }
        unit.cursor.visitChildren { cursor, _ in
            switch cursor.kind {
            case .macroDefinition:
                let tokens = cursor.tokens.map { String(letter(of: $0.kind)) + escape($0.spelling) }.joined(separator: "\u{1}")
                let file = fileIndex(cursor.location.file)
                out += "M\t\(escape(cursor.spelling))\t\(cursor.isMacroFunctionLike ? 1 : 0)\t\(file)\t\(tokens)\n"
            case .functionDecl:
                let location = cursor.location
                let file = fileIndex(location.file)
                let storage: String
                switch cursor.storageClass {
                case .static: storage = "s"
                case .extern: storage = "e"
                default: storage = "n"
                }
                let definition = cursor.isDefinition
                let end = definition ? String(cursor.extent.end.line) : "-"
                out += "F\t\(escape(cursor.spelling))\t\(file)\t\(location.line)\t\(location.column)\t\(storage)\t\(definition ? 1 : 0)\t\(end)\n"
            default:
                break
            }
            return .continue
        }
        return out
    }

    // MARK: Reading

    /// Reads a file `encode` wrote; nil when it is missing or damaged (the
    /// PCH is then used with its declarations visited as before). Works on
    /// the bytes (x86's file on 6.12: 3 MB, 48,000 records): a macro's
    /// tokens are decoded only when a fact stage asks for them.
    static func load(_ path: String) -> PrecompiledDeclarations? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let bytes = [UInt8](data)
        var files: [String] = []
        var macros: [String: Macro] = [:]
        var functions: [Function] = []
        let tab = UInt8(ascii: "\t"), newline = UInt8(ascii: "\n")
        func text(_ r: Range<Int>) -> String { unescape(String(decoding: bytes[r], as: UTF8.self)) }
        func number(_ r: Range<Int>) -> Int? {
            guard !r.isEmpty else { return nil }
            var n = 0
            for b in bytes[r] {
                guard b >= 0x30, b <= 0x39 else { return nil }
                n = n * 10 + Int(b - 0x30)
            }
            return n
        }
        var fields: [Range<Int>] = []
        var lineStart = 0
        while lineStart < bytes.count {
            var lineEnd = lineStart
            while lineEnd < bytes.count, bytes[lineEnd] != newline { lineEnd += 1 }
            defer { lineStart = lineEnd + 1 }
            guard lineEnd > lineStart else { continue }
            fields.removeAll(keepingCapacity: true)
            var fieldStart = lineStart
            for i in lineStart..<lineEnd where bytes[i] == tab {
                fields.append(fieldStart..<i)
                fieldStart = i + 1
            }
            fields.append(fieldStart..<lineEnd)
            guard fields[0].count == 1 else { return nil }
            switch bytes[fields[0].lowerBound] {
            case UInt8(ascii: "P") where fields.count == 2:
                files.append(text(fields[1]))
            case UInt8(ascii: "M") where fields.count == 5 && fields[2].count == 1:
                guard let f = number(fields[3]), files.indices.contains(f) else { return nil }
                let tokens = Substring(String(decoding: bytes[fields[4]], as: UTF8.self))
                macros[text(fields[1])] = Macro(isFunctionLike: bytes[fields[2].lowerBound] == UInt8(ascii: "1"), file: files[f], encodedTokens: tokens)
            case UInt8(ascii: "F") where fields.count == 8 && fields[6].count == 1:
                guard let f = number(fields[2]), files.indices.contains(f), let line = number(fields[3]), let column = number(fields[4]),
                      fields[5].count == 1 else { return nil }
                let storage: FunctionStorage
                switch bytes[fields[5].lowerBound] {
                case UInt8(ascii: "s"): storage = .static
                case UInt8(ascii: "e"): storage = .extern
                default: storage = .none
                }
                functions.append(Function(name: text(fields[1]), file: files[f], line: line, column: column, storage: storage,
                                          isDefinition: bytes[fields[6].lowerBound] == UInt8(ascii: "1"), endLine: number(fields[7])))
            default:
                return nil
            }
        }
        return PrecompiledDeclarations(macros: macros, functions: functions)
    }

    // MARK: Encoding

    static func letter(of kind: TokenKind) -> Character {
        switch kind {
        case .punctuation: return "p"
        case .keyword: return "k"
        case .identifier: return "i"
        case .literal: return "l"
        case .comment: return "c"
        }
    }

    static func kind(of letter: Character) -> TokenKind? {
        switch letter {
        case "p": return .punctuation
        case "k": return .keyword
        case "i": return .identifier
        case "l": return .literal
        case "c": return .comment
        default: return nil
        }
    }

    /// Backslash, tab, carriage return, newline and U+0001 (a literal's
    /// spelling can hold them) as two-character escapes.
    static func escape(_ s: String) -> String {
        let special: (Unicode.Scalar) -> Bool = { $0 == "\\" || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\u{1}" }
        guard s.unicodeScalars.contains(where: special) else { return s }
        var out = String.UnicodeScalarView()
        for c in s.unicodeScalars {
            switch c {
            case "\\": out.append(contentsOf: "\\\\".unicodeScalars)
            case "\t": out.append(contentsOf: "\\t".unicodeScalars)
            case "\n": out.append(contentsOf: "\\n".unicodeScalars)
            case "\r": out.append(contentsOf: "\\r".unicodeScalars)
            case "\u{1}": out.append(contentsOf: "\\1".unicodeScalars)
            default: out.append(c)
            }
        }
        return String(out)
    }

    static func unescape<S: StringProtocol>(_ s: S) -> String {
        guard s.unicodeScalars.contains("\\") else { return String(s) }
        var out = String.UnicodeScalarView()
        var escaped = false
        for c in s.unicodeScalars {
            if escaped {
                switch c {
                case "t": out.append("\t")
                case "n": out.append("\n")
                case "r": out.append("\r")
                case "1": out.append("\u{1}")
                default: out.append(c)
                }
                escaped = false
            } else if c == "\\" {
                escaped = true
            } else {
                out.append(c)
            }
        }
        return String(out)
    }
}

/// One token of a macro definition: all the fact stages read of it.
public struct MacroToken: Sendable, Equatable {
    public var kind: TokenKind
    public var spelling: String

    package init(kind: TokenKind, spelling: String) {
        self.kind = kind
        self.spelling = spelling
    }
}
