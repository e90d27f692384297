import Foundation
import KPolicyFiles

/// A file after a patch, with what the patch changed in it.
///
/// Patch mode parses the patched file, not the tree's, and then keeps only
/// findings on lines the patch touched (`changedLines`); a finding on an
/// unchanged line is matched with the same finding before the patch through
/// `originalLine(forNewLine:)`.
public struct PatchedFile: Equatable, Sendable {
    /// The new contents, byte for byte.
    public var contents: [UInt8]
    /// The path the original lines come from (differs after a rename).
    public var originalPath: String?
    /// New-file lines (1-based) the patch (or series) added or changed.
    public var changedLines: Set<Int>
    /// For every unchanged new-file line (1-based), the original line it is.
    public var originalLines: [Int: Int]

    public var text: String { String(decoding: contents, as: UTF8.self) }

    public func originalLine(forNewLine line: Int) -> Int? { originalLines[line] }
}

/// Applies one file's diff to its old contents in memory, as `git apply`
/// does by default: context and removed lines must match exactly (no fuzz,
/// no whitespace leniency), but a hunk may be found at an offset from its
/// stated line, the nearest match winning. A hunk starting at old line 0
/// or 1 must match at the start of the file and one without trailing
/// context at its end (so `-U0` patches are refused, as by git apply
/// without `--unidiff-zero`).
public enum PatchApplier {
    /// Applies `diff` to `old` (nil: the file does not exist). Returns nil
    /// when the diff deletes the file.
    public static func apply(_ diff: FileDiff, to old: [UInt8]?) throws -> PatchedFile? {
        let image = old.map { LineImage(bytes: $0) }
        guard let result = try apply(diff, to: image) else { return nil }
        return result.patchedFile(originalPath: diff.oldPath)
    }

    /// The same for text; nil when the diff deletes the file.
    public static func apply(_ diff: FileDiff, to old: String?) throws -> String? {
        try apply(diff, to: old.map { Array($0.utf8) }).map(\.text)
    }

    /// Applies `diff` to an image whose lines already carry their origin.
    static func apply(_ diff: FileDiff, to old: LineImage?) throws -> LineImage? {
        let path = diff.path
        if diff.isBinary { throw InputError.cannotApply(path: path, reason: "binary patch (kpolicy does not apply binary patches)") }
        var image: LineImage
        switch diff.status {
        case .added:
            if let old, !old.lines.isEmpty { throw InputError.cannotApply(path: path, reason: "new file, but it already exists") }
            image = LineImage(bytes: [])
        default:
            guard let old else {
                throw InputError.cannotApply(path: diff.oldPath ?? path, reason: "the file to patch does not exist")
            }
            image = old
        }
        for (index, hunk) in diff.hunks.enumerated() {
            try apply(hunk, number: index + 1, path: path, to: &image)
        }
        if diff.status == .deleted {
            guard image.lines.isEmpty else {
                throw InputError.cannotApply(path: path, reason: "deletion leaves \(image.lines.count) lines in the file")
            }
            return nil
        }
        return image
    }

    static func apply(_ hunk: Hunk, number: Int, path: String, to image: inout LineImage) throws {
        var preimage: [[UInt8]] = []
        for line in hunk.lines {
            switch line {
            case .context(let b), .removed(let b): preimage.append(b)
            case .added: break
            }
        }
        let trailingContext = hunk.lines.reversed().prefix { if case .context = $0 { return true } else { return false } }.count
        let matchBeginning = hunk.oldStart <= 1
        let matchEnd = trailingContext == 0
        let stated = max(0, hunk.newStart - 1)
        guard let pos = findPosition(of: preimage, in: image, near: stated, matchBeginning: matchBeginning,
                                     matchEnd: matchEnd, oldMissingNewline: hunk.oldMissingNewline) else {
            let reason: String
            if preimage.count > image.lines.count {
                reason = "it needs \(preimage.count) lines of context and removed lines, the file has \(image.lines.count)"
            } else if matchBeginning || matchEnd {
                reason = "its context and removed lines do not match at the \(matchBeginning ? "start" : "end") of the file"
            } else {
                reason = "its context and removed lines match nowhere in the file"
            }
            throw InputError.hunkDoesNotApply(path: path, hunk: number, header: hunk.header, reason: reason)
        }
        var replacement: [[UInt8]] = []
        var origins: [Int?] = []
        var k = pos
        for line in hunk.lines {
            switch line {
            case .context(let b): replacement.append(b); origins.append(image.origins[k]); k += 1
            case .removed: k += 1
            case .added(let b): replacement.append(b); origins.append(nil)
            }
        }
        let reachesEnd = pos + preimage.count == image.lines.count
        image.lines.replaceSubrange(pos..<(pos + preimage.count), with: replacement)
        image.origins.replaceSubrange(pos..<(pos + preimage.count), with: origins)
        if reachesEnd { image.endsWithNewline = replacement.isEmpty ? true : !hunk.newMissingNewline }
        if image.lines.isEmpty { image.endsWithNewline = true }
    }

    /// git's search: the stated line first, then one line earlier, one
    /// later, two earlier, ... until both directions leave the file.
    static func findPosition(of preimage: [[UInt8]], in image: LineImage, near stated: Int,
                             matchBeginning: Bool, matchEnd: Bool, oldMissingNewline: Bool) -> Int? {
        let last = image.lines.count - preimage.count
        guard last >= 0 else { return nil }
        func matches(_ pos: Int) -> Bool {
            guard pos >= 0, pos <= last else { return false }
            if matchBeginning && pos != 0 { return false }
            if matchEnd && pos != last { return false }
            let atEnd = pos == last
            // A "\ No newline" hunk only matches the file's real last line, and vice versa.
            if !preimage.isEmpty, atEnd, oldMissingNewline == image.endsWithNewline { return false }
            if oldMissingNewline && !atEnd { return false }
            for (j, line) in preimage.enumerated() where image.lines[pos + j] != line { return false }
            return true
        }
        let start = min(stated, last)
        if matchBeginning { return matches(0) ? 0 : nil }
        if matchEnd { return matches(last) ? last : nil }
        var distance = 0
        while start - distance >= 0 || start + distance <= last {
            if matches(start - distance) { return start - distance }
            if distance > 0, matches(start + distance) { return start + distance }
            distance += 1
        }
        return nil
    }
}

/// A file as lines, each remembering the original line it came from (nil
/// for a line a patch added), so that applying several patches in a row
/// still knows which lines differ from the tree.
struct LineImage: Equatable, Sendable {
    var lines: [[UInt8]]
    var origins: [Int?]
    var endsWithNewline: Bool

    init(bytes: [UInt8]) {
        let split = ByteLines(bytes)
        lines = split.lines.map { Array($0) }
        origins = (0..<split.lines.count).map { $0 + 1 }
        endsWithNewline = split.endsWithNewline
    }

    var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(lines.reduce(0) { $0 + $1.count + 1 })
        for (i, line) in lines.enumerated() {
            out.append(contentsOf: line)
            if i < lines.count - 1 || endsWithNewline { out.append(0x0A) }
        }
        return out
    }

    func patchedFile(originalPath: String?) -> PatchedFile {
        var changed = Set<Int>()
        var map: [Int: Int] = [:]
        for (i, origin) in origins.enumerated() {
            if let origin { map[i + 1] = origin } else { changed.insert(i + 1) }
        }
        return PatchedFile(contents: bytes, originalPath: originalPath, changedLines: changed, originalLines: map)
    }
}
