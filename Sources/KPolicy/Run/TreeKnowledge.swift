import ClangKit
import Foundation

/// What rules need to know about the tree beyond the file at hand, read
/// from the tree once per run.
public enum TreeKnowledge {
    /// For each internal-exposure rule: the static functions of its defining
    /// file and the functions its internal header declares that the file
    /// defines, from a libclang parse of the defining file.
    public static func internals(for rules: RuleSet, parser: SourceParser) throws -> [String: DerivedInternals] {
        var out: [String: DerivedInternals] = [:]
        for rule in rules.rules {
            guard case .internalExposure(let m) = rule.match else { continue }
            let file = parser.workspace.tree.root.appendingPathComponent(m.definedIn)
            guard FileManager.default.fileExists(atPath: file.path) else {
                out[rule.id] = DerivedInternals()
                continue
            }
            let parsed = try parser.parse(file)
            out[rule.id] = derive(parsed.unit, internalHeader: m.internalHeader, treeRoot: parser.workspace.tree.root)
        }
        return out
    }

    static func derive(_ unit: TranslationUnit, internalHeader: String, treeRoot: URL) -> DerivedInternals {
        var statics: Set<String> = []
        var definedHere: Set<String> = []
        var declaredInHeader: Set<String> = []
        let header = treeRoot.standardizedFileURL.appendingPathComponent(internalHeader).path
        unit.cursor.visitChildren { cursor, _ in
            guard cursor.kind == .functionDecl else { return .continue }
            if cursor.isInMainFile {
                if cursor.isDefinition {
                    definedHere.insert(cursor.spelling)
                    if cursor.storageClass == .static { statics.insert(cursor.spelling) }
                }
            } else if let file = cursor.location.file, URL(fileURLWithPath: file).standardizedFileURL.path == header {
                declaredInHeader.insert(cursor.spelling)
            }
            return .continue
        }
        return DerivedInternals(staticFunctions: statics, internalHeaderDeclarations: declaredInHeader.intersection(definedHere))
    }
}
