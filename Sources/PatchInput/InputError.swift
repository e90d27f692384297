import Foundation
import KPolicyFiles

/// What can be wrong with a patch, a mailbox, a series or a MAINTAINERS
/// file handed to kpolicy.
///
/// Every case names where (the source — a file name or `<stdin>` — and, when
/// there is one, the 1-based line in it) and says in one sentence what is
/// wrong, so the CLI can print it as one line and bots can point at it.
/// Input code never traps on bad input: it throws one of these.
public enum InputError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The text is not a well-formed unified diff at `line`.
    case malformedDiff(source: String, line: Int, reason: String)
    /// A mail (or mbox) is malformed at `line`.
    case malformedMail(source: String, line: Int, reason: String)
    /// Hunk number `hunk` (1-based, in its file's diff) does not apply to
    /// `path`; `header` is its `@@ ... @@` line.
    case hunkDoesNotApply(path: String, hunk: Int, header: String, reason: String)
    /// A file diff cannot be applied at all (binary patch, file already
    /// exists, deleted file left non-empty, ...).
    case cannotApply(path: String, reason: String)
    /// MAINTAINERS is malformed at `line`.
    case malformedMaintainers(source: String, line: Int, reason: String)
    /// The input is bigger than kpolicy is willing to hold in memory.
    case tooLarge(source: String, reason: String)

    public var description: String {
        switch self {
        case .malformedDiff(let s, let l, let r): return "\(s):\(l): malformed diff: \(r)"
        case .malformedMail(let s, let l, let r): return "\(s):\(l): malformed mail: \(r)"
        case .hunkDoesNotApply(let p, let h, let header, let r):
            return "\(p): hunk #\(h) \(header) does not apply: \(r)"
        case .cannotApply(let p, let r): return "\(p): cannot apply: \(r)"
        case .malformedMaintainers(let s, let l, let r): return "\(s):\(l): \(r)"
        case .tooLarge(let s, let r): return "\(s): too large: \(r)"
        }
    }
}

/// Limits that keep hostile input from exhausting memory or overflowing
/// arithmetic. Kernel patches are far below all of them (the largest
/// mainline commits are a few hundred thousand lines).
public enum InputLimits {
    /// Largest diff, mail, mbox, report or baseline read, in bytes.
    public static let maxBytes = 512 << 20
    /// Largest rule file read, in bytes (the built-in ones are under 10 KiB).
    public static let maxRuleFileBytes = 1 << 20
    /// Largest line number or count accepted in a hunk header.
    static let maxLineNumber = 50_000_000
    /// Most headers one mail may carry.
    static let maxHeaders = 10_000
}

/// Lines of a byte buffer split at `\n`, each without its `\n`.
///
/// Diffs and mails are handled as bytes, not Swift `Character`s: Swift treats
/// `\r\n` as one Character, and a file with CRLF endings or with bytes that
/// are not UTF-8 must come out of a patch byte-for-byte as git writes it.
public struct ByteLines {
    public var lines: [ArraySlice<UInt8>]
    /// Whether the buffer ended with `\n` (or was empty).
    public var endsWithNewline: Bool

    public init(_ bytes: [UInt8]) {
        var result: [ArraySlice<UInt8>] = []
        var start = bytes.startIndex
        var i = bytes.startIndex
        while i < bytes.endIndex {
            if bytes[i] == 0x0A {
                result.append(bytes[start..<i])
                start = i + 1
            }
            i += 1
        }
        endsWithNewline = start == bytes.endIndex
        if start < bytes.endIndex { result.append(bytes[start..<bytes.endIndex]) }
        lines = result
    }
}

extension ArraySlice where Element == UInt8 {
    /// Whether the slice starts with the ASCII `prefix`.
    public func hasASCIIPrefix(_ prefix: String) -> Bool {
        let p = Array(prefix.utf8)
        guard count >= p.count else { return false }
        var i = startIndex
        for b in p {
            if self[i] != b { return false }
            i += 1
        }
        return true
    }

    /// The slice as text (invalid UTF-8 replaced), for messages and headers.
    public var text: String { String(decoding: self, as: UTF8.self) }
}
