import Foundation

/// One reported case.
public struct Finding: Sendable {
    public var rule: String
    public var severity: Rule.Severity
    public var position: Position
    /// The function the finding is in, if any.
    public var function: String?
    public var message: String
    public var suggestion: Suggestion?
    /// Values the message and suggestion templates were filled with.
    public var values: [String: String]
    /// 0 for the first finding with this rule, file, function and subject;
    /// 1, 2... for later ones (two frees in one function stay apart).
    public var occurrence = 0

    /// Sorted by place and rule, one finding per rule and place.
    static func onePerPlace(_ findings: [Finding]) -> [Finding] {
        var seen: Set<String> = []
        return findings.sorted { ($0.position, $0.rule) < ($1.position, $1.rule) }.filter {
            seen.insert("\($0.rule):\($0.position.file):\($0.position.line):\($0.position.column)").inserted
        }
    }

    /// What the fingerprint is made of, without the occurrence.
    var identity: String { "\(rule)\u{0}\(position.file)\u{0}\(function ?? "")\u{0}\(values["subject"] ?? "")" }

    /// Stable across unrelated edits: the rule, the file, the function and
    /// the finding's subject, not the line number.
    public var fingerprint: String {
        var key = identity
        if occurrence > 0 { key += "\u{0}\(occurrence)" }
        return String(FNV1a.hash(key), radix: 16, uppercase: false).leftPadded(to: 16)
    }
}

/// A suggested change and whether the reference model has run it.
public struct Suggestion: Sendable {
    public var replacement: String
    public var explanation: String
    /// True only when the replacement was executed in the reference model
    /// and broke no error-severity invariant.
    public var validated: Bool
    /// The model run behind `validated`, nil when none was possible.
    public var validation: ModelValidation?
}

/// The model runs behind a suggestion: the original sequence and the replacement.
public struct ModelValidation: Sendable {
    public var configuration: String
    public var original: [String]
    public var originalViolations: [String]
    public var replacement: [String]
    public var replacementViolations: [String]
}

/// What rules know about the tree beyond one file.
public struct RuleContext: Sendable {
    public var kernelVersion: KernelVersion
    /// The arch a file is built for (from its path), for model validation.
    public var arch: String
    /// Per internal-exposure rule id, what the tree says is internal.
    public var internalFunctions: [String: DerivedInternals]

    public init(kernelVersion: KernelVersion, arch: String = "x86", internalFunctions: [String: DerivedInternals] = [:]) {
        self.kernelVersion = kernelVersion
        self.arch = arch
        self.internalFunctions = internalFunctions
    }
}

enum FNV1a {
    static func hash(_ s: String) -> UInt64 {
        var h: UInt64 = 0xcbf29ce484222325
        for b in s.utf8 {
            h ^= UInt64(b)
            h = h &* 0x100000001b3
        }
        return h
    }
}

extension String {
    func leftPadded(to n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }

    /// `{name}` placeholders replaced by `values[name]`; unknown ones left as written.
    func filled(_ values: [String: String]) -> String {
        var out = ""
        var rest = self[...]
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            out += rest[..<open]
            let key = String(rest[rest.index(after: open)..<close])
            out += values[key] ?? "{\(key)}"
            rest = rest[rest.index(after: close)...]
        }
        return out + rest
    }
}
