import Foundation
import KPolicyFiles
import PatchInput

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
        /// Options it `select`s without a condition: a build with it has them.
        public var selects: [String] = []
        /// `depends on A || (B && C)` lines: the positive symbols of each
        /// alternative (negated ones dropped: they are off by default).
        public var alternatives: [[[String]]] = []
        /// `select X if COND`: (X, COND), taken when COND holds over the
        /// options a file is built under.
        public var conditionalSelects: [(String, String)] = []
    }

    /// A `choice` block: exactly one member is on when the choice is
    /// visible. Kconfig takes its `default`, else the first member.
    public struct Choice: Sendable {
        public var members: [String] = []
        /// Options named positively in the choice's plain `depends on`.
        public var dependsOn: [String] = []
        /// (member, condition) in the order written.
        public var defaults: [(String, String?)] = []
        /// Its whole `depends on` expression (lines joined by `&&`), nil
        /// when it has none.
        public var condition: String?

        /// The member Kconfig turns on: the first `default` whose condition
        /// holds over `on`, else the first member.
        public func defaultMember(_ on: Set<String>) -> String {
            defaults.first { $0.1 == nil || ArchSelects.evaluate($0.1!, on) }?.0 ?? members[0]
        }
    }

    public private(set) var entries: [String: Entry] = [:]
    public private(set) var choices: [Choice] = []
    /// (option, COND) for each bool/tristate `default y if COND` (or `m`)
    /// whose COND names no negation or comparison: REGMAP is
    /// `default y if (REGMAP_I2C || REGMAP_SPI || ...)`, with no select.
    /// With the options COND names: it can only hold when one is on.
    private(set) var conditionalDefaults: [(option: String, condition: String, names: [String])] = []
    /// The Kconfig files read (relative to the tree), for the cache.
    public private(set) var files: [String] = []
    /// Kconfig files a `source` line (or the top `Kconfig`) named that were
    /// not there, for the cache: the index must be read again when one
    /// appears. Not kept in `serialized()` (only the run that read the
    /// tree stores the index).
    public private(set) var missingFiles: [String] = []

    /// Reads the tree's Kconfig files the way Kconfig does: from the top
    /// `Kconfig`, following `source` lines, with $(SRCARCH) = `arch`.
    public init(tree: KernelTree, arch: String) {
        var seen = Set<String>()
        readFile("Kconfig", enclosing: [], context: (tree.root.path, arch), seen: &seen)
        indexConditionalDefaults()
    }

    init(texts: [String]) {
        var seen = Set<String>()
        texts.forEach { read(Array($0.utf8), enclosing: [], directory: "", context: nil, seen: &seen) }
        indexConditionalDefaults()
    }

    /// Reads one Kconfig file, and each file it `source`s where the
    /// `source` line is, as Kconfig does: an option defined in several
    /// files takes its defaults in that order (arch/Kconfig sources
    /// arch/x86/Kconfig, whose `PGTABLE_LEVELS` defaults then come before
    /// arch/Kconfig's own `default 2`).
    private mutating func readFile(_ relative: String, enclosing: [String], context: (root: String, arch: String),
                                   seen: inout Set<String>) {
        guard seen.insert(relative).inserted else { return }
        guard let data = FileManager.default.contents(atPath: context.root + "/" + relative) else {
            // A result that read this index depends on the file's absence.
            missingFiles.append(relative)
            return
        }
        files.append(relative)
        read([UInt8](data), enclosing: enclosing, directory: (relative as NSString).deletingLastPathComponent,
             context: context, seen: &seen)
    }

    private mutating func indexConditionalDefaults() {
        conditionalDefaults = entries.keys.sorted().flatMap { name -> [(option: String, condition: String, names: [String])] in
            guard let e = entries[name], e.type == "bool" || e.type == "tristate" else { return [] }
            return e.defaults.compactMap { value, condition in
                guard value == "y" || value == "m", let condition,
                      !condition.contains("!"), !condition.contains("=") else { return nil }
                let names = condition.split { !($0.isLetter || $0.isNumber || $0 == "_") }.map(String.init)
                return names.isEmpty ? nil : (name, condition, names)
            }
        }
    }

    /// Reads one file's bytes line by line; only the lines that matter are
    /// turned into strings (6.12 has 1,800 Kconfig files, 6.7 MB). A
    /// `source` line reads its file there (with `context`; `directory` is
    /// this file's, for `rsource`).
    ///
    /// An option inside `if A && B ... endif` depends on A and B (x86's
    /// PARAVIRT sits in `if HYPERVISOR_GUEST`); `enclosing` are the blocks
    /// around the `source` line that read this file, and each file it
    /// sources gets them with its own.
    private mutating func read(_ bytes: [UInt8], enclosing: [String], directory: String,
                               context: (root: String, arch: String)?, seen: inout Set<String>) {
        var reading = Reading(enclosing: enclosing)
        for line in KconfigIndex.lines(of: bytes) {
            read(line, &reading, directory: directory, context: context, seen: &seen)
        }
    }

    /// Where the reading of one file stands.
    private struct Reading {
        /// The `if` blocks around the `source` line that read the file.
        let enclosing: [String]
        /// The symbols of the `if` blocks open in the file.
        var ifBlocks: [[String]] = []
        /// The option whose attributes the next lines give.
        var current: String?
        /// The `choice` being read.
        var choice: Choice?

        init(enclosing: [String]) { self.enclosing = enclosing }

        /// Every `if` block around the line, the file's and the enclosing ones.
        var blocks: [String] { enclosing + ifBlocks.flatMap { $0 } }
    }

    /// The lines of a Kconfig file that open with a keyword the index reads
    /// (`isInteresting`), continuations joined, tabs made blanks; only
    /// those are turned into strings.
    static func lines(of bytes: [UInt8]) -> [String] {
        var lines: [String] = []
        var lineStart = 0
        var pending = ""
        for i in 0...bytes.count {
            guard i == bytes.count || bytes[i] == 0x0a else { continue }
            var first = lineStart
            while first < i, bytes[first] == 0x20 || bytes[first] == 0x09 { first += 1 }
            let continued = i > lineStart && bytes[i - 1] == 0x5c // backslash
            if first < i, !pending.isEmpty || KconfigIndex.isInteresting(bytes, at: first) {
                let end = continued ? i - 1 : i
                pending += String(decoding: bytes[first..<end], as: UTF8.self) + " "
            }
            if !continued, !pending.isEmpty {
                // Tabs inside a line are blanks (x86's `select
                // GUP_GET_PXX_LOW_HIGH\t\tif X86_PAE` is conditional).
                lines.append(pending.replacingOccurrences(of: "\t", with: " ").trimmingCharacters(in: .whitespaces))
                pending = ""
            }
            lineStart = i + 1
        }
        return lines
    }

    /// One line: a new option or choice, the end of one, a choice's own
    /// attribute, a `source`, an `if` block, or an attribute of the
    /// current option.
    private mutating func read(_ line: String, _ reading: inout Reading, directory: String,
                               context: (root: String, arch: String)?, seen: inout Set<String>) {
        if line.hasPrefix("config ") || line.hasPrefix("menuconfig ") {
            startOption(line, &reading)
            return
        }
        if line == "choice" || line.hasPrefix("choice ") {
            // A choice inside `if A ... endif` (here or around the
            // `source` line) depends on A, as its members do: 7.x's
            // module compression choice sits in `if MODULE_COMPRESS`
            // where 6.12's said `depends on MODULE_COMPRESS`.
            var choice = Choice()
            for symbol in reading.blocks where !choice.dependsOn.contains(symbol) { choice.dependsOn.append(symbol) }
            if !choice.dependsOn.isEmpty { choice.condition = choice.dependsOn.joined(separator: " && ") }
            reading.choice = choice
            reading.current = nil
            return
        }
        if line == "endchoice" || line.hasPrefix("endchoice ") {
            if let c = reading.choice, !c.members.isEmpty { choices.append(c) }
            reading.choice = nil
            reading.current = nil
            return
        }
        if reading.current == nil, reading.choice != nil, reading.choice!.members.isEmpty {
            // The choice's own lines, before its first member.
            KconfigIndex.readChoiceAttribute(line, into: &reading.choice!)
            return
        }
        let word = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).first.map(String.init) ?? ""
        if ["source", "rsource", "osource", "orsource"].contains(word) {
            let quoted = line.split(separator: "\"")
            if quoted.count >= 2, let context {
                let expanded = String(quoted[1]).replacingOccurrences(of: "$(SRCARCH)", with: context.arch)
                    .replacingOccurrences(of: "$(HEADER_ARCH)", with: context.arch)
                if !expanded.contains("$"), !expanded.contains("*") {
                    readFile(word.hasPrefix("r") || word.hasPrefix("or") ? directory + "/" + expanded : expanded,
                             enclosing: reading.blocks, context: context, seen: &seen)
                }
            }
            reading.current = nil
            return
        }
        if word == "if" {
            // Only plain conjunctions of positive symbols are kept.
            let expression = line.dropFirst(2)
            reading.ifBlocks.append(expression.contains("|") || expression.contains("!") || expression.contains("=") ? [] :
                expression.split(separator: "&").map { $0.trimmingCharacters(in: .whitespaces) }
                    .filter { !$0.isEmpty && $0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" } })
            reading.current = nil
            return
        }
        if word == "endif" {
            _ = reading.ifBlocks.popLast()
            reading.current = nil
            return
        }
        if ["menu", "endmenu", "choice", "endchoice", "source", "if", "endif", "comment"].contains(word) {
            reading.current = nil
            return
        }
        guard let c = reading.current else { return }
        readAttribute(word, line.dropFirst(word.count).trimmingCharacters(in: .whitespaces), of: c)
    }

    /// `config X` / `menuconfig X`: X depends on the `if` blocks around
    /// it, and is a member of the choice being read.
    private mutating func startOption(_ line: String, _ reading: inout Reading) {
        reading.current = line.split(separator: " ").dropFirst().first.map(String.init)
        guard let c = reading.current else { return }
        if entries[c] == nil { entries[c] = Entry() }
        for symbol in reading.blocks where symbol != c && !entries[c]!.dependsOn.contains(symbol) {
            entries[c]!.dependsOn.append(symbol)
        }
        if reading.choice != nil, !reading.choice!.members.contains(c) { reading.choice!.members.append(c) }
    }

    /// A `default` or `depends on` line of a choice itself.
    private static func readChoiceAttribute(_ line: String, into choice: inout Choice) {
        if line.hasPrefix("default ") {
            let parts = line.dropFirst(8).components(separatedBy: " if ")
            choice.defaults.append((parts[0].trimmingCharacters(in: .whitespaces),
                                    parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : nil))
        } else if line.hasPrefix("depends on ") {
            let expression = String(line.dropFirst(11)).trimmingCharacters(in: .whitespaces)
            choice.condition = choice.condition.map { "(\($0)) && (\(expression))" } ?? expression
            guard !line.contains("||"), !line.contains("!"), !line.contains("=") else { return }
            choice.dependsOn += line.dropFirst(11).split(separator: "&").map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty && $0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" } }
        }
    }

    /// An attribute line of option `c`: its type, a default, a select, a
    /// dependency (`rest` is what follows the keyword `word`).
    private mutating func readAttribute(_ word: String, _ rest: String, of c: String) {
        switch word {
        case "int", "hex", "string", "bool", "tristate":
            if entries[c]?.type == nil { entries[c]?.type = word }
        case "def_bool", "def_tristate":
            if entries[c]?.type == nil { entries[c]?.type = "bool" }
        case "default":
            let parts = rest.components(separatedBy: " if ")
            entries[c]?.defaults.append((parts[0].trimmingCharacters(in: .whitespaces),
                                         parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : nil))
        case "select":
            let parts = rest.components(separatedBy: " if ")
            if let symbol = parts[0].split(whereSeparator: { $0 == " " || $0 == "\t" }).first,
               symbol.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) {
                if parts.count == 1 {
                    entries[c]?.selects.append(String(symbol))
                } else {
                    entries[c]?.conditionalSelects.append((String(symbol), parts.dropFirst().joined(separator: " if ").trimmingCharacters(in: .whitespaces)))
                }
            }
        case "depends":
            guard rest.hasPrefix("on ") else { return }
            let expr = rest.dropFirst(3)
            if expr.contains("||"), !expr.contains("=") {
                entries[c]?.alternatives.append(KconfigIndex.alternatives(of: String(expr)))
                return
            }
            // Otherwise the positive symbols among its top-level `&&`
            // terms count: SNET_VDPA's `PCI_MSI && PCI_IOV && (HWMON ||
            // HWMON=n)` needs PCI_MSI and PCI_IOV.
            for symbol in KconfigIndex.conjuncts(of: String(expr))
            where !symbol.isEmpty && symbol.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) {
                entries[c]?.dependsOn.append(symbol)
            }
        default:
            break
        }
    }

    /// The keywords the index reads, as bytes.
    static let keywords: [[UInt8]] = [
        "config", "menuconfig", "menu", "endmenu", "choice", "endchoice", "if", "endif", "comment",
        "source", "rsource", "osource", "orsource", "int", "hex", "string", "bool", "tristate",
        "def_bool", "def_tristate", "default", "depends", "select",
    ].map { Array($0.utf8) }

    /// Whether the line starting at `i` opens with a keyword the index
    /// reads, followed by a blank or the end of the line (help text is
    /// skipped without making strings of it).
    static func isInteresting(_ b: [UInt8], at i: Int) -> Bool {
        for k in keywords where i + k.count <= b.count {
            var match = true
            for j in 0..<k.count where b[i + j] != k[j] {
                match = false
                break
            }
            guard match else { continue }
            let next = i + k.count
            if next == b.count || b[next] == 0x20 || b[next] == 0x09 || b[next] == 0x0a { return true }
        }
        return false
    }

    /// The value Kconfig gives the value option `name` under `on`: its
    /// first `default` whose condition holds (7.x x86's PGTABLE_LEVELS is
    /// `default 5 if X86_64`, 6.12's `default 5 if X86_5LEVEL`, then `4 if
    /// X86_64`). Nil when none holds or the value is not a literal number.
    public func conditionalValue(of name: String, on: Set<String>) -> String? {
        guard let e = entries[name], e.type == "int" || e.type == "hex",
              let value = e.defaults.first(where: { $0.1 == nil || ArchSelects.evaluate($0.1!, on) })?.0,
              value.allSatisfy({ $0.isHexDigit || $0 == "x" }) else { return nil }
        return value
    }

    /// What the options of `on` select (unconditionally, or under a
    /// condition that holds), transitively, leaving `disabled` off, as
    /// Kconfig forces a selected option on: the default configuration's
    /// TRANSPARENT_HUGEPAGE selects MM_ID, which 7.x's `struct mm_struct`
    /// needs for its `mm_id` member.
    public func selected(by on: Set<String>, disabled: Set<String>) -> [String] {
        var set = on
        var added: [String] = []
        var changed = true
        while changed {
            changed = false
            for name in set.sorted() {
                guard let e = entries[name] else { continue }
                let taken = e.selects + e.conditionalSelects.filter { ArchSelects.evaluate($0.1, set) }.map(\.0)
                for symbol in taken where !set.contains(symbol) && !disabled.contains(symbol) {
                    set.insert(symbol)
                    added.append(symbol)
                    changed = true
                }
            }
        }
        return added
    }

    /// `#define` lines for value options (int, hex, string) with a literal
    /// default, skipping the names in `defined`. The first unconditional
    /// default is taken, else the first one.
    public func valueDefaults(excluding defined: Set<String>) -> [String] {
        entries.keys.sorted().compactMap { name -> String? in
            guard !defined.contains(name), let e = entries[name], let type = e.type,
                  ["int", "hex", "string"].contains(type) else { return nil }
            guard var value = (e.defaults.first { $0.1 == nil } ?? e.defaults.first)?.0 else { return nil }
            // A default naming another value option takes that one's
            // (ARCH_MMAP_RND_BITS defaults to ARCH_MMAP_RND_BITS_MIN).
            var hops = 0
            while hops < 4, value.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }), Int(value) == nil,
                  let other = entries[value], other.type == type,
                  let next = (other.defaults.first { $0.1 == nil } ?? other.defaults.first)?.0 {
                value = next
                hops += 1
            }
            // Kconfig accepts quoted numbers (powerpc: default "0xc0000000").
            if type != "string", value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
            let literal: Bool
            switch type {
            case "string": literal = value.hasPrefix("\"") && value.hasSuffix("\"") && value.count >= 2
            case "hex": literal = value.hasPrefix("0x") && value.dropFirst(2).allSatisfy(\.isHexDigit)
            default: literal = Int(value) != nil
            }
            return literal ? "#define CONFIG_\(name) \(value)" : nil
        }
    }

    /// For an arch kpolicy has no configuration table for: the default
    /// member of every choice visible under `on` that has none of its
    /// members on, with what that member selects, until nothing changes
    /// (parisc's page size, PARISC_PAGE_SIZE_4KB, is a choice).
    public func choiceDefaults(on base: Set<String>, disabled: Set<String>) -> [String] {
        var on = base
        var added: [String] = []
        var changed = true
        while changed {
            changed = false
            for choice in choices where !choice.members.contains(where: on.contains) {
                guard choice.condition.map({ ArchSelects.evaluate($0, on) }) ?? true else { continue }
                let member = choice.defaultMember(on)
                guard !disabled.contains(member) else { continue }
                for symbol in [member] + (entries[member]?.selects ?? []) where !on.contains(symbol) && !disabled.contains(symbol) {
                    on.insert(symbol)
                    added.append(symbol)
                }
                changed = true
            }
        }
        return added
    }

    /// `symbols` and, transitively, what they depend on and select. Of a
    /// `depends on` with alternatives, the first one naming none of
    /// `foreign` (other arches' symbols, COMPILE_TEST) is taken.
    ///
    /// Then, until nothing changes: a `select X if COND` of an option in the
    /// set whose COND holds over the set adds X; a member of a `choice`
    /// adds what the choice depends on; a choice that the set makes
    /// visible (everything its `depends on` names is in the set) and that
    /// has no member in it adds its default member, as Kconfig would
    /// (MODULE_DECOMPRESS needs MODULE_COMPRESS, whose algorithm choice
    /// defaults to GZIP); an option whose `default y if COND` holds over
    /// the set, and whose own dependencies are in it, is added (a driver
    /// that selects REGMAP_I2C gets REGMAP, and with it regmap.h's
    /// `struct regmap_config`). Those follow from the set rather than being
    /// needed by it: `withDefaults: false` leaves them out (an arch's
    /// capabilities are checked against what the options need; x86 has
    /// HAVE_VIRT_CPU_ACCOUNTING_GEN by `default y if 64BIT` although only
    /// other arches select it).
    public func closure(of symbols: [String], foreign: Set<String> = [], withDefaults: Bool = true) -> [String] {
        var seen: [String] = []
        var set = Set<String>()
        var queue = symbols
        while true {
            while let s = queue.popLast() {
                guard set.insert(s).inserted else { continue }
                seen.append(s)
                queue += (entries[s]?.dependsOn ?? []) + (entries[s]?.selects ?? [])
                for choice in entries[s]?.alternatives ?? [] {
                    if let taken = choice.first(where: { !$0.isEmpty && $0.allSatisfy { !foreign.contains($0) } }) { queue += taken }
                }
            }
            for s in seen {
                for (symbol, condition) in entries[s]?.conditionalSelects ?? [] where !set.contains(symbol) && ArchSelects.evaluate(condition, set) {
                    queue.append(symbol)
                }
            }
            for (symbol, condition, names) in conditionalDefaults
            where withDefaults && !set.contains(symbol) && names.contains(where: set.contains) && ArchSelects.evaluate(condition, set) {
                let e = entries[symbol]
                guard (e?.dependsOn ?? []).allSatisfy(set.contains),
                      (e?.alternatives ?? []).allSatisfy({ $0.contains { !$0.isEmpty && $0.allSatisfy(set.contains) } }) else { continue }
                queue.append(symbol)
            }
            for choice in choices {
                if choice.members.contains(where: set.contains) {
                    queue += choice.dependsOn.filter { !set.contains($0) }
                } else if !choice.dependsOn.isEmpty, choice.dependsOn.allSatisfy(set.contains) {
                    queue.append(choice.defaultMember(set))
                }
            }
            if queue.isEmpty { return seen }
        }
    }

    /// "A && B && (C || C=n)" → ["A", "B", "(C || C=n)"]: the terms of
    /// the `&&` outside parentheses, trimmed; nothing when an `||` is
    /// outside parentheses (the expression is then not a conjunction).
    static func conjuncts(of expression: String) -> [String] {
        var terms: [String] = []
        var depth = 0
        var current = ""
        var chars = Array(expression)[...]
        while let c = chars.first {
            chars = chars.dropFirst()
            if c == "(" { depth += 1 } else if c == ")" { depth -= 1 }
            if depth == 0, c == "&" || c == "|", chars.first == c {
                chars = chars.dropFirst()
                if c == "|" { return [] }
                terms.append(current.trimmingCharacters(in: .whitespaces))
                current = ""
                continue
            }
            current.append(c)
        }
        terms.append(current.trimmingCharacters(in: .whitespaces))
        return terms
    }

    /// "(X86 && HYPERVISOR_GUEST) || (ARM64 && !CPU_BIG_ENDIAN)" →
    /// [["X86", "HYPERVISOR_GUEST"], ["ARM64"]]: split at the `||` outside
    /// parentheses; an alternative with a nested `||` is left empty.
    static func alternatives(of expression: String) -> [[String]] {
        var parts: [String] = []
        var depth = 0
        var current = ""
        var chars = Array(expression)
        chars.append(" ")
        var i = 0
        while i < chars.count {
            let ch = chars[i]
            if ch == "(" { depth += 1 } else if ch == ")" { depth -= 1 }
            if depth == 0, ch == "|", i + 1 < chars.count, chars[i + 1] == "|" {
                parts.append(current)
                current = ""
                i += 2
                continue
            }
            current.append(ch)
            i += 1
        }
        parts.append(current)
        return parts.map { part in
            guard !part.contains("||") else { return [] }
            let terms = part.replacingOccurrences(of: "(", with: " ").replacingOccurrences(of: ")", with: " ")
                .components(separatedBy: "&&").map { $0.trimmingCharacters(in: .whitespaces) }
            return terms.filter { !$0.hasPrefix("!") && !$0.isEmpty && $0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" } }
        }
    }
}

/// The form kept in the result cache: one line per option, fields and
/// list items split by control bytes no Kconfig name or value holds.
/// Decoding it costs a tenth of the JSON it replaced (a one-file check read
/// 6.12's x86 index in 0.25 s of CPU from JSON).
extension KconfigIndex {
    static let field: UInt8 = 0x01, item: UInt8 = 0x02, none: UInt8 = 0x03
    /// In the `depends on` alternatives field: between lines, and between
    /// the alternatives of one line (symbols are split by `item`).
    static let line: UInt8 = 0x04, alternative: UInt8 = 0x05
    /// Starts the line of a `choice` (members, depends on, defaults).
    static let choiceLine: UInt8 = 0x06

    public func serialized() -> Data {
        var out: [UInt8] = []
        out.reserveCapacity(entries.count * 48)
        func list(_ values: [String?]) {
            for (i, v) in values.enumerated() {
                if i > 0 { out.append(KconfigIndex.item) }
                if let v { out.append(contentsOf: v.utf8) } else { out.append(KconfigIndex.none) }
            }
        }
        /// Lists separated by `field`.
        func fields(_ lists: [[String?]]) {
            for (i, l) in lists.enumerated() {
                if i > 0 { out.append(KconfigIndex.field) }
                list(l)
            }
        }
        list(files)
        out.append(0x0a)
        for (name, e) in entries.sorted(by: { $0.key < $1.key }) {
            out.append(contentsOf: name.utf8)
            out.append(KconfigIndex.field)
            fields([[e.type], e.dependsOn, e.defaults.map(\.0), e.defaults.map(\.1), e.selects])
            out.append(KconfigIndex.field)
            for (i, choices) in e.alternatives.enumerated() {
                if i > 0 { out.append(KconfigIndex.line) }
                for (j, symbols) in choices.enumerated() {
                    if j > 0 { out.append(KconfigIndex.alternative) }
                    list(symbols)
                }
            }
            out.append(KconfigIndex.field)
            fields([e.conditionalSelects.map(\.0), e.conditionalSelects.map(\.1)])
            out.append(0x0a)
        }
        for c in choices {
            out.append(KconfigIndex.choiceLine)
            fields([c.members, c.dependsOn, c.defaults.map(\.0), c.defaults.map(\.1), [c.condition]])
            out.append(0x0a)
        }
        return Data(out)
    }

    /// Nil when `data` is not `serialized()`'s form.
    public init?(serialized data: Data) {
        let bytes = [UInt8](data)
        func list(_ slice: ArraySlice<UInt8>) -> [String?] {
            guard !slice.isEmpty else { return [] }
            return slice.split(separator: KconfigIndex.item, omittingEmptySubsequences: false).map {
                $0 == [KconfigIndex.none] ? nil : String(decoding: $0, as: UTF8.self)
            }
        }
        let lines = bytes.split(separator: 0x0a, omittingEmptySubsequences: false)
        guard let first = lines.first, lines.last?.isEmpty == true else { return nil }
        files = list(first).compactMap { $0 }
        for line in lines.dropFirst().dropLast() {
            if line.first == KconfigIndex.choiceLine {
                let f = line.dropFirst().split(separator: KconfigIndex.field, omittingEmptySubsequences: false)
                guard f.count == 5 else { return nil }
                let values = list(f[2]), conditions = list(f[3])
                guard values.count == conditions.count else { return nil }
                var c = Choice()
                c.members = list(f[0]).compactMap { $0 }
                c.dependsOn = list(f[1]).compactMap { $0 }
                c.defaults = zip(values, conditions).map { ($0.0 ?? "", $0.1) }
                c.condition = list(f[4]).first ?? nil
                guard !c.members.isEmpty else { return nil }
                choices.append(c)
                continue
            }
            let f = line.split(separator: KconfigIndex.field, omittingEmptySubsequences: false)
            guard f.count == 9 else { return nil }
            let values = list(f[3]), conditions = list(f[4])
            guard values.count == conditions.count else { return nil }
            var e = Entry()
            e.type = list(f[1]).first ?? nil
            e.dependsOn = list(f[2]).compactMap { $0 }
            e.defaults = zip(values, conditions).map { ($0.0 ?? "", $0.1) }
            e.selects = list(f[5]).compactMap { $0 }
            e.alternatives = f[6].isEmpty ? [] : f[6].split(separator: KconfigIndex.line, omittingEmptySubsequences: false).map {
                $0.split(separator: KconfigIndex.alternative, omittingEmptySubsequences: false).map { list($0).compactMap { $0 } }
            }
            let selected = list(f[7]), selectConditions = list(f[8])
            guard selected.count == selectConditions.count else { return nil }
            e.conditionalSelects = zip(selected, selectConditions).map { ($0.0 ?? "", $0.1 ?? "") }
            entries[String(decoding: f[0], as: UTF8.self)] = e
        }
        indexConditionalDefaults()
    }
}
