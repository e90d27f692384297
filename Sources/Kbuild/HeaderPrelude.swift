import Foundation
import KPolicyFiles
import PatchInput

/// What a header's includers bring before it. A header that is a candidate
/// is parsed as the main file, but many only compile after what comes
/// first where they are really included: arch/powerpc's book3s/64/hash.h
/// uses the page-table sizes book3s/64/pgtable.h defines above its
/// `#include <asm/book3s/64/hash.h>`, mm/vma.h the types mm/vma_internal.h
/// gathers. The prelude is the text of one includer up to the line that
/// includes the header (and, when that includer is itself a header, its
/// own prelude first), given to libclang as forced includes of files that
/// do not exist (unsaved files), so the header stays the main file and its
/// facts stay on its own lines.
public struct HeaderPrelude: Sendable, Equatable {
    public struct Part: Sendable, Equatable {
        /// The includer whose beginning this is (absolute path).
        public var source: String
        /// Where libclang is told the text is: next to `source`, so its
        /// quoted includes resolve as they do there. Never written.
        public var path: String
        public var text: String
    }

    /// Outermost includer first.
    public var parts: [Part]
    /// The header's include guard, defined over the prelude so that the
    /// includers' own inclusion of the header is empty.
    public var guardMacro: String?

    /// What the `#if`s around the includers' `#include` lines ask of the
    /// configuration (CONFIG_ name without the prefix → on or off):
    /// asm/book3s/32/pgtable.h is included only in the `#else` of
    /// `#ifdef CONFIG_PPC64`, so it needs PPC64 off.
    public var requirements: [String: Bool] = [:]

    /// `-include` arguments, in order.
    public var arguments: [String] { parts.flatMap { ["-include", $0.path] } }

    /// How deep a chain of header includers is followed.
    static let maximumDepth = 3
}

/// Finds who includes a header, by a text search of `#include` lines (the
/// one `#include` scanner: IncludeGuard reads a file's includes with it too).
package enum HeaderIncluders {
    /// One `#include` of a file: the name as written, quoted or angled,
    /// and its 0-based line.
    package struct Include: Equatable {
        package var name: String
        package var quoted: Bool
        package var line: Int
    }

    /// The `#include "x"` / `#include <x>` lines of `text`.
    package static func includes(in text: [UInt8]) -> [Include] {
        var out: [Include] = []
        var lineNumber = 0
        var start = 0
        let n = text.count
        while start <= n {
            var end = start
            while end < n, text[end] != UInt8(ascii: "\n") { end += 1 }
            if let (name, quoted) = include(text, start, end) { out.append(Include(name: name, quoted: quoted, line: lineNumber)) }
            lineNumber += 1
            start = end + 1
        }
        return out
    }

    private static func include(_ line: [UInt8], _ start: Int, _ end: Int) -> (String, Bool)? {
        var j = start
        func skipBlanks() { while j < end, line[j] == UInt8(ascii: " ") || line[j] == UInt8(ascii: "\t") { j += 1 } }
        skipBlanks()
        guard j < end, line[j] == UInt8(ascii: "#") else { return nil }
        j += 1
        skipBlanks()
        let keyword = Array("include".utf8)
        guard end - j >= keyword.count, line[j..<(j + keyword.count)].elementsEqual(keyword) else { return nil }
        j += keyword.count
        skipBlanks()
        guard j < end else { return nil }
        let open = line[j]
        let close: UInt8
        if open == UInt8(ascii: "\"") { close = UInt8(ascii: "\"") } else if open == UInt8(ascii: "<") { close = UInt8(ascii: ">") } else { return nil }
        guard let stop = line[(j + 1)..<end].firstIndex(of: close) else { return nil }
        return (String(decoding: line[(j + 1)..<stop], as: UTF8.self), open == UInt8(ascii: "\""))
    }

    /// Where to look for the includers of `relative`: the arch for a header
    /// under arch/<a>/, include/ for the common headers, else the top
    /// directory (two levels for drivers/, fs/, net/, sound/).
    static func searchRoot(of relative: String) -> String {
        let parts = relative.split(separator: "/").map(String.init)
        guard parts.count > 1 else { return "" }
        if ["arch", "drivers", "fs", "net", "sound"].contains(parts[0]), parts.count > 2 { return parts[0] + "/" + parts[1] }
        return parts[0]
    }

    /// The include roots an `#include <name>` (or a quoted one not found
    /// next to the includer) is looked up in, for a file of `arch`.
    static func roots(arch: String) -> [String] {
        ["include", "include/uapi", "arch/\(arch)/include", "arch/\(arch)/include/uapi", "arch/\(arch)"]
    }

    /// The includer of `relative` (a header in `tree`) whose `#include` of
    /// it has the most includes before it (.c files first on a tie, then
    /// by path), with that line; nil when nothing under the search root
    /// includes it. `extraRoots(includer)` gives an includer's Makefile
    /// `-I` directories (relative to the tree).
    static func bestIncluder(of relative: String, treeRoot: String, arch: String,
                             extraRoots: (String) -> [String]) -> (path: String, line: Int, text: [UInt8])? {
        let base = (relative as NSString).lastPathComponent
        let scope = searchRoot(of: relative)
        let fm = FileManager.default
        guard let walker = fm.enumerator(atPath: scope.isEmpty ? treeRoot : treeRoot + "/" + scope) else { return nil }
        var best: (score: (Int, Int), path: String, line: Int, text: [UInt8])?
        while let next = walker.nextObject() as? String {
            guard next.hasSuffix(".c") || next.hasSuffix(".h") else { continue }
            let path = scope.isEmpty ? next : scope + "/" + next
            guard path != relative, case .success(let data) = SourceFile.read(treeRoot + "/" + path), data.count < 4_000_000 else { continue }
            let text = [UInt8](data)
            // Cheap test first: the header's file name appears at all.
            guard contains(text, Array(base.utf8)) else { continue }
            let includes = HeaderIncluders.includes(in: text)
            let directory = (path as NSString).deletingLastPathComponent
            for (index, inc) in includes.enumerated() where (inc.name as NSString).lastPathComponent == base {
                var candidates: [String] = []
                if inc.quoted { candidates.append(normalize(directory + "/" + inc.name)) }
                candidates += (roots(arch: arch) + extraRoots(path)).map { normalize($0 + "/" + inc.name) }
                guard candidates.contains(relative) else { continue }
                let score = (index, path.hasSuffix(".c") ? 1 : 0)
                if best == nil || score > best!.score || (score == best!.score && path < best!.path) {
                    best = (score, path, inc.line, text)
                }
                break
            }
        }
        return best.map { ($0.path, $0.line, $0.text) }
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, haystack.count >= needle.count else { return false }
        let first = needle[0]
        var i = 0
        let last = haystack.count - needle.count
        while i <= last {
            if haystack[i] == first, haystack[i..<(i + needle.count)].elementsEqual(needle) { return true }
            i += 1
        }
        return false
    }

    /// `a/b/../c` → `a/c` (relative paths, no symlinks followed).
    static func normalize(_ path: String) -> String {
        var out: [Substring] = []
        for part in path.split(separator: "/") {
            if part == "." { continue }
            if part == "..", !out.isEmpty { out.removeLast(); continue }
            out.append(part)
        }
        return out.joined(separator: "/")
    }

    /// The macro of the header's include guard (`#ifndef X` then `#define X`
    /// as its first two directives), if it has one.
    static func includeGuard(in text: [UInt8]) -> String? {
        var directives: [[Substring]] = []
        for line in String(decoding: text.prefix(16_384), as: UTF8.self).split(separator: "\n") {
            let t = line.trimmingCharacters(in: .whitespaces)
            guard t.hasPrefix("#") else { continue }
            directives.append(t.dropFirst().split(whereSeparator: { $0 == " " || $0 == "\t" }).map { Substring($0) })
            if directives.count == 2 { break }
        }
        guard directives.count == 2, directives[0].count >= 2, directives[1].count >= 2,
              directives[0][0] == "ifndef", directives[1][0] == "define", directives[0][1] == directives[1][1] else { return nil }
        return String(directives[0][1])
    }

    /// The options the conditionals open at `line` of `text` test, with
    /// the branch the line is in: `#ifdef CONFIG_X` / `#if
    /// defined(CONFIG_X)` / `#if IS_ENABLED(CONFIG_X)` (and their
    /// negations) on, off in their `#else`. Other conditions (`#elif`,
    /// expressions) ask nothing.
    static func requirements(of text: [UInt8], beforeLine line: Int) -> [String: Bool] {
        var stack: [(String, Bool)?] = []
        for (i, l) in String(decoding: text, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            guard i < line else { break }
            let t = l.trimmingCharacters(in: .whitespaces)
            guard t.hasPrefix("#") else { continue }
            let directive = t.dropFirst().trimmingCharacters(in: .whitespaces)
            let word = directive.prefix { $0.isLetter }
            let rest = directive.dropFirst(word.count).split(separator: "/").first.map { $0.replacingOccurrences(of: " ", with: "") } ?? ""
            switch word {
            case "ifdef", "ifndef", "if":
                var body = rest
                var want = word != "ifndef"
                if word == "if" {
                    if body.hasPrefix("!") { want = false; body.removeFirst() }
                    for wrapper in ["defined(", "IS_ENABLED(", "IS_BUILTIN("] where body.hasPrefix(wrapper) && body.hasSuffix(")") {
                        body = String(body.dropFirst(wrapper.count).dropLast())
                    }
                }
                let name = body.hasPrefix("CONFIG_") ? String(body.dropFirst(7)) : ""
                stack.append(!name.isEmpty && name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" } ? (name, want) : nil)
            case "else":
                if let top = stack.popLast() { stack.append(top.map { ($0.0, !$0.1) }) }
            case "elif":
                if !stack.isEmpty { stack[stack.count - 1] = nil }
            case "endif":
                _ = stack.popLast()
            default:
                break
            }
        }
        var out: [String: Bool] = [:]
        for case let (name, want)? in stack { out[name] = want }
        return out
    }

    /// The first `line` lines of `text`, with every conditional still open
    /// there closed, so the cut text preprocesses on its own.
    static func beginning(of text: [UInt8], beforeLine line: Int) -> String {
        var lines = String(decoding: text, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        lines = Array(lines.prefix(line))
        var open = 0
        for l in lines {
            let t = l.trimmingCharacters(in: .whitespaces)
            guard t.hasPrefix("#") else { continue }
            let directive = t.dropFirst().trimmingCharacters(in: .whitespaces)
            if directive.hasPrefix("if") { open += 1 }                      // #if, #ifdef, #ifndef
            else if directive.hasPrefix("endif"), open > 0 { open -= 1 }
        }
        // A cut inside a continued line or comment would swallow what follows.
        var out = lines.joined(separator: "\n")
        if out.hasSuffix("\\") { out += " " }
        return out + "\n/* kpolicy: header prelude ends here */\n" + String(repeating: "#endif\n", count: open)
    }
}
