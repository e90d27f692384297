import Foundation
import KPolicyFiles
import PatchInput
import Suggest

/// A unified diff (git format, 3 lines of context) of the suggestions the
/// model validated on every path and that can be written as source changes
/// (`Suggestion.changes`), for `git apply`. Reads the checked files from the
/// tree the report names, so that the hunks carry their context. Findings
/// whose suggestion is not validated, or has no source change, are listed
/// as comments above the diff (git apply ignores text before the first
/// `diff --git`).
public struct PatchReporter: Reporter {
    public static let identifier = "patch"
    public static let summary = "a unified diff of the validated suggestions (git apply)"

    public init() {}

    struct Operation {
        /// 0-based index of the first old line replaced (or before which lines are inserted).
        var start: Int
        var removed: Int
        var added: [String]
    }

    public func render(_ report: CheckReport, catalogue: RuleCatalogue, options: ReportOptions) throws -> String {
        var byFile: [String: [SourceChange]] = [:]
        var notes: [String] = []
        for f in report.findings {
            guard let s = f.suggestion else { continue }
            if s.validated, let changes = s.changes, !changes.isEmpty {
                byFile[f.position.file, default: []] += changes
            } else if s.validated, s.replacesCall, let e = s.edit, e.start.line == e.end.line {
                // A validated call replacement of the other rules, on one line.
                byFile[f.position.file, default: []].append(SourceChange(kind: .rename, file: e.start.file, line: e.start.line,
                                                                        column: e.start.column, old: "", text: e.text, endColumn: e.end.column))
            } else if s.changes != nil || s.validation != nil {
                let why = s.validated ? "no source change for it" : "not validated on every path"
                notes.append("# \(f.position.file):\(f.position.line): \(f.rule): \(why)")
            }
        }
        var out = notes.map { $0.escapingControlCharacters + "\n" }.joined()
        let root = URL(fileURLWithPath: report.tree.path)
        for file in byFile.keys.sorted() {
            guard let data = FileManager.default.contents(atPath: root.appendingPathComponent(file).path) else {
                out += "# \(file): cannot read the file; no diff".escapingControlCharacters + "\n"
                continue
            }
            let text = String(decoding: data, as: UTF8.self)
            // A change made on other text than the tree's file (a finding of
            // `kpolicy patch` sits in the patched text) is said, not dropped.
            let stale = byFile[file]!.filter { !Self.applies($0, to: text) }
            for c in stale {
                out += "# \(file):\(c.line): the change is to the text after the patches, not the tree's file: apply them, then run check on the file".escapingControlCharacters + "\n"
            }
            let fitting = byFile[file]!.filter { Self.applies($0, to: text) }
            if !fitting.isEmpty { out += Self.diff(file: file, text: text, changes: fitting) }
        }
        return out
    }

    /// Whether `change` fits `text`: its line exists and, for a rename of a
    /// name, the name stands at its column.
    static func applies(_ change: SourceChange, to text: String) -> Bool {
        let lines = text.components(separatedBy: "\n")
        guard change.line >= 1, change.line <= lines.count else { return false }
        guard change.kind == .rename, change.endColumn == nil else { return true }
        let bytes = Array(lines[change.line - 1].utf8), old = Array(change.old.utf8), at = change.column - 1
        return at >= 0 && at + old.count <= bytes.count && Array(bytes[at..<(at + old.count)]) == old
    }

    /// The diff of `text` with `changes` applied.
    static func diff(file: String, text: String, changes: [SourceChange]) -> String {
        var lines = text.components(separatedBy: "\n")
        let endsWithNewline = lines.last == ""
        if endsWithNewline { lines.removeLast() }
        // Renames change a line in place; inserts add lines around one.
        var replaced: [Int: String] = [:]
        var before: [Int: [String]] = [:]
        var after: [Int: [String]] = [:]
        func indent(_ i: Int) -> String { String(lines[i].prefix { $0 == " " || $0 == "\t" }) }
        for c in changes.sorted(by: { ($0.line, -$0.column) < ($1.line, -$1.column) }) {
            let i = c.line - 1
            guard i >= 0, i < lines.count else { continue }
            switch c.kind {
            case .rename:
                var bytes = Array((replaced[i] ?? lines[i]).utf8)
                let at = c.column - 1
                if let endColumn = c.endColumn {
                    let end = endColumn - 1
                    guard at >= 0, end >= at, end <= bytes.count else { continue }
                    bytes.replaceSubrange(at..<end, with: Array(c.text.utf8))
                    replaced[i] = String(decoding: bytes, as: UTF8.self)
                    continue
                }
                let old = Array(c.old.utf8)
                guard at >= 0, at + old.count <= bytes.count, Array(bytes[at..<(at + old.count)]) == old else { continue }
                bytes.replaceSubrange(at..<(at + old.count), with: Array(c.text.utf8))
                replaced[i] = String(decoding: bytes, as: UTF8.self)
            case .insertBefore:
                if !(before[i] ?? []).contains(indent(i) + c.text) { before[i, default: []].append(indent(i) + c.text) }
            case .insertAfter:
                var end = i
                while end < lines.count - 1, end < i + 10, !lines[end].trimmingCharacters(in: .whitespaces).hasSuffix(";") { end += 1 }
                if !(after[end] ?? []).contains(indent(i) + c.text) { after[end, default: []].append(indent(i) + c.text) }
            }
        }
        var ops: [Operation] = []
        for i in Set(replaced.keys).union(before.keys).union(after.keys).sorted() {
            let newLines = (before[i] ?? []) + [replaced[i] ?? lines[i]] + (after[i] ?? [])
            ops.append(Operation(start: i, removed: 1, added: newLines))
        }
        guard !ops.isEmpty else { return "" }
        var out = "diff --git a/\(file) b/\(file)\n--- a/\(file)\n+++ b/\(file)\n"
        let context = 3
        var group: [Operation] = []
        var delta = 0
        func flush() {
            guard let first = group.first, let last = group.last else { return }
            let oldStart = max(0, first.start - context)
            let oldEnd = min(lines.count, last.start + last.removed + context)
            var body: [String] = []
            var cursor = oldStart
            var newCount = 0
            for op in group {
                while cursor < op.start { body.append(" " + lines[cursor]); cursor += 1; newCount += 1 }
                for k in 0..<op.removed { body.append("-" + lines[op.start + k]) }
                for a in op.added { body.append("+" + a); newCount += 1 }
                cursor = op.start + op.removed
            }
            while cursor < oldEnd { body.append(" " + lines[cursor]); cursor += 1; newCount += 1 }
            let oldCount = oldEnd - oldStart
            out += "@@ -\(oldStart + 1),\(oldCount) +\(oldStart + 1 + delta),\(newCount) @@\n"
            out += body.joined(separator: "\n") + "\n"
            if oldEnd == lines.count, !endsWithNewline { out += "\\ No newline at end of file\n" }
            delta += newCount - oldCount
            group = []
        }
        for op in ops {
            if let last = group.last, op.start - (last.start + last.removed) > 2 * context { flush() }
            group.append(op)
        }
        flush()
        return out
    }
}
