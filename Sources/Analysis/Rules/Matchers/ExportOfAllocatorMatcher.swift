import Foundation
import KernelModel
import KPolicyFiles
import PatchInput
import Extract

public struct ExportOfAllocatorMatcher: Sendable {
    /// Functions whose result is executable memory.
    public var allocators: [String]
    /// Mapping functions that return executable memory when given one of `pgprots`.
    public var mappings: [MappingCall]
    public var pgprots: [String]
}

extension ExportOfAllocatorMatcher: RuleMatcher {
    public static let kind = "export-of-allocator"
    public static let summary = "EXPORT_SYMBOL* of a function of the same file that returns what an allocator (or a mapping call given one of `pgprots`) returned, directly, through a local variable, or through another such function"
    public static let fields = [
        MatcherField("allocators", "functions whose result is executable memory"),
        MatcherField("mappings", "list of `{function, prot}` mapping calls"),
        MatcherField("pgprots", "pgprot names that make a mapping executable (each must be one the model knows)"),
    ]

    public init(reading m: FieldReader) throws {
        let pgprots = try m.optionalStrings("pgprots")
        try MappingMatcher.checkPgprots(pgprots, m)
        self.init(allocators: try m.strings("allocators", nonEmpty: true),
                  mappings: try m.list("mappings", nonEmpty: false).map(MappingCall.init(reading:)), pgprots: pgprots)
    }

    public var namesLookedFor: [String] { allocators }

    public var matchDescription: String {
        "EXPORT_SYMBOL* of a function of the same file that returns the result of \(codeList(allocators)), or of a mapping call given one of \(codeList(pgprots)), directly, through a local variable, or through another such function."
    }

    public func matches(in file: MatchInput, rule: Rule) -> [Match] { matches(in: file.facts) }
}

extension ExportOfAllocatorMatcher {
    func matches(in facts: FileFacts) -> [Match] {
        guard !facts.exports.isEmpty else { return [] }
        let allocatorNames = Set(allocators)
        // Functions of the file that return what an executable allocator
        // returned, directly or through another such function: a fixpoint.
        var returning: [String: String] = [:]  // function -> the allocator behind it
        var changed = true
        while changed {
            changed = false
            for call in facts.calls where call.isReturned && !call.isReference {
                guard let function = call.function, returning[function] == nil else { continue }
                var source: String?
                if call.isCall(to: allocatorNames) {
                    source = call.matchedName(in: allocatorNames)
                } else if let pgprot = MappingMatcher.offendingPgprot(call, calls: mappings, pgprots: pgprots) {
                    source = "\(call.baseCallee)(\(pgprot))"
                } else if let inner = returning[call.callee] {
                    source = inner
                }
                if let source {
                    returning[function] = source
                    changed = true
                }
            }
        }
        return facts.exports.compactMap { export in
            guard let source = returning[export.symbol] else { return nil }
            return Match(position: export.position, function: nil,
                         values: ["subject": export.symbol, "allocator": source, "macro": export.macro], call: nil)
        }
    }
}
