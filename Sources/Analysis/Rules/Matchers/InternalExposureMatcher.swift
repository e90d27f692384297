import Foundation
import KernelModel
import KPolicyFiles
import PatchInput
import Extract

public struct InternalExposureMatcher: Sendable {
    /// The file whose static functions are internal (mm/vmalloc.c).
    public var definedIn: String
    /// The internal header whose declarations are internal (mm/internal.h).
    public var internalHeader: String
    /// Names internal whatever the tree says (in case a tree already exposed one).
    public var alsoInternal: [String]
    /// Where using them is fine (mm/**).
    public var allowedIn: [PathGlob]
    /// Headers that make a declaration public (include/**).
    public var publicHeaders: [PathGlob]
}

extension InternalExposureMatcher: RuleMatcher {
    public static let kind = "internal-exposure"
    public static let summary = "for the functions `defined-in` keeps static or declares only in `internal-header` or another header under `allowed-in` (read from the tree being checked, by parsing `defined-in`) plus `also-internal`: an EXPORT_SYMBOL* of one, a declaration with external linkage in `public-headers`, a definition without `static` in `defined-in` (static ones only), a call from outside `allowed-in`. `check` lists what the tree's owners accepted upstream as suppressed (UpstreamState)"
    public static let fields = [
        MatcherField("defined-in", "the file whose static functions are internal"),
        MatcherField("internal-header", "the header whose declarations are internal"),
        MatcherField("also-internal", "names internal whatever the tree says"),
        MatcherField("allowed-in", "globs where using them is fine"),
        MatcherField("public-headers", "globs of headers that make a declaration public"),
    ]

    public init(reading m: FieldReader) throws {
        self.init(definedIn: try m.string("defined-in"), internalHeader: try m.string("internal-header"),
                  alsoInternal: try m.optionalStrings("also-internal"), allowedIn: try m.globs("allowed-in", nonEmpty: true),
                  publicHeaders: try m.globs("public-headers", nonEmpty: true))
    }

    public var matchDescription: String {
        "Functions `\(definedIn)` keeps static or declares only in `\(internalHeader)` (read from the tree), plus \(codeList(alsoInternal)): exported with EXPORT_SYMBOL*, declared in \(codeList(publicHeaders.map(\.pattern))), defined without `static` in `\(definedIn)`, or called from outside \(codeList(allowedIn.map(\.pattern)))."
    }

    public func matches(in file: MatchInput, rule: Rule) -> [Match] {
        matches(in: file.facts, internal: file.context.internalFunctions[rule.id] ?? DerivedInternals())
    }
}

extension InternalExposureMatcher {
    func matches(in facts: FileFacts, internal derived: DerivedInternals) -> [Match] {
        let knowledge = InternalFunctions(derived: derived, matcher: self)
        let names = knowledge.all
        var out: [Match] = []
        // Exported, anywhere.
        for export in facts.exports where names.contains(export.symbol) {
            out.append(Match(position: export.position, function: nil,
                             values: ["subject": export.symbol, "how": "exported with \(export.macro)"], call: nil))
        }
        // Declared with external linkage in a public header.
        for f in facts.functions where names.contains(f.name) && f.storage != .static
            && publicHeaders.contains(where: { $0.matches(f.position.file) }) {
            out.append(Match(position: f.position, function: nil,
                             values: ["subject": f.name, "how": "declared in the public header \(f.position.file)"], call: nil))
        }
        // A static one made non-static where it is defined.
        if facts.path == definedIn {
            for f in facts.functions where f.isDefinition && f.storage != .static && knowledge.mustStayStatic.contains(f.name) {
                out.append(Match(position: f.position, function: f.name,
                                 values: ["subject": f.name, "how": "defined without static in \(definedIn)"], call: nil))
            }
        }
        // Called from outside the subsystem (a file's own static function of the same name is not it).
        if !allowedIn.contains(where: { $0.matches(facts.path) }) {
            let ownStatics = Set(facts.functions.filter { $0.storage == .static && $0.position.file == facts.path }.map(\.name))
            for call in facts.calls where names.contains(call.callee) && !ownStatics.contains(call.callee) {
                var values = call.matchValues
                values["subject"] = call.callee
                values["how"] = "\(call.isReference ? "referenced" : "called") from \(facts.path)"
                out.append(Match(position: call.position, function: call.function, values: values, call: call))
            }
        }
        return out
    }
}

/// The internal set a tree gives, with the hand-named additions.
struct InternalFunctions {
    var all: Set<String>
    /// Internal names not meant to have external linkage at all.
    var mustStayStatic: Set<String>

    init(derived: DerivedInternals, matcher: InternalExposureMatcher) {
        all = derived.staticFunctions.union(derived.internalHeaderDeclarations).union(matcher.alsoInternal)
        mustStayStatic = derived.staticFunctions.union(matcher.alsoInternal).subtracting(derived.internalHeaderDeclarations)
    }
}

/// What a tree says is internal: the defining file's static functions and
/// the internal headers' declarations; and which internal names the tree
/// nevertheless declares in a public header (name → header).
public struct DerivedInternals: Sendable, Codable, Equatable {
    public var staticFunctions: Set<String>
    public var internalHeaderDeclarations: Set<String>
    public var publicDeclarations: [String: String]
    public init(staticFunctions: Set<String> = [], internalHeaderDeclarations: Set<String> = [], publicDeclarations: [String: String] = [:]) {
        self.staticFunctions = staticFunctions
        self.internalHeaderDeclarations = internalHeaderDeclarations
        self.publicDeclarations = publicDeclarations
    }

    enum CodingKeys: String, CodingKey { case staticFunctions, internalHeaderDeclarations, publicDeclarations }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(staticFunctions: try c.decode(Set<String>.self, forKey: .staticFunctions),
                  internalHeaderDeclarations: try c.decode(Set<String>.self, forKey: .internalHeaderDeclarations),
                  publicDeclarations: try c.decodeIfPresent([String: String].self, forKey: .publicDeclarations) ?? [:])
    }
}
