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
