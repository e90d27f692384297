import ClangKit
import Foundation
import KernelModel
import KPolicyFiles
import PatchInput
import Parse
import Analysis
import Filter
import Extract

/// Runs rules on a standalone corpus file or snippet: parsed over
/// Corpus/include/kpolicy-corpus.h instead of a kernel tree, under the
/// path and kernel version the file declares (docs/corpus.md).
public final class CorpusRunner {
    public let engine: RuleEngine
    let index: ClangIndex
    let includeDirectory: URL
    /// Per internal-exposure rule, what a real tree says is internal.
    public var internals: [String: DerivedInternals]

    public init(rules: RuleSet, includeDirectory: URL, internals: [String: DerivedInternals] = [:]) throws {
        engine = RuleEngine(rules: rules)
        index = try ClangIndex()
        self.includeDirectory = includeDirectory
        self.internals = internals
    }

    /// The `// corpus-path:` and `// corpus-kernel:` header of a corpus file.
    public struct Header: Sendable {
        public var path: String
        public var kernel: KernelVersion
    }

    public static func header(of text: String, file: String) throws -> Header {
        var path: String?
        var kernel: KernelVersion?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).prefix(10) {
            let l = line.trimmingCharacters(in: .whitespaces)
            if l.hasPrefix("// corpus-path:") { path = String(l.dropFirst("// corpus-path:".count)).trimmingCharacters(in: .whitespaces) }
            if l.hasPrefix("// corpus-kernel:") {
                kernel = KernelVersion(string: String(l.dropFirst("// corpus-kernel:".count)).trimmingCharacters(in: .whitespaces))
            }
        }
        guard let path else { throw KPolicyError.badInput(path: file, reason: "no '// corpus-path: <path in the tree>' line in the first 10 lines") }
        guard let kernel else { throw KPolicyError.badInput(path: file, reason: "no '// corpus-kernel: 6.1|6.12' line in the first 10 lines") }
        return Header(path: path, kernel: kernel)
    }

    /// The facts of C `text` pretending to be `path` (for deriving what a
    /// set of cases says is internal).
    public func facts(text: String, path: String, kernel: KernelVersion) throws -> FileFacts {
        let unit = try parse(text, kernel: kernel)
        let interest = engine.rules.headerDeclarationsOfInterest(internals: internals)
        return LargeStack.run {
            FactExtractor(headerDeclarationsOf: interest).facts(of: UnitIndex(unit: unit, source: SourceText(text: text), interest: interest),
                                                               relativePath: path, treeRoot: nil)
        }
    }

    /// `text` parsed over the corpus header, as a scratch file.
    package func parse(_ text: String, kernel: KernelVersion) throws -> TranslationUnit {
        let scratch = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("kpolicy-corpus-\(UUID().uuidString).c")
        let arguments = ["-x", "c", "-std=gnu11", "-nostdinc", "-I", includeDirectory.path,
                         "-DKPOLICY_CORPUS_KERNEL=\(kernel.version * 100 + kernel.patchlevel)",
                         "-Wno-unused-function", "-Wno-unused-variable"]
        return try TranslationUnit(index: index, path: scratch.path, arguments: arguments,
                                   unsavedFiles: [UnsavedFile(path: scratch.path, contents: text)],
                                   options: [.detailedPreprocessingRecord, .keepGoing])
    }

    /// Findings for C `text` pretending to be `path` in a tree of `kernel`.
    /// Also returns the error diagnostics of the file, which make a corpus invalid.
    public func run(text: String, path: String, kernel: KernelVersion) throws -> (findings: [Finding], errors: [String]) {
        let unit = try parse(text, kernel: kernel)
        let errors = unit.diagnostics.filter { $0.severity >= .error }.map { "\($0.location.line):\($0.location.column): \($0.message)" }
        let interest = engine.rules.headerDeclarationsOfInterest(internals: internals)
        let extractor = FactExtractor(headerDeclarationsOf: interest)
        let wantsPaths = engine.needsPaths(path, version: kernel)
        let (facts, functions) = LargeStack.run { () -> (FileFacts, [FunctionIR]) in
            let index = UnitIndex(unit: unit, source: SourceText(text: text), interest: interest)
            let facts = extractor.facts(of: index, relativePath: path, treeRoot: nil)
            return (facts, wantsPaths ? IRBuilder().functions(of: index, facts: facts) : [])
        }
        let context = RuleContext(kernelVersion: kernel, arch: path.hasPrefix("arch/") ? String(path.split(separator: "/")[1]) : "x86",
                                  internalFunctions: internals)
        // Inline `kpolicy: ignore` comments apply as in a check run.
        let comments = Suppressions.comments(in: SourceLines.split(Array(text.utf8)))
        let outcome = Suppressions.apply(comments, file: path, to: engine.findings(in: facts, functions: functions, context: context))
        return (outcome.kept + outcome.withoutReason, errors)
    }
}
