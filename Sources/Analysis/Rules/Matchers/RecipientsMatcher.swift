import Foundation
import KernelModel
import KPolicyFiles
import PatchInput

public struct RecipientsMatcher: Sendable {
    /// Require the M: maintainers of the touched files' sections.
    public var maintainers: Bool
    /// Require the L: lists.
    public var lists: Bool
}

extension RecipientsMatcher: RuleMatcher {
    public static let kind = "recipients"
    public static let summary = "patch mails (`kpolicy patch`) touching files in scope whose `To:`/`Cc:` headers and `Cc:` trailers miss the maintainers or lists MAINTAINERS gives for those files; mail headers, not C, so such a rule has no triggers"
    public static let fields = [
        MatcherField("maintainers", "bool, default true: require the `M:` maintainers"),
        MatcherField("lists", "bool, default true: require the `L:` lists"),
    ]

    public init(reading m: FieldReader) throws {
        self.init(maintainers: try m.optionalBool("maintainers") ?? true, lists: try m.optionalBool("lists") ?? true)
        guard maintainers || lists else { throw m.error("lists", "a recipients rule must require maintainers, lists or both") }
    }

    public var matchDescription: String {
        let who = [maintainers ? "the maintainers (`M:`)" : nil, lists ? "the mailing lists (`L:`)" : nil].compactMap { $0 }.joined(separator: " and ")
        return "Patch mails (`kpolicy patch`) touching files in scope whose `To:`/`Cc:` headers and `Cc:` trailers miss \(who) that the tree's MAINTAINERS gives for those files, read as get_maintainer.pl reads it. A plain diff has no recipients: that is said once, not guessed."
    }

    /// Mail headers, not C: RecipientCheck runs these rules over patches.
    public func matches(in file: MatchInput, rule: Rule) -> [Match] { [] }
}
