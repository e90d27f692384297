import Foundation
import KPolicyFiles
import PatchInput

/// The capabilities an architecture always has, read from its Kconfig.
///
/// `config X86_64`, `config ARM64` and friends `select` the HAVE_* and
/// ARCH_HAS_* options that tell generic headers what the arch provides
/// (ARCH_HAS_PTE_DEVMAP, HAVE_ARCH_WITHIN_STACK_FRAMES, ...). Reading them
/// from the tree keeps the default configuration right for every kernel
/// version without a hand-kept list per version. A `select X if COND` is
/// taken when COND holds under the options known so far (symbols, !, &&,
/// ||, parentheses); the reading repeats until nothing changes.
package enum ArchSelects {
    /// The main config symbols of each arch directory, whose selects count.
    static let archSymbols: [String: Set<String>] = Architecture.all.mapValues(\.kconfigSymbols)

    /// Symbols that mean "built for another arch" (or only for compile
    /// testing) when a file of `arch` is parsed: a `depends on A || B`
    /// alternative naming one is not the one to turn on.
    static func foreignSymbols(arch: String) -> Set<String> {
        let all: Set<String> = Set(archSymbols.values.flatMap { $0 }).union([
            "X86_32", "MIPS", "SPARC", "SPARC32", "SPARC64", "PARISC", "SUPERH", "XTENSA", "ARC", "ALPHA", "M68K",
            "MICROBLAZE", "NIOS2", "OPENRISC", "CSKY", "HEXAGON", "UML", "PPC32", "CPU_BIG_ENDIAN", "COMPILE_TEST",
        ])
        return all.subtracting(archSymbols[arch] ?? [])
    }

    /// (select, condition) pairs of the arch's main config blocks.
    static func selects(tree: KernelTree, arch: String) -> [(String, String?)] {
        selects(root: tree.root, arch: arch) ?? []
    }

    /// The same for the tree at `root`; nil when it has no arch/<arch>/Kconfig.
    package static func selects(root: URL, arch: String) -> [(String, String?)]? {
        guard let text = try? String(contentsOf: root.appendingPathComponent("arch/\(arch)/Kconfig"), encoding: .utf8) else { return nil }
        guard let symbols = archSymbols[arch] else { return [] }
        var result: [(String, String?)] = []
        var inBlock = false
        // Join continued lines; tabs become spaces.
        let joined = text.replacingOccurrences(of: "\\\n", with: " ").replacingOccurrences(of: "\t", with: "    ")
        for raw in joined.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if raw.hasPrefix("config ") || raw.hasPrefix("menuconfig ") {
                let name = raw.split(separator: " ").dropFirst().first.map(String.init) ?? ""
                inBlock = symbols.contains(name)
                continue
            }
            if !raw.hasPrefix(" ") && !line.isEmpty && !line.hasPrefix("#") {
                inBlock = false
            }
            guard inBlock, line.hasPrefix("select ") else { continue }
            let body = line.dropFirst(7).split(separator: "#", maxSplits: 1).first.map(String.init) ?? ""
            let parts = body.components(separatedBy: " if ")
            let symbol = parts[0].trimmingCharacters(in: .whitespaces)
            guard symbol.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else { continue }
            let condition = parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : nil
            if !symbol.isEmpty { result.append((symbol, condition)) }
        }
        return result
    }

    /// The selected symbols whose conditions hold, given `enabled`.
    static func enabled(tree: KernelTree, arch: String, base: Set<String>, disabled: Set<String>) -> Set<String> {
        var on = base
        let pairs = selects(tree: tree, arch: arch)
        var changed = true
        while changed {
            changed = false
            for (symbol, condition) in pairs where !on.contains(symbol) && !disabled.contains(symbol) {
                if condition.map({ evaluate($0, on) }) ?? true {
                    on.insert(symbol)
                    changed = true
                }
            }
        }
        return on.subtracting(base)
    }

    /// Evaluates a Kconfig condition; unknown forms (comparisons, `=m`) are false.
    static func evaluate(_ expression: String, _ on: Set<String>) -> Bool {
        var tokens: [String] = []
        var current = ""
        for c in expression {
            if "()!".contains(c) || c == " " {
                if !current.isEmpty { tokens.append(current); current = "" }
                if c != " " { tokens.append(String(c)) }
            } else if c == "&" || c == "|" {
                if !current.isEmpty, current != "&", current != "|" { tokens.append(current); current = "" }
                current.append(c)
                if current == "&&" || current == "||" { tokens.append(current); current = "" }
            } else {
                if current == "&" || current == "|" { return false }
                current.append(c)
            }
        }
        if !current.isEmpty { tokens.append(current) }
        var i = 0
        func primary() -> Bool? {
            guard i < tokens.count else { return nil }
            let t = tokens[i]
            i += 1
            if t == "!" { return primary().map { !$0 } }
            if t == "(" {
                let v = or()
                guard i < tokens.count, tokens[i] == ")" else { return nil }
                i += 1
                return v
            }
            guard t.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else { return nil }
            return on.contains(t)
        }
        func and() -> Bool? {
            guard var v = primary() else { return nil }
            while i < tokens.count, tokens[i] == "&&" {
                i += 1
                guard let r = primary() else { return nil }
                v = v && r
            }
            return v
        }
        func or() -> Bool? {
            guard var v = and() else { return nil }
            while i < tokens.count, tokens[i] == "||" {
                i += 1
                guard let r = and() else { return nil }
                v = v || r
            }
            return v
        }
        guard let value = or(), i == tokens.count else { return false }
        return value
    }
}
