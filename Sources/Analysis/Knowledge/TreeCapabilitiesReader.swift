import Foundation
import KernelModel
import KPolicyFiles
import PatchInput
import Kbuild

/// Reads a tree's `TreeCapabilities` from its own files, as text (no
/// parse, no configuration):
/// - a version-dependent catalogue API is there when one of the headers the
///   catalogue names for it (`ModelAPI.headers`) declares it;
/// - an arch implements `bpf_arch_text_copy()` when a file of its
///   arch/<a>/net/ defines it (a definition at the start of a line);
/// - an arch's ROX cache serves the execmem types whose range in its
///   `execmem_arch_setup()` (arch/<a>/mm/) has `.flags` holding
///   EXECMEM_ROX_CACHE, directly or through a local the function assigns it
///   to, provided the arch's main config block in arch/<a>/Kconfig selects
///   ARCH_HAS_EXECMEM_ROX (`ArchSelects`).
///
/// Where the files that would say are not in the tree at all (a partial
/// tree, a scratch tree of a test), the fact is what the tree's version
/// predicts (`TreeCapabilities.expected(for:)`): an absent header cannot
/// say an API is gone.
public enum TreeCapabilitiesReader {
    /// The capabilities of the tree at `root`. Results depend on them
    /// through `TreeFacts.digest`, not through the files read.
    public static func read(tree root: URL, version: KernelVersion) -> TreeCapabilities {
        func text(_ path: String) -> String? {
            FileManager.default.contents(atPath: root.appendingPathComponent(path).path)
                .map { CSource.withoutComments(String(decoding: $0, as: UTF8.self)) }
        }
        func sources(in dir: String) -> [String] {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent(dir).path)) ?? []
            return names.filter { $0.hasSuffix(".c") }.sorted().map { dir + "/" + $0 }
        }
        let predicted = TreeCapabilities.expected(for: version)
        var declared: Set<String> = []
        var headers: [String: String?] = [:]
        for api in ModelAPI.all where api.isVersioned {
            for h in api.headers where headers[h] == nil { headers[h] = .some(text(h)) }
            let present = api.headers.compactMap { headers[$0] ?? nil }
            if present.isEmpty ? predicted.declared.contains(api.name) : present.contains(where: { CSource.declares(api.name, in: $0) }) {
                declared.insert(api.name)
            }
        }
        var textCopy: Set<Arch> = []
        var rox: [Arch: Set<ExecmemType>] = [:]
        for arch in Arch.allCases {
            guard let dir = arch.kernelArch else { continue }
            let jit = sources(in: "arch/\(dir)/net")
            if jit.isEmpty ? predicted.bpfArchTextCopy.contains(arch)
                : jit.contains(where: { text($0).map { CSource.defines("bpf_arch_text_copy", in: $0) } ?? false }) {
                textCopy.insert(arch)
            }
            guard let selects = ArchSelects.selects(root: root, arch: dir) else {
                rox[arch] = predicted.roxCache[arch]
                continue
            }
            guard selects.contains(where: { $0.0 == "ARCH_HAS_EXECMEM_ROX" }) else { continue }
            for file in sources(in: "arch/\(dir)/mm") {
                guard let body = text(file).flatMap({ CSource.body(of: "execmem_arch_setup", in: $0) }) else { continue }
                rox[arch] = roxCacheTypes(inSetup: String(body))
                break
            }
        }
        return TreeCapabilities(version: version, declared: declared, bpfArchTextCopy: textCopy, roxCache: rox)
    }

    /// The types whose `[EXECMEM_X] = { ... .flags = ... }` holds
    /// EXECMEM_ROX_CACHE in an `execmem_arch_setup()` body.
    static func roxCacheTypes(inSetup body: String) -> Set<ExecmemType> {
        // Locals assigned an expression naming the flag (`flags = EXECMEM_KASAN_SHADOW | EXECMEM_ROX_CACHE;`).
        var roxLocals: Set<String> = []
        for statement in body.split(separator: ";") where statement.contains("EXECMEM_ROX_CACHE") {
            let parts = statement.split(separator: "=", maxSplits: 1)
            if parts.count == 2, let name = parts[0].split(whereSeparator: { !CSource.isIdentifierCharacter($0) }).last {
                roxLocals.insert(String(name))
            }
        }
        var out: Set<ExecmemType> = []
        var rest = Substring(body)
        while let open = rest.range(of: "[EXECMEM_") {
            let nameEnd = rest[open.upperBound...].firstIndex(of: "]") ?? rest.endIndex
            let typeName = "EXECMEM_" + rest[open.upperBound..<nameEnd]
            guard let brace = rest[nameEnd...].firstIndex(of: "{") else { break }
            let block = CSource.balanced(rest[brace...])
            rest = rest[block.endIndex...]
            guard let type = ExecmemType(name: typeName), let flags = block.range(of: ".flags") else { continue }
            let value = block[flags.upperBound...].prefix { $0 != "," && $0 != "}" }
            let names = value.split(whereSeparator: { !CSource.isIdentifierCharacter($0) }).map(String.init)
            if names.contains("EXECMEM_ROX_CACHE") || names.contains(where: roxLocals.contains) { out.insert(type) }
        }
        return out
    }
}

/// Text-level reading of C and Kconfig, for facts that need no parse.
enum CSource {
    static func isIdentifierCharacter(_ c: Character) -> Bool { c == "_" || c.isLetter || c.isNumber }

    /// `text` with its comments blanked (string literals are not told
    /// apart: a comment marker inside one is taken as a comment).
    static func withoutComments(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        var it = text.makeIterator()
        var previous: Character?
        var block = false, line = false
        while let c = it.next() {
            if block {
                if previous == "*" && c == "/" { block = false; previous = nil; out.append(" "); continue }
                if c == "\n" { out.append("\n") }
                previous = c
                continue
            }
            if line {
                if c == "\n" { line = false; out.append("\n") }
                continue
            }
            if previous == "/" && c == "*" { out.removeLast(); block = true; previous = nil; continue }
            if previous == "/" && c == "/" { out.removeLast(); line = true; previous = nil; continue }
            out.append(c)
            previous = c
        }
        return out
    }

    /// Whether `name(` stands in `text` as a whole identifier (a declaration
    /// in a header, a definition or a call).
    static func declares(_ name: String, in text: String) -> Bool {
        var rest = Substring(text)
        while let r = rest.range(of: name) {
            let before = r.lowerBound == text.startIndex ? nil : text[text.index(before: r.lowerBound)]
            let after = rest[r.upperBound...].drop { $0 == " " || $0 == "\t" || $0 == "\n" }.first
            if !(before.map(isIdentifierCharacter) ?? false), after == "(" { return true }
            rest = rest[r.upperBound...]
        }
        return false
    }

    /// Whether a line that starts at column 0 (a definition or a
    /// declaration, not a call inside a body) names `name(` and does not
    /// end in `;`.
    static func defines(_ name: String, in text: String) -> Bool {
        text.split(separator: "\n").contains { line in
            guard let first = line.first, first != " " && first != "\t" && first != "#" else { return false }
            return declares(name, in: String(line)) && !line.trimmingCharacters(in: .whitespaces).hasSuffix(";")
        }
    }

    /// The body (between its outer braces) of the function `name` defined
    /// in `text`, or nil.
    static func body(of name: String, in text: String) -> Substring? {
        var rest = Substring(text)
        while let r = rest.range(of: name + "(") {
            let lineStart = text[..<r.lowerBound].lastIndex(of: "\n").map { text.index(after: $0) } ?? text.startIndex
            let head = text[lineStart..<r.lowerBound]
            rest = rest[r.upperBound...]
            guard let first = head.first, first != " " && first != "\t" else { continue }
            guard let close = rest.firstIndex(of: ")") else { return nil }
            let after = rest[rest.index(after: close)...].drop { $0.isWhitespace }
            guard after.first == "{" else { continue }
            return balanced(after)
        }
        return nil
    }

    /// From an opening brace to its matching close, inclusive.
    static func balanced(_ text: Substring) -> Substring {
        var depth = 0
        for i in text.indices {
            if text[i] == "{" { depth += 1 }
            if text[i] == "}" { depth -= 1; if depth == 0 { return text[...i] } }
        }
        return text
    }
}
