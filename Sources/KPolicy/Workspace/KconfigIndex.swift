import Foundation

/// What the tree's Kconfig files say about each option: its type, its
/// defaults and the options it depends on. Read once per tree.
///
/// Two uses: options that only exist as values (`int`, `hex`, `string`:
/// CONFIG_PCP_BATCH_SCALE_MAX, CONFIG_MODPROBE_PATH, ...) get their Kconfig
/// default in the default configuration, and the options a Makefile gates a
/// file on are switched on, with what they depend on, for that file.
public struct KconfigIndex: Sendable {
    public struct Entry: Sendable {
        public var type: String?
        /// (value, condition) in the order written.
        public var defaults: [(String, String?)] = []
        /// Options named positively in `depends on` lines.
        public var dependsOn: [String] = []
    }

    public private(set) var entries: [String: Entry] = [:]

    /// Reads every Kconfig file of the tree, skipping the other arches'.
    public init(tree: KernelTree, arch: String) {
        let fm = FileManager.default
        guard let walker = fm.enumerator(at: tree.root, includingPropertiesForKeys: nil) else { return }
        let archDir = tree.root.appendingPathComponent("arch").path + "/"
        for case let url as URL in walker {
            let path = url.path
            if path.hasPrefix(archDir), !path.hasPrefix(archDir + arch + "/"), path != archDir + "Kconfig" {
                if url.deletingLastPathComponent().path + "/" == archDir { walker.skipDescendants() }
                continue
            }
            let name = url.lastPathComponent
            guard name.hasPrefix("Kconfig"), let text = try? String(contentsOf: url, encoding: .utf8) else { continue }
            read(text)
        }
    }

    init(texts: [String]) {
        texts.forEach { read($0) }
    }

    private mutating func read(_ text: String) {
        var current: String?
        for raw in text.replacingOccurrences(of: "\\\n", with: " ").split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("config ") || line.hasPrefix("menuconfig ") {
                current = line.split(separator: " ").dropFirst().first.map(String.init)
                if let c = current, entries[c] == nil { entries[c] = Entry() }
                continue
            }
            if line.hasPrefix("menu") || line.hasPrefix("endmenu") || line.hasPrefix("choice") || line.hasPrefix("endchoice")
                || line.hasPrefix("source ") || line.hasPrefix("if ") || line == "endif" || line.hasPrefix("comment ") {
                current = nil
                continue
            }
            guard let c = current else { continue }
            let word = line.split(separator: " ", maxSplits: 1).first.map(String.init) ?? ""
            let rest = line.dropFirst(word.count).trimmingCharacters(in: .whitespaces)
            switch word {
            case "int", "hex", "string", "bool", "tristate":
                if entries[c]?.type == nil { entries[c]?.type = word }
            case "def_bool", "def_tristate":
                if entries[c]?.type == nil { entries[c]?.type = "bool" }
            case "default":
                let parts = rest.components(separatedBy: " if ")
                entries[c]?.defaults.append((parts[0].trimmingCharacters(in: .whitespaces),
                                             parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : nil))
            case "depends":
                guard rest.hasPrefix("on ") else { continue }
                let expr = rest.dropFirst(3)
                // Only plain conjunctions of positive symbols count.
                guard !expr.contains("||"), !expr.contains("!"), !expr.contains("=") else { continue }
                for symbol in expr.split(separator: "&").map({ $0.trimmingCharacters(in: .whitespaces) })
                where !symbol.isEmpty && symbol.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) {
                    entries[c]?.dependsOn.append(symbol)
                }
            default:
                break
            }
        }
    }

    /// `#define` lines for value options (int, hex, string) with a literal
    /// default, skipping the names in `defined`. The first unconditional
    /// default is taken, else the first one.
    public func valueDefaults(excluding defined: Set<String>) -> [String] {
        entries.keys.sorted().compactMap { name -> String? in
            guard !defined.contains(name), let e = entries[name], let type = e.type,
                  ["int", "hex", "string"].contains(type) else { return nil }
            guard let value = (e.defaults.first { $0.1 == nil } ?? e.defaults.first)?.0 else { return nil }
            let literal: Bool
            switch type {
            case "string": literal = value.hasPrefix("\"") && value.hasSuffix("\"") && value.count >= 2
            case "hex": literal = value.hasPrefix("0x") && value.dropFirst(2).allSatisfy(\.isHexDigit)
            default: literal = Int(value) != nil
            }
            return literal ? "#define CONFIG_\(name) \(value)" : nil
        }
    }

    /// `symbols` and, transitively, what they depend on.
    public func closure(of symbols: [String]) -> [String] {
        var seen: [String] = []
        var queue = symbols
        while let s = queue.popLast() {
            guard !seen.contains(s) else { continue }
            seen.append(s)
            queue += entries[s]?.dependsOn ?? []
        }
        return seen
    }
}

/// The options a directory's Makefile builds each object under:
/// `obj-$(CONFIG_CMA) += cma.o`, and one level of composite objects
/// (`obj-$(CONFIG_X) += foo.o` with `foo-y := a.o b.o`).
struct MakefileGates {
    /// object file name ("cma.o") → CONFIG symbols without the prefix.
    var gates: [String: [String]] = [:]

    init(directory: URL) {
        var text = ""
        for name in ["Makefile", "Kbuild"] {
            if let t = try? String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8) { text += t + "\n" }
        }
        var composite: [String: [String]] = [:] // foo.o -> parts
        for raw in text.replacingOccurrences(of: "\\\n", with: " ").split(separator: "\n") {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            guard let op = line.range(of: "+=") ?? line.range(of: ":=") else { continue }
            let lhs = line[..<op.lowerBound].trimmingCharacters(in: .whitespaces)
            let objects = line[op.upperBound...].split(whereSeparator: { $0 == " " || $0 == "\t" })
                .map(String.init).filter { $0.hasSuffix(".o") }
            let symbols = MakefileGates.configSymbols(in: lhs)
            if lhs.hasPrefix("obj-") {
                for o in objects { gates[o, default: []] += symbols }
            } else if let dash = lhs.lastIndex(of: "-") {
                let owner = String(lhs[..<dash]) + ".o"
                for o in objects {
                    composite[o, default: []].append(owner)
                    gates[o, default: []] += symbols
                }
            }
        }
        for (part, owners) in composite {
            for owner in owners { gates[part, default: []] += gates[owner] ?? [] }
        }
    }

    static func configSymbols(in text: String) -> [String] {
        var result: [String] = []
        var rest = Substring(text.replacingOccurrences(of: "${CONFIG_", with: "$(CONFIG_"))
        while let r = rest.range(of: "$(CONFIG_") {
            let after = rest[r.upperBound...]
            let name = after.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
            if !name.isEmpty { result.append(String(name)) }
            rest = after.dropFirst(name.count)
        }
        return result
    }
}
