import Foundation

/// A Kbuild Makefile read as text: the one reader behind every question
/// kpolicy asks of the kernel's Makefiles (the options a directory gates
/// its objects on, MakefileGates; the `-I`/`-D` of its ccflags,
/// MakefileIncludes; the header lists of an asm Kbuild, KbuildLists).
/// Make itself is not run: lines are logical lines (a `\` at the end of a
/// line joins the next one, as Make does before anything else) with their
/// `#` comments cut, and an assignment is split at its first `=`.
struct KbuildMakefile {
    /// The logical lines, comments cut.
    let lines: [Substring]

    init(text: String) {
        lines = text.replacingOccurrences(of: "\\\n", with: " ").split(separator: "\n")
            .map { $0.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? "" }
    }

    /// One file; nil when it cannot be read.
    init?(contentsOf file: URL) {
        guard let text = try? String(contentsOf: file, encoding: .utf8) else { return nil }
        self.init(text: text)
    }

    /// A directory's `Makefile` and `Kbuild`, one after the other (Kbuild
    /// reads both); a missing one adds nothing.
    init(directory: URL) {
        var text = ""
        for name in KbuildMakefile.names {
            if let t = try? String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8) { text += t + "\n" }
        }
        self.init(text: text)
    }

    /// The names Kbuild reads in a directory.
    static let names = ["Makefile", "Kbuild"]

    /// How an assignment sets its variable.
    enum Operator {
        /// `=`: set (expanded when used).
        case set
        /// `:=`: set (expanded now).
        case immediate
        /// `+=`: appended, after a space.
        case append
        /// `?=`: set only when not set yet.
        case conditional
    }

    /// One `name op value` line.
    struct Assignment {
        /// The left-hand side, blanks trimmed: a variable, or a Kbuild list
        /// such as `obj-$(CONFIG_X)`.
        var name: String
        var op: Operator
        /// What follows the operator, as written.
        var value: Substring
    }

    /// The assignment `line` makes, split at its first `=`; nil when it
    /// has none.
    static func assignment(_ line: Substring) -> Assignment? {
        guard let eq = line.firstIndex(of: "=") else { return nil }
        var lhs = line[..<eq]
        let op: Operator
        switch lhs.last {
        case "+": op = .append
        case ":": op = .immediate
        case "?": op = .conditional
        default: op = .set
        }
        if op != .set { lhs = lhs.dropLast() }
        return Assignment(name: lhs.trimmingCharacters(in: CharacterSet(charactersIn: " \t")), op: op, value: line[line.index(after: eq)...])
    }

    /// Whether `name` is a plain Make variable name: letters, digits and
    /// `_`, and `-` when `dashes` (Kbuild's `foo-objs` lists).
    static func isVariableName(_ name: String, dashes: Bool) -> Bool {
        !name.isEmpty && name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || (dashes && $0 == "-") }
    }

    /// The words of a value, split at blanks.
    static func words(_ value: Substring) -> [String] {
        value.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
    }
}
