import Foundation
import KPolicyFiles

/// A unified diff as `git diff`, `git format-patch` and `diff -u` write it.
///
/// Patch mode needs, for every file a patch touches, which file it was and
/// is, and the exact hunks — to rebuild the patched file in memory and to
/// know which lines of it the patch added. The parser is strict where git
/// apply is strict (hunk counts must match the lines that follow; a file
/// cut off inside a hunk is an error naming the line) and lenient where git
/// is (text before the first file header — a commit message, a diffstat —
/// and between files is skipped).
public struct UnifiedDiff: Equatable, Sendable {
    /// The files in the order the diff lists them.
    public var files: [FileDiff]

    public init(files: [FileDiff]) { self.files = files }

    /// Parses `text` (see `parse(bytes:source:firstLine:strip:)`).
    public static func parse(_ text: String, source: String = "<diff>", firstLine: Int = 1, strip: Int = 1) throws -> UnifiedDiff {
        try parse(bytes: Array(text.utf8), source: source, firstLine: firstLine, strip: strip)
    }

    /// Parses a diff held as bytes.
    ///
    /// - Parameters:
    ///   - source: the name used in errors (a file name, `<stdin>`).
    ///   - firstLine: the line number of the first byte in `source`, so a
    ///     diff cut out of a mail reports lines of the mail.
    ///   - strip: leading path components removed from `---`/`+++` names,
    ///     as `git apply -p<n>` (default 1, which drops `a/` and `b/`).
    public static func parse(bytes: [UInt8], source: String = "<diff>", firstLine: Int = 1, strip: Int = 1) throws -> UnifiedDiff {
        guard bytes.count <= InputLimits.maxBytes else {
            throw InputError.tooLarge(source: source, reason: "\(bytes.count) bytes, more than \(InputLimits.maxBytes)")
        }
        var parser = DiffParser(lines: ByteLines(bytes).lines, source: source, firstLine: firstLine, strip: strip)
        return UnifiedDiff(files: try parser.parse())
    }
}

/// One file's part of a diff.
public struct FileDiff: Equatable, Sendable {
    /// What the diff does to the file.
    public enum Status: String, Equatable, Sendable {
        case modified, added, deleted, renamed, copied
    }

    /// The path before the change; nil when the file is new (`/dev/null`).
    public var oldPath: String?
    /// The path after the change; nil when the file is deleted.
    public var newPath: String?
    public var status: Status
    /// `old mode`/`deleted file mode` and `new mode`/`new file mode`, octal as written.
    public var oldMode: String?
    public var newMode: String?
    /// A binary change (`GIT binary patch` or `Binary files ... differ`):
    /// noted so it can be reported, never applied or checked.
    public var isBinary: Bool
    public var hunks: [Hunk]
    /// The line of the diff where this file's header starts.
    public var headerLine: Int
    /// The pre-image blob id of git's `index <old>..<new>` line (hex,
    /// possibly abbreviated); nil without one, or for a new file.
    public var oldBlob: String? = nil
    /// The mode of git's `index <old>..<new> <mode>` line (a change that
    /// keeps the mode says it there, not in `old mode`/`new mode`).
    public var unchangedMode: String? = nil

    /// A submodule pointer (git's gitlink, mode 160000): a commit id, not a
    /// file; its "content" is a `Subproject commit <id>` line.
    public var isGitlink: Bool {
        [oldMode, newMode, unchangedMode].contains("160000")
    }

    /// The path the file has after the change, or had before a deletion.
    public var path: String { newPath ?? oldPath ?? "" }

    /// New-file line numbers the diff adds, over all hunks.
    public var addedLineNumbers: [Int] { hunks.flatMap(\.addedLineNumbers) }
}

/// One `@@ -a,b +c,d @@ section` hunk.
public struct Hunk: Equatable, Sendable {
    /// One line of the hunk, without its leading marker and newline.
    public enum Line: Equatable, Sendable {
        case context([UInt8])
        case added([UInt8])
        case removed([UInt8])

        public var bytes: [UInt8] {
            switch self { case .context(let b), .added(let b), .removed(let b): return b }
        }
        public var text: String { String(decoding: bytes, as: UTF8.self) }
    }

    public var oldStart: Int
    public var oldCount: Int
    public var newStart: Int
    public var newCount: Int
    /// The text after the second `@@` (git's function context), trimmed.
    public var section: String
    /// The `@@ ... @@` line as written (for messages).
    public var header: String
    /// The line of the diff the header is on.
    public var headerLine: Int
    public var lines: [Line]
    /// `\ No newline at end of file` followed the last old-side line.
    public var oldMissingNewline: Bool
    /// `\ No newline at end of file` followed the last new-side line.
    public var newMissingNewline: Bool

    /// New-file line numbers (1-based) of the added lines: what a
    /// changed-lines filter keeps findings on.
    public var addedLineNumbers: [Int] {
        var n = newStart
        var result: [Int] = []
        for line in lines {
            switch line {
            case .context: n += 1
            case .added: result.append(n); n += 1
            case .removed: break
            }
        }
        return result
    }
}

/// The state machine behind `UnifiedDiff.parse`.
struct DiffParser {
    let lines: [ArraySlice<UInt8>]
    let source: String
    let firstLine: Int
    let strip: Int
    var i = 0

    init(lines: [ArraySlice<UInt8>], source: String, firstLine: Int, strip: Int) {
        self.lines = lines
        self.source = source
        self.firstLine = firstLine
        self.strip = max(0, strip)
    }

    func lineNumber(_ index: Int) -> Int { firstLine + index }

    func fail(_ index: Int, _ reason: String) -> InputError {
        .malformedDiff(source: source, line: lineNumber(index), reason: reason)
    }

    mutating func parse() throws -> [FileDiff] {
        var files: [FileDiff] = []
        while i < lines.count {
            let line = lines[i]
            if line.hasASCIIPrefix("diff --git ") {
                files.append(try parseGitFile())
            } else if line.hasASCIIPrefix("--- "), i + 1 < lines.count, lines[i + 1].hasASCIIPrefix("+++ ") {
                files.append(try parseTraditionalFile())
            } else if line.hasASCIIPrefix("@@ ") {
                throw fail(i, "hunk header without a file header (--- / +++) before it")
            } else {
                i += 1 // commit message, diffstat, signature: not part of the diff
            }
        }
        return files
    }

    /// The old id of `<old>..<new>[ mode]`: 4 to 64 hex digits, not all
    /// zero (git's id of "no file"); nil otherwise.
    static func preimageBlob(_ text: String) -> String? {
        guard let range = text.range(of: "..") else { return nil }
        let id = String(text[..<range.lowerBound]).lowercased()
        guard (4...64).contains(id.count), id.allSatisfy { "0123456789abcdef".contains($0) }, id.contains(where: { $0 != "0" }) else { return nil }
        return id
    }

    /// `diff --git a/x b/y` and its extended header lines, then hunks or a binary patch.
    mutating func parseGitFile() throws -> FileDiff {
        let start = i
        let (gitOld, gitNew) = try splitGitHeader(lines[i].dropFirst("diff --git ".utf8.count), at: i)
        var file = FileDiff(oldPath: gitOld, newPath: gitNew, status: .modified, oldMode: nil, newMode: nil,
                            isBinary: false, hunks: [], headerLine: lineNumber(i))
        i += 1
        var sawMinus = false
        while i < lines.count {
            let line = lines[i]
            let text = line.text
            func value(_ key: String) -> String { String(text.dropFirst(key.count)) }
            if line.hasASCIIPrefix("diff --git ") { break }
            if line.hasASCIIPrefix("old mode ") { file.oldMode = value("old mode ") }
            else if line.hasASCIIPrefix("new mode ") { file.newMode = value("new mode ") }
            else if line.hasASCIIPrefix("deleted file mode ") { file.oldMode = value("deleted file mode "); file.status = .deleted; file.newPath = nil }
            else if line.hasASCIIPrefix("new file mode ") { file.newMode = value("new file mode "); file.status = .added; file.oldPath = nil }
            else if line.hasASCIIPrefix("rename from ") { file.oldPath = try path(value("rename from "), at: i, strip: 0); file.status = .renamed }
            else if line.hasASCIIPrefix("rename to ") { file.newPath = try path(value("rename to "), at: i, strip: 0); file.status = .renamed }
            else if line.hasASCIIPrefix("copy from ") { file.oldPath = try path(value("copy from "), at: i, strip: 0); file.status = .copied }
            else if line.hasASCIIPrefix("copy to ") { file.newPath = try path(value("copy to "), at: i, strip: 0); file.status = .copied }
            else if line.hasASCIIPrefix("index ") {
                file.oldBlob = Self.preimageBlob(value("index "))
                // `index <old>..<new> <mode>`: the mode when it did not change.
                if let mode = value("index ").split(separator: " ").dropFirst().first {
                    file.unchangedMode = String(mode)
                }
            }
            else if line.hasASCIIPrefix("similarity index ") || line.hasASCIIPrefix("dissimilarity index ") {}
            else if line.hasASCIIPrefix("Binary files ") { file.isBinary = true }
            else if line.hasASCIIPrefix("GIT binary patch") { file.isBinary = true; skipBinaryPatch(); continue }
            else if line.hasASCIIPrefix("--- ") {
                guard i + 1 < lines.count, lines[i + 1].hasASCIIPrefix("+++ ") else {
                    throw fail(i + 1, "'--- ' file header not followed by '+++ '")
                }
                let old = try headerPath(line.dropFirst(4), at: i)
                let new = try headerPath(lines[i + 1].dropFirst(4), at: i + 1)
                if file.status != .renamed && file.status != .copied {
                    if old == nil && file.status != .added { file.status = .added }
                    if new == nil && file.status != .deleted { file.status = .deleted }
                    file.oldPath = old
                    file.newPath = new
                }
                i += 2
                sawMinus = true
                file.hunks = try parseHunks()
                break
            } else if line.hasASCIIPrefix("@@ ") {
                throw fail(i, "hunk header before the '--- ' / '+++ ' lines of \(file.path)")
            } else {
                break // end of the extended header (a mode-only or empty change)
            }
            i += 1
        }
        if !sawMinus, file.hunks.isEmpty, file.oldPath == nil, file.newPath == nil {
            throw fail(start, "cannot tell the file name from the 'diff --git' line")
        }
        return file
    }

    /// A plain `diff -u` file: `--- old`, `+++ new`, hunks.
    mutating func parseTraditionalFile() throws -> FileDiff {
        let start = i
        let old = try headerPath(lines[i].dropFirst(4), at: i)
        let new = try headerPath(lines[i + 1].dropFirst(4), at: i + 1)
        i += 2
        let hunks = try parseHunks()
        guard !hunks.isEmpty else { throw fail(start, "file header for \(new ?? old ?? "?") with no hunks") }
        let status: FileDiff.Status = old == nil ? .added : (new == nil ? .deleted : .modified)
        return FileDiff(oldPath: old, newPath: new, status: status, oldMode: nil, newMode: nil,
                        isBinary: false, hunks: hunks, headerLine: lineNumber(start))
    }

    /// Skips the base85 body of a `GIT binary patch` up to the next file.
    mutating func skipBinaryPatch() {
        i += 1
        while i < lines.count, !lines[i].hasASCIIPrefix("diff --git "), !lines[i].hasASCIIPrefix("-- ") {
            i += 1
        }
    }

    mutating func parseHunks() throws -> [Hunk] {
        var hunks: [Hunk] = []
        while i < lines.count, lines[i].hasASCIIPrefix("@@ ") {
            let hunk = try parseHunk()
            if let previous = hunks.last, hunk.oldStart < previous.oldStart + previous.oldCount {
                throw InputError.malformedDiff(source: source, line: hunk.headerLine,
                    reason: "hunk \(hunk.header) overlaps or precedes the hunk before it (\(previous.header))")
            }
            hunks.append(hunk)
            // A line that looks like more hunk content means the counts were wrong.
            if i < lines.count, let first = lines[i].first,
               first == UInt8(ascii: "+") || first == UInt8(ascii: "-") || first == UInt8(ascii: " "),
               !lines[i].hasASCIIPrefix("--- "), !lines[i].hasASCIIPrefix("-- "), !lines[i].hasASCIIPrefix("+++ "),
               !lines[i].elementsEqual("--".utf8) { // "-- " signature, its space eaten by a mailer
                throw fail(i, "more lines than hunk \(hunk.header) (line \(hunk.headerLine)) counts: "
                              + "-\(hunk.oldCount) +\(hunk.newCount)")
            }
        }
        return hunks
    }

    mutating func parseHunk() throws -> Hunk {
        let headerIndex = i
        let header = lines[i].text
        guard let parsed = Self.parseHunkHeader(header) else {
            throw fail(i, "bad hunk header '\(header)': expected '@@ -start[,count] +start[,count] @@'")
        }
        guard parsed.oldStart <= InputLimits.maxLineNumber, parsed.oldCount <= InputLimits.maxLineNumber,
              parsed.newStart <= InputLimits.maxLineNumber, parsed.newCount <= InputLimits.maxLineNumber else {
            throw fail(i, "hunk header '\(header)' has a line number or count above \(InputLimits.maxLineNumber)")
        }
        guard (parsed.oldCount == 0 || parsed.oldStart > 0), (parsed.newCount == 0 || parsed.newStart > 0) else {
            throw fail(i, "hunk header '\(header)' counts lines from line 0")
        }
        var hunk = Hunk(oldStart: parsed.oldStart, oldCount: parsed.oldCount, newStart: parsed.newStart,
                        newCount: parsed.newCount, section: parsed.section, header: parsed.header,
                        headerLine: lineNumber(i), lines: [], oldMissingNewline: false, newMissingNewline: false)
        i += 1
        var oldSeen = 0, newSeen = 0
        while oldSeen < hunk.oldCount || newSeen < hunk.newCount {
            guard i < lines.count else {
                throw fail(i, "diff ends inside hunk \(hunk.header) (line \(hunk.headerLine)): "
                              + "\(oldSeen) of \(hunk.oldCount) old and \(newSeen) of \(hunk.newCount) new lines read")
            }
            let line = lines[i]
            let body = Array(line.dropFirst())
            switch line.first {
            case UInt8(ascii: " "), nil:
                // An empty line is a context line whose space a mailer ate, as git accepts.
                hunk.lines.append(.context(body)); oldSeen += 1; newSeen += 1
            case UInt8(ascii: "-"):
                hunk.lines.append(.removed(body)); oldSeen += 1
            case UInt8(ascii: "+"):
                hunk.lines.append(.added(body)); newSeen += 1
            case UInt8(ascii: "\\"):
                try markMissingNewline(&hunk)
            default:
                throw fail(i, "hunk \(hunk.header) (line \(hunk.headerLine)) ends early: "
                              + "\(oldSeen) of \(hunk.oldCount) old and \(newSeen) of \(hunk.newCount) new lines read, "
                              + "then a line that is not ' ', '-' or '+'")
            }
            if oldSeen > hunk.oldCount || newSeen > hunk.newCount {
                throw fail(i, "hunk \(hunk.header) (line \(hunk.headerLine)) has more "
                              + (oldSeen > hunk.oldCount ? "old" : "new") + " lines than its header counts")
            }
            i += 1
        }
        if i < lines.count, lines[i].first == UInt8(ascii: "\\") {
            try markMissingNewline(&hunk)
            i += 1
        }
        return hunk
    }

    /// `\ No newline at end of file` applies to the line just before it.
    func markMissingNewline(_ hunk: inout Hunk) throws {
        guard let last = hunk.lines.last else { throw fail(i, "'\\ No newline at end of file' with no line before it") }
        switch last {
        case .context: hunk.oldMissingNewline = true; hunk.newMissingNewline = true
        case .removed: hunk.oldMissingNewline = true
        case .added: hunk.newMissingNewline = true
        }
    }

    /// `@@ -a[,b] +c[,d] @@ section`; an omitted count is 1.
    static func parseHunkHeader(_ text: String) -> (oldStart: Int, oldCount: Int, newStart: Int, newCount: Int, section: String, header: String)? {
        guard text.hasPrefix("@@ -") else { return nil }
        let afterOpen = text.dropFirst(4)
        guard let close = afterOpen.range(of: " @@") else { return nil }
        let ranges = afterOpen[..<close.lowerBound].split(separator: " ")
        guard ranges.count == 2, ranges[1].hasPrefix("+") else { return nil }
        func range(_ s: Substring) -> (Int, Int)? {
            let parts = s.split(separator: ",", omittingEmptySubsequences: false)
            guard parts.count == 1 || parts.count == 2 else { return nil }
            // Digits only, at most 9 of them: no sign, no overflow.
            func number(_ p: Substring) -> Int? {
                guard !p.isEmpty, p.count <= 9, p.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
                return Int(p)
            }
            guard let start = number(parts[0]) else { return nil }
            if parts.count == 1 { return (start, 1) }
            guard let count = number(parts[1]) else { return nil }
            return (start, count)
        }
        guard let old = range(ranges[0]), let new = range(ranges[1].dropFirst()) else { return nil }
        let rest = afterOpen[close.upperBound...]
        let header = "@@ -" + afterOpen[..<close.upperBound]
        return (old.0, old.1, new.0, new.1, rest.trimmingCharacters(in: .whitespaces), header)
    }

    /// A `---`/`+++` name: `/dev/null` is nil, a tab ends the name (diff -u
    /// puts the date there), quoted names are C-unescaped, `strip`
    /// components are dropped.
    func headerPath(_ raw: ArraySlice<UInt8>, at index: Int) throws -> String? {
        var text = raw.text
        if !text.hasPrefix("\""), let tab = text.firstIndex(of: "\t") { text = String(text[..<tab]) }
        text = text.trimmingCharacters(in: .whitespaces)
        if text == "/dev/null" { return nil }
        return try path(text, at: index, strip: strip)
    }

    /// Unquotes and strips one path; an empty result is an error.
    func path(_ raw: String, at index: Int, strip: Int) throws -> String {
        var text = raw
        if text.hasPrefix("\"") {
            guard let (unquoted, _) = Self.unquoteC(Array(text.utf8)[...]) else {
                throw fail(index, "bad quoted file name \(raw)")
            }
            text = unquoted
        }
        var components = text.split(separator: "/", omittingEmptySubsequences: false)
        if strip > 0 {
            guard components.count > strip else { throw fail(index, "file name \(text) has fewer than \(strip + 1) components") }
            components.removeFirst(strip)
        }
        let result = components.joined(separator: "/")
        guard !result.isEmpty else { throw fail(index, "empty file name") }
        if let why = Self.leavesTree(components) { throw fail(index, "file name \(result) \(why); refused before anything is read") }
        return result
    }

    /// Why a path (its components, after `-p` stripping) is not a path
    /// inside the tree, or nil when it is one: absolute, or holding a `..`
    /// component (git apply refuses both the same way, whatever follows).
    /// Every name a diff gives — `---`/`+++`, `diff --git`, rename and copy
    /// from/to — goes through `path(_:at:strip:)` and so through this,
    /// before any file is looked at.
    static func leavesTree(_ components: [Substring]) -> String? {
        if components.first == "" { return "is absolute: it leaves the tree" }
        if components.contains("..") { return "has a '..' component: it can leave the tree" }
        return nil
    }

    /// `a/x b/y` from `diff --git`: quoted names, or the split where the
    /// two names (after their prefixes) are the same, as git does.
    func splitGitHeader(_ raw: ArraySlice<UInt8>, at index: Int) throws -> (String?, String?) {
        if raw.first == UInt8(ascii: "\"") {
            guard let (first, rest) = Self.unquoteC(raw) else { throw fail(index, "bad quoted name in 'diff --git' line") }
            let second = rest.drop(while: { $0 == UInt8(ascii: " ") })
            let name2: String
            if second.first == UInt8(ascii: "\"") {
                guard let (n, _) = Self.unquoteC(second) else { throw fail(index, "bad quoted name in 'diff --git' line") }
                name2 = n
            } else {
                name2 = second.text
            }
            return (try? path(first, at: index, strip: strip), try? path(name2, at: index, strip: strip))
        }
        let text = raw.text
        if text.hasSuffix("\""), let q = text.range(of: " \"") {
            // Only the second name is quoted.
            guard let (second, _) = Self.unquoteC(Array(text[text.index(after: q.lowerBound)...].utf8)[...]) else {
                throw fail(index, "bad quoted name in 'diff --git' line")
            }
            return (try? path(String(text[..<q.lowerBound]), at: index, strip: strip),
                    try? path(second, at: index, strip: strip))
        }
        // Unquoted: "a/<n> b/<n>" — try the middle first, then any " b/" split.
        let chars = Array(text)
        if chars.count % 2 == 1 {
            let half = chars.count / 2
            let left = String(chars[..<half]), right = String(chars[(half + 1)...])
            if chars[half] == " ", let l = try? path(left, at: index, strip: strip),
               let r = try? path(right, at: index, strip: strip), l == r {
                return (l, r)
            }
        }
        if let split = text.range(of: " b/") ?? text.range(of: " ") {
            let left = String(text[..<split.lowerBound])
            let right = String(text[text.index(after: split.lowerBound)...])
            return (try? path(left, at: index, strip: strip), try? path(right, at: index, strip: strip))
        }
        return (nil, nil)
    }

    /// Decodes a C-quoted string starting at `"`: `\\ \" \a \b \t \n \v \f
    /// \r` and three-digit octal bytes (git writes UTF-8 names that way).
    /// Returns the text and what follows the closing quote.
    static func unquoteC(_ s: ArraySlice<UInt8>) -> (String, ArraySlice<UInt8>)? {
        guard s.first == UInt8(ascii: "\"") else { return nil }
        var out: [UInt8] = []
        var i = s.index(after: s.startIndex)
        while i < s.endIndex {
            let b = s[i]
            if b == UInt8(ascii: "\"") { return (String(decoding: out, as: UTF8.self), s[(i + 1)...]) }
            if b != UInt8(ascii: "\\") { out.append(b); i += 1; continue }
            i += 1
            guard i < s.endIndex else { return nil }
            let e = s[i]
            switch e {
            case UInt8(ascii: "\\"), UInt8(ascii: "\""): out.append(e)
            case UInt8(ascii: "a"): out.append(7)
            case UInt8(ascii: "b"): out.append(8)
            case UInt8(ascii: "t"): out.append(9)
            case UInt8(ascii: "n"): out.append(10)
            case UInt8(ascii: "v"): out.append(11)
            case UInt8(ascii: "f"): out.append(12)
            case UInt8(ascii: "r"): out.append(13)
            case UInt8(ascii: "0")...UInt8(ascii: "3"):
                guard i + 2 < s.endIndex else { return nil }
                var value = 0
                for k in 0..<3 {
                    let d = s[i + k]
                    guard d >= UInt8(ascii: "0"), d <= UInt8(ascii: "7") else { return nil }
                    value = value * 8 + Int(d - UInt8(ascii: "0"))
                }
                out.append(UInt8(value))
                i += 2
            default: return nil
            }
            i += 1
        }
        return nil
    }
}
