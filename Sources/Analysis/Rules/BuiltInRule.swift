import Foundation

/// A rule kpolicy itself defines in code, for findings about kpolicy's own
/// input (suppression comments); reporters list it with the Rules/ ones.
public struct BuiltInRule: Sendable {
    public var id: String
    public var title: String
    public var summary: String
    public var rationale: String
    public var severity: Rule.Severity
    public var confidence: Rule.Confidence
}

extension BuiltInRule {
    /// The built-in rule behind `suppression-without-reason` (not a Rules/
    /// file: it has no matcher; it is a property of the comments; Filter's
    /// Suppressions gives its findings).
    public static let suppressionWithoutReason = BuiltInRule(
        id: "suppression-without-reason", title: "kpolicy: ignore comment without a reason",
        summary: "An inline suppression must say why the finding does not apply, after `--`.",
        rationale: """
            A suppression is a claim that a policy does not apply here. Without the reason, the next reader \
            (a maintainer reviewing the patch, or whoever audits the tree) cannot tell a considered exception \
            from a silenced warning. Write `/* kpolicy: ignore <rule-id> -- why */`.
            """,
        severity: .warning, confidence: .high)
}
