import Foundation
import KPolicyFiles
import PatchInput

/// The kernel's MAINTAINERS file, read the way scripts/get_maintainer.pl
/// reads it, answering "whom must a patch to these files be sent to?".
///
/// Matching follows get_maintainer.pl (checked against the 6.1 and 6.12
/// scripts): an `F:`/`X:` pattern matches a path when the pattern, with `*`
/// matching any characters (`/` included) and `?` any one character,
/// matches a *prefix* of the path, and — unless the pattern ends in `/` —
/// the path has as many `/` as the pattern. So `F: mm/*` matches files
/// directly in mm/ only, `F: drivers/net/` everything below it, and
/// `F: include/linux/bpf` also `include/linux/bpf_verifier.h`. A pattern
/// without glob characters or dots that names a directory matches
/// everything below it (get_maintainer.pl appends the `/` after `-d`).
/// `N:` is a regex searched in the path, `K:` a regex searched in patch
/// lines, both with Perl's `/x` (whitespace in the pattern ignored).
/// Sections are ranked by the depth of their best matching pattern: the
/// number of `/` in it, plus one unless it ends in `/`; a pattern starting
/// with `*` ranks -1 and `N:` 0.
///
/// Deliberate differences from get_maintainer.pl:
/// - A section's rank is its *deepest* matching pattern; get_maintainer.pl
///   keeps whichever matching pattern comes last in the section. Only the
///   order of sections can differ, never the set.
/// - A plain pattern P (no glob, no dot) matches a path below `P/` without
///   asking the file system (a path below P means P is a directory, even
///   one a patch creates); the tree is asked only whether P is a directory
///   when that decides a match (`P` vs a sibling file `P_foo.c`).
/// - Addresses found inside the files themselves (get_maintainer.pl reads
///   `.yaml` bindings for them) and git history are not used.
/// - `K:` is matched only against `patchLines`. get_maintainer.pl up to 6.2
///   also matched it against the whole content of a file given with `-f`
///   (6.3 put that behind `--keywords-in-file`); pass the file's text as
///   `patchLines` to reproduce the old script.
///
/// Measured: 10 files (tests) and 29 files spread over the 6.12 tree agree
/// with `get_maintainer.pl --no-git --no-git-fallback --no-rolestats -f` on
/// the M:, R: and L: sets, except the two `.yaml` files' in-file
/// addresses; 20 files of 6.1 agree when the file text is given as
/// `patchLines`. Loading 6.12's MAINTAINERS takes about 25 ms in release,
/// a query under 1 ms.
public struct Maintainers: Sendable {
    /// One section: the title line and its typed entries.
    public struct Section: Equatable, Sendable {
        public var name: String
        /// Line of the title in MAINTAINERS (1-based).
        public var line: Int
        /// `M:` — patches go to them.
        public var maintainers: [EmailAddress] = []
        /// `R:` — designated reviewers, to be Cc'd.
        public var reviewers: [EmailAddress] = []
        /// `L:` — mailing lists.
        public var lists: [MailingList] = []
        /// `S:` — Supported, Maintained, Odd Fixes, Orphan, Obsolete, ...
        public var status: String?
        /// `F:`, `X:`, `N:`, `K:` as written.
        public var files: [String] = []
        public var excludedFiles: [String] = []
        public var fileRegexes: [String] = []
        public var keywords: [String] = []
    }

    /// An `L:` entry: the address and what follows it.
    public struct MailingList: Equatable, Sendable {
        public var address: String
        /// E.g. "(moderated for non-subscribers)".
        public var note: String
        public var isModerated: Bool { note.contains("moderated") }
        /// get_maintainer.pl leaves these out by default: mail from
        /// non-subscribers bounces.
        public var isSubscribersOnly: Bool { note.contains("subscribers-only") }
    }

    /// A section that matched, and why.
    public struct Match: Equatable, Sendable {
        public enum Reason: Equatable, Sendable {
            case file(pattern: String, path: String)
            case fileRegex(String, path: String)
            case keyword(String)
        }
        public var section: Section
        /// The rank: deeper patterns are more specific.
        public var depth: Int
        public var reason: Reason
    }

    /// Whom to send to: the union over the matched sections, in rank order,
    /// without duplicates.
    public struct Addresses: Equatable, Sendable {
        public var maintainers: [EmailAddress] = []
        public var reviewers: [EmailAddress] = []
        /// List addresses, subscribers-only lists left out.
        public var lists: [String] = []
    }

    public let sections: [Section]
    /// Entries skipped because their regex does not compile here (ICU
    /// regex syntax is close to, not identical with, Perl's).
    public let warnings: [String]
    let patterns: [FilePattern]
    let excludes: [[FilePattern]]
    let nameRegexes: [(section: Int, source: String, regex: NSRegularExpression)]
    let keywordRegexes: [(section: Int, source: String, regex: NSRegularExpression)]
    /// Whether a tree-relative path is a directory; nil: none is.
    let isDirectory: (@Sendable (String) -> Bool)?

    /// The addresses get_maintainer.pl never adds: the "chief penguin".
    static let penguinChiefs: Set<String> = ["torvalds@linux-foundation.org"]

    /// Reads `tree`/MAINTAINERS; directories are looked up in `tree`.
    public init(tree: URL) throws {
        let url = tree.appendingPathComponent("MAINTAINERS")
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw KPolicyError.unreadableFile(path: url.path, reason: error.localizedDescription)
        }
        let root = tree.path
        try self.init(bytes: Array(data), source: url.path) { path in
            var isDir: ObjCBool = false
            return FileManager.default.fileExists(atPath: root + "/" + path, isDirectory: &isDir) && isDir.boolValue
        }
    }

    public init(text: String, source: String = "MAINTAINERS", isDirectory: (@Sendable (String) -> Bool)? = nil) throws {
        try self.init(bytes: Array(text.utf8), source: source, isDirectory: isDirectory)
    }

    public init(bytes: [UInt8], source: String = "MAINTAINERS", isDirectory: (@Sendable (String) -> Bool)? = nil) throws {
        self.isDirectory = isDirectory
        guard bytes.count <= 64 << 20 else {
            throw InputError.tooLarge(source: source, reason: "\(bytes.count) bytes for a MAINTAINERS file")
        }
        var sections: [Section] = []
        var pending: (name: String, line: Int)?
        var warnings: [String] = []
        var patterns: [FilePattern] = []
        var excludes: [[FilePattern]] = []
        var names: [(Int, String, NSRegularExpression)] = []
        var keywords: [(Int, String, NSRegularExpression)] = []
        var lineNumber = 0
        for line in ByteLines(bytes).lines {
            lineNumber += 1
            // A typed entry: one capital letter and a colon at the start of the line.
            if line.count >= 2, let tag = line.first, tag >= UInt8(ascii: "A"), tag <= UInt8(ascii: "Z"),
               line[line.startIndex + 1] == UInt8(ascii: ":") {
                if let p = pending {
                    sections.append(Section(name: p.name, line: p.line))
                    excludes.append([])
                    pending = nil
                }
                guard !sections.isEmpty else {
                    throw InputError.malformedMaintainers(source: source, line: lineNumber,
                                                          reason: "'\(Character(Unicode.Scalar(tag))):' entry before any section title")
                }
                let valueBytes = Self.trimmed(line.dropFirst(2))
                let value = valueBytes.text
                let s = sections.count - 1
                switch tag {
                case UInt8(ascii: "M"): if let a = Self.person(valueBytes) { sections[s].maintainers.append(a) }
                case UInt8(ascii: "R"): if let a = Self.person(valueBytes) { sections[s].reviewers.append(a) }
                case UInt8(ascii: "L"):
                    let parts = value.split(maxSplits: 1, whereSeparator: { $0 == " " || $0 == "\t" })
                    if let address = parts.first {
                        sections[s].lists.append(MailingList(address: String(address),
                                                             note: parts.count > 1 ? String(parts[1]) : ""))
                    }
                case UInt8(ascii: "S"): sections[s].status = value
                case UInt8(ascii: "F"):
                    sections[s].files.append(value)
                    patterns.append(FilePattern(value, section: s))
                case UInt8(ascii: "X"):
                    sections[s].excludedFiles.append(value)
                    excludes[s].append(FilePattern(value, section: s))
                case UInt8(ascii: "N"), UInt8(ascii: "K"):
                    do {
                        let regex = try NSRegularExpression(pattern: value, options: [.allowCommentsAndWhitespace])
                        if tag == UInt8(ascii: "N") { sections[s].fileRegexes.append(value); names.append((s, value, regex)) }
                        else { sections[s].keywords.append(value); keywords.append((s, value, regex)) }
                    } catch {
                        warnings.append("\(source):\(lineNumber): regex '\(value)' does not compile; entry ignored")
                    }
                default: break // T:, W:, B:, C:, P:, Q: — not about whom to send to
                }
            } else if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D })
                        || line.drop(while: { $0 == 0x20 || $0 == 0x09 }).first == UInt8(ascii: "#") {
                continue // blank lines and comments do not end a section
            } else {
                pending = (Self.trimmed(line).text, lineNumber)
            }
        }
        self.sections = sections
        self.warnings = warnings
        self.patterns = patterns
        self.excludes = excludes
        self.nameRegexes = names
        self.keywordRegexes = keywords
    }

    /// Spaces, tabs and CRs trimmed from both ends, without Foundation
    /// (25k lines: Foundation's trimming was most of the load time).
    static func trimmed(_ s: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        func blank(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0D }
        var lo = s.startIndex, hi = s.endIndex
        while lo < hi, blank(s[lo]) { lo += 1 }
        while hi > lo, blank(s[hi - 1]) { hi -= 1 }
        return s[lo..<hi]
    }

    /// `Name <addr>` (the M:/R: form) read from bytes; other forms go
    /// through `EmailAddress.parse`.
    static func person(_ value: ArraySlice<UInt8>) -> EmailAddress? {
        guard let open = value.firstIndex(of: UInt8(ascii: "<")),
              let close = value[open...].firstIndex(of: UInt8(ascii: ">")) else {
            return EmailAddress.parse(value.text)
        }
        var name = trimmed(value[..<open])
        if name.count >= 2, name.first == UInt8(ascii: "\""), name.last == UInt8(ascii: "\"") {
            name = name.dropFirst().dropLast()
        }
        let address = trimmed(value[(open + 1)..<close])
        guard !address.isEmpty else { return nil }
        return EmailAddress(name: name.isEmpty ? nil : name.text, address: address.text)
    }

    /// Sections for `paths` (tree-relative), most specific first; with
    /// `patchLines`, sections whose `K:` keyword occurs in one of them
    /// follow (get_maintainer.pl matches keywords against the `+`/`-` lines
    /// of a patch and the text before the diff).
    public func sections(for paths: [String], patchLines: [String]? = nil) -> [Match] {
        var best: [Int: Match] = [:]
        func offer(_ s: Int, _ depth: Int, _ reason: Match.Reason) {
            if let current = best[s], current.depth >= depth { return }
            best[s] = Match(section: sections[s], depth: depth, reason: reason)
        }
        for raw in paths {
            var path = raw
            while path.hasPrefix("./") { path.removeFirst(2) }
            let bytes = Array(path.utf8)
            let slashes = bytes.reduce(0) { $0 + ($1 == UInt8(ascii: "/") ? 1 : 0) }
            var excluded: [Int: Bool] = [:]
            func isExcluded(_ s: Int) -> Bool {
                if let e = excluded[s] { return e }
                let e = excludes[s].contains { $0.matches(bytes, slashes: slashes, isDirectory: isDirectory) }
                excluded[s] = e
                return e
            }
            for pattern in patterns where pattern.matches(bytes, slashes: slashes, isDirectory: isDirectory)
                && !isExcluded(pattern.section) {
                offer(pattern.section, pattern.depth, .file(pattern: pattern.source, path: path))
            }
            let range = NSRange(path.startIndex..., in: path)
            for n in nameRegexes where !isExcluded(n.section) && n.regex.firstMatch(in: path, range: range) != nil {
                offer(n.section, 0, .fileRegex(n.source, path: path))
            }
        }
        var result = best.values.sorted { $0.depth != $1.depth ? $0.depth > $1.depth : $0.section.line < $1.section.line }
        if let patchLines {
            var seen = Set(best.keys)
            for k in keywordRegexes where !seen.contains(k.section) {
                let hit = patchLines.contains { line in
                    k.regex.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)) != nil
                }
                if hit {
                    seen.insert(k.section)
                    result.append(Match(section: sections[k.section], depth: Int.min, reason: .keyword(k.source)))
                }
            }
        }
        return result
    }

    /// The union of M:, R: and L: over `sections(for:patchLines:)`.
    ///
    /// Like get_maintainer.pl (`--no-git --no-rolestats`): a person already
    /// listed by name or address is not listed again, Linus Torvalds ("THE
    /// REST") is left out, subscribers-only lists are left out, every list
    /// appears once.
    public func addresses(for paths: [String], patchLines: [String]? = nil) -> Addresses {
        var out = Addresses()
        var names = Set<String>(), addresses = Set<String>(), lists = Set<String>()
        func add(_ a: EmailAddress, to list: inout [EmailAddress]) {
            let address = a.normalizedAddress
            let name = a.name?.lowercased() ?? ""
            guard !Self.penguinChiefs.contains(address), !addresses.contains(address),
                  name.isEmpty || !names.contains(name) else { return }
            addresses.insert(address)
            if !name.isEmpty { names.insert(name) }
            list.append(a)
        }
        for match in sections(for: paths, patchLines: patchLines) {
            for l in match.section.lists where !l.isSubscribersOnly && lists.insert(l.address.lowercased()).inserted {
                out.lists.append(l.address)
            }
            for m in match.section.maintainers { add(m, to: &out.maintainers) }
            for r in match.section.reviewers { add(r, to: &out.reviewers) }
        }
        return out
    }
}

/// A compiled `F:`/`X:` pattern.
///
/// get_maintainer.pl turns the pattern into a Perl regex by escaping `.`
/// and replacing `*` with `.*` and `?` with `.`; everything else stays
/// regex syntax, and MAINTAINERS relies on that for `[ch]`-style classes
/// (`F: drivers/irqchip/irq-gic*.[ch]`). So `[...]` is a byte class here.
struct FilePattern: Sendable {
    enum Token: Sendable, Equatable {
        case byte(UInt8)
        case any
        case star
        case set([UInt8], negated: Bool)
    }

    let source: String
    let section: Int
    let tokens: [Token]
    /// The bytes before the first glob token: a cheap first test.
    let literalPrefix: [UInt8]
    let endsWithSlash: Bool
    /// get_maintainer.pl only tests plain names (no glob, no dot) for being
    /// a directory; for those, `glob` is the name itself.
    let directoryName: [UInt8]?
    let slashes: Int
    let depth: Int

    init(_ source: String, section: Int) {
        self.source = source
        self.section = section
        let bytes = Array(source.utf8)
        var tokens: [Token] = []
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "*") { tokens.append(.star) }
            else if b == UInt8(ascii: "?") { tokens.append(.any) }
            else if b == UInt8(ascii: "["), let close = bytes[(i + 1)...].firstIndex(of: UInt8(ascii: "]")), close > i + 1 {
                var members = Array(bytes[(i + 1)..<close])
                let negated = members.first == UInt8(ascii: "^")
                if negated { members.removeFirst() }
                members = Self.expandRanges(members)
                tokens.append(.set(members, negated: negated))
                i = close
            } else { tokens.append(.byte(b)) }
            i += 1
        }
        self.tokens = tokens
        literalPrefix = tokens.prefix { if case .byte = $0 { return true } else { return false } }
            .compactMap { if case .byte(let b) = $0 { return b } else { return nil } }
        endsWithSlash = bytes.last == UInt8(ascii: "/")
        let plain = literalPrefix.count == tokens.count && !bytes.contains(UInt8(ascii: "."))
        directoryName = plain && !endsWithSlash ? bytes : nil
        slashes = bytes.reduce(0) { $0 + ($1 == UInt8(ascii: "/") ? 1 : 0) }
        depth = bytes.first == UInt8(ascii: "*") ? -1 : slashes + (endsWithSlash ? 0 : 1)
    }

    /// `a-z` inside a class → every byte from a to z.
    static func expandRanges(_ members: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var k = 0
        while k < members.count {
            if k + 2 < members.count, members[k + 1] == UInt8(ascii: "-"), members[k] <= members[k + 2] {
                out.append(contentsOf: members[k]...members[k + 2])
                k += 3
            } else {
                out.append(members[k])
                k += 1
            }
        }
        return out
    }

    func matches(_ path: [UInt8], slashes pathSlashes: Int, isDirectory: (@Sendable (String) -> Bool)?) -> Bool {
        guard path.count >= literalPrefix.count, path.starts(with: literalPrefix) else { return false }
        if let name = directoryName, path.count > name.count {
            // Below P/: P is a directory. Beside it (P_foo.c): a match only if P is not one.
            if path[name.count] == UInt8(ascii: "/") { return true }
            if pathSlashes == slashes, let isDirectory, isDirectory(source) { return false }
        }
        guard endsWithSlash || pathSlashes == slashes else { return false }
        return Self.matchesPrefix(tokens, path)
    }

    /// Whether `tokens` match some prefix of `s`: greedy with backtracking
    /// to the last star, linear for the patterns MAINTAINERS uses.
    static func matchesPrefix(_ tokens: [Token], _ s: [UInt8]) -> Bool {
        var p = 0, i = 0
        var star = -1, starI = 0
        while true {
            if p == tokens.count { return true }
            if tokens[p] == .star { star = p; starI = i; p += 1; continue }
            if i < s.count, matchesOne(tokens[p], s[i]) { p += 1; i += 1; continue }
            if star >= 0, starI < s.count { starI += 1; i = starI; p = star + 1; continue }
            return false
        }
    }

    static func matchesOne(_ token: Token, _ b: UInt8) -> Bool {
        switch token {
        case .byte(let x): return x == b
        case .any: return true
        case .star: return true
        case .set(let members, let negated): return members.contains(b) != negated
        }
    }
}
