import Foundation
import KPolicyFiles
import PatchInput
import Kbuild
import Report
import Analysis
import Findings

/// The tree as its owners left it is not a new violation.
///
/// An internal-exposure rule (`vmalloc-internal-exposed`) reports mm's
/// internals reached from outside mm. When `kpolicy check` audits a tree,
/// some of what it finds is a decision mm itself took upstream: the tree
/// declares the function in a public header (7.x's include/linux/vmalloc.h
/// declares vmap_pages_range()), or the code reaching in is reviewed on the
/// defining file's own mailing list (7.x's kernel/liveupdate/kexec_handover.c,
/// whose MAINTAINERS section carries linux-mm, includes mm/vmalloc.h for
/// __get_vm_area_node()). `check` moves those findings to the suppressed
/// ones, saying why (SARIF: an external suppression), so an audit shows
/// what nobody accepted. `patch` and `diff` do not apply this: a change
/// that adds such a declaration, include or call is still reported, on
/// every tree.
public enum UpstreamState {
    /// `maintainers` is read only when an internal-exposure finding needs it.
    public static func apply(to report: inout CheckReport, rules: RuleSet, tree: TreeFacts, maintainers: () -> Maintainers?) {
        var kept: [Finding] = []
        var ownerLists: [String: Set<String>] = [:]
        var loaded: Maintainers??
        let lazyMaintainers: () -> Maintainers? = {
            if loaded == nil { loaded = .some(maintainers()) }
            return loaded!
        }
        for f in report.findings {
            guard let rule = rules.rules.first(where: { $0.id == f.rule }), let m = rule.match as? InternalExposureMatcher,
                  let why = reason(f, matcher: m, derived: tree.internals[rule.id] ?? DerivedInternals(), maintainers: lazyMaintainers,
                                   ownerLists: &ownerLists[rule.id]) else {
                kept.append(f)
                continue
            }
            var hidden = f
            hidden.suppression = FindingSuppression(kind: .external, justification: "upstream state: " + why)
            report.suppressed.append(hidden)
        }
        guard kept.count < report.findings.count else { return }
        report.findings = kept
        report.suppressed.sort { ($0.position, $0.rule) < ($1.position, $1.rule) }
        report.stats.suppressed = report.suppressed.count
    }

    /// Why `f` is the tree's accepted state, or nil when it is not.
    static func reason(_ f: Finding, matcher m: InternalExposureMatcher, derived: DerivedInternals, maintainers: () -> Maintainers?,
                       ownerLists: inout Set<String>?) -> String? {
        let subject = f.values["subject"] ?? ""
        let file = f.position.file
        if m.publicHeaders.contains(where: { $0.matches(file) }) {
            return "the tree declares \(subject)() in its public header \(file)"
        }
        if let header = derived.publicDeclarations[subject] {
            return "the tree declares \(subject)() in its public header \(header)"
        }
        guard let maintainers = maintainers() else { return nil }
        if ownerLists == nil {
            // The lists that review the defining file, less those every file
            // goes to (THE REST's linux-kernel).
            func lists(_ path: String) -> Set<String> { Set(maintainers.addresses(for: [path]).lists) }
            ownerLists = lists(m.definedIn).subtracting(lists("kpolicy-no-such-directory/no-such-file.c"))
        }
        let shared = Set(maintainers.addresses(for: [file]).lists).intersection(ownerLists ?? [])
        guard let list = shared.sorted().first else { return nil }
        return "\(file) is reviewed on \(list), as \(m.definedIn) is"
    }
}
