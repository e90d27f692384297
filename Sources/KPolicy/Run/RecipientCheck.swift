import Foundation
import Analysis
import Kbuild
import KernelModel
import KPolicyFiles
import PatchInput
import Extract
import Findings

/// Runs the recipients rules over patch mails: for each patch that touches
/// files in a rule's scope, the maintainers and lists MAINTAINERS gives for
/// those files must be among the mail's To/Cc headers or its Cc: trailers.
public struct RecipientCheck {
    public let rules: RuleSet
    let version: KernelVersion
    let tree: URL

    public init(rules: RuleSet, version: KernelVersion, tree: URL) {
        self.rules = rules
        self.version = version
        self.tree = tree
    }

    /// The findings, and what could not be checked (said once each).
    public func findings(for patches: [PatchInput]) throws -> ([Finding], [String]) {
        var findings: [Finding] = []
        var notices: [String] = []
        var maintainers: Maintainers?
        for rule in rules.rules where rule.kernel.contains(version) {
            guard let matcher = rule.match as? RecipientsMatcher else { continue }
            var plainDiffSeen = false
            for patch in patches {
                let paths = patch.diff.files.flatMap { [$0.oldPath, $0.newPath].compactMap { $0 } }
                let guarded = Array(Set(paths.filter(rule.scope.contains))).sorted()
                guard !guarded.isEmpty else { continue }
                guard let sent = patch.recipients.all else {
                    if !plainDiffSeen {
                        notices.append("\(rule.id): \(patch.origin.source) is a plain diff with no To/Cc to check; run scripts/get_maintainer.pl on it before sending")
                        plainDiffSeen = true
                    }
                    continue
                }
                if maintainers == nil {
                    do { maintainers = try Maintainers(tree: tree) } catch {
                        notices.append("\(rule.id): the tree has no readable MAINTAINERS file; recipients not checked")
                        return (findings, notices)
                    }
                }
                let wanted = maintainers!.addresses(for: guarded)
                let present = Set((sent + patch.ccTrailers).map(\.normalizedAddress))
                var missing: [String] = []
                if matcher.maintainers {
                    missing += wanted.maintainers.filter { !present.contains($0.normalizedAddress) }.map(Self.display)
                }
                if matcher.lists {
                    missing += wanted.lists.filter { !present.contains($0.lowercased()) }
                }
                guard !missing.isEmpty else { continue }
                let sections = maintainers!.sections(for: guarded).map(\.section.name)
                var values = ["subject": guarded[0], "files": guarded.joined(separator: ", "), "missing": missing.joined(separator: ", "),
                              "sections": Array(NSOrderedSet(array: sections)).compactMap { $0 as? String }.joined(separator: "; ")]
                let first = patch.diff.files.first { $0.path == guarded[0] || $0.oldPath == guarded[0] }
                let line = first?.hunks.first.map { max(1, $0.newStart) } ?? 1
                var suggestion: Suggestion?
                if let template = rule.suggestion {
                    values["cc"] = missing.map { "Cc: \($0)" }.joined(separator: "\n")
                    let replacement = (template.replacements["*"] ?? "{cc}").filled(values)
                    suggestion = Suggestion(replacement: replacement, explanation: template.explanation.filled(values), validated: false, validation: nil)
                }
                var f = Finding(rule: rule.id, severity: rule.severity, position: Position(file: guarded[0], line: line, column: 1),
                                function: nil, message: rule.message.filled(values), suggestion: suggestion, values: values)
                f.patch = patch.origin
                findings.append(f)
            }
        }
        return (findings, notices)
    }

    static func display(_ a: EmailAddress) -> String {
        a.name.map { "\($0) <\(a.address)>" } ?? a.address
    }
}
