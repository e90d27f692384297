import Foundation
import KPolicyFiles
import PatchInput
import Parse
import Extract
import Findings

/// The lines of the tree's files, read once each, for what reporters and
/// filters need from the source: the offending line's text (baselines,
/// SARIF snippets), the extent of the offending call (regions, fixes) and
/// inline suppression comments.
public final class SourceLines: @unchecked Sendable {
    let root: URL
    private var cache: [String: [[UInt8]]] = [:]
    private let lock = NSLock()

    public init(root: URL) { self.root = root }

    /// Lines of `file` (relative to the root) as bytes, without their newlines;
    /// empty when the file cannot be read as source.
    public func lines(of file: String) -> [[UInt8]] {
        lock.lock()
        defer { lock.unlock() }
        if let known = cache[file] { return known }
        let lines: [[UInt8]]
        switch SourceFile.read(root.appendingPathComponent(file).path) {
        case .success(let data): lines = SourceLines.split([UInt8](data))
        case .failure: lines = []
        }
        cache[file] = lines
        return lines
    }

    /// Gives a buffer that is not on disk (a corpus snippet, a patched file).
    public func provide(_ file: String, text: String) {
        lock.lock()
        defer { lock.unlock() }
        cache[file] = SourceLines.split(Array(text.utf8))
    }

    package static func split(_ bytes: [UInt8]) -> [[UInt8]] {
        var out = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { line -> [UInt8] in
            line.last == UInt8(ascii: "\r") ? Array(line.dropLast()) : Array(line)
        }
        if out.last?.isEmpty == true { out.removeLast() }
        return out
    }

    /// `finding` with its line's text, its end and, for a suggestion that
    /// replaces the call, the edit that does it.
    public func annotate(_ finding: Finding) -> Finding {
        var f = finding
        let lines = lines(of: f.position.file)
        let li = f.position.line - 1
        guard li >= 0, li < lines.count else { return f }
        f.sourceLine = String(decoding: lines[li], as: UTF8.self).trimmingCharacters(in: .whitespaces)
        guard let extent = SourceLines.callExtent(lines, line: li, column: f.position.column - 1) else { return f }
        f.end = Position(file: f.position.file, line: extent.endLine + 1, column: extent.endColumn + 1)
        if var s = f.suggestion, s.replacesCall, extent.isCall, let end = f.end {
            s.edit = TextEdit(start: f.position, end: end, text: s.replacement)
            f.suggestion = s
        }
        return f
    }

    /// The identifier at (line, column) (0-based, bytes) and, when a `(`
    /// follows, through its matching `)`: the end is one past the last byte.
    static func callExtent(_ lines: [[UInt8]], line: Int, column: Int) -> (endLine: Int, endColumn: Int, isCall: Bool)? {
        let text = lines[line]
        guard column >= 0, column < text.count, SourceText.isIdentifierByte(text[column]) else { return nil }
        var c = column
        while c < text.count, SourceText.isIdentifierByte(text[c]) { c += 1 }
        let identifierEnd = c
        var l = line
        // Skip blanks (a call may put its `(` on the same line only, in kernel style; allow spaces).
        while c < lines[l].count, lines[l][c] == UInt8(ascii: " ") || lines[l][c] == UInt8(ascii: "\t") { c += 1 }
        guard c < lines[l].count, lines[l][c] == UInt8(ascii: "(") else { return (line, identifierEnd, false) }
        var depth = 0
        var quote: UInt8?
        var scanned = 0
        while l < lines.count, scanned < 200 {
            let t = lines[l]
            while c < t.count {
                let b = t[c]
                if let q = quote {
                    if b == UInt8(ascii: "\\") { c += 2; continue }
                    if b == q { quote = nil }
                } else if b == UInt8(ascii: "\"") || b == UInt8(ascii: "'") {
                    quote = b
                } else if b == UInt8(ascii: "/"), c + 1 < t.count, t[c + 1] == UInt8(ascii: "/") {
                    break
                } else if b == UInt8(ascii: "(") {
                    depth += 1
                } else if b == UInt8(ascii: ")") {
                    depth -= 1
                    if depth == 0 { return (l, c + 1, true) }
                }
                c += 1
            }
            l += 1
            c = 0
            scanned += 1
        }
        return (line, identifierEnd, false)
    }
}
