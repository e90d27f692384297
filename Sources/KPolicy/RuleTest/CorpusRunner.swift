import ClangKit
import Foundation
import KernelModel
import KPolicyFiles
import PatchInput
import Parse
import Analysis
import Filter
import Extract
import PathCheck
import Findings

/// Runs rules on a standalone corpus file or snippet: parsed over
/// Corpus/include/kpolicy-corpus.h instead of a kernel tree, under the
/// path and kernel version the file declares (docs/corpus.md).
public final class CorpusRunner {
    public let engine: RuleEngine
    let index: ClangIndex
    let includeDirectory: URL
    /// Per internal-exposure rule, what a real tree says is internal.
    public var internals: [String: DerivedInternals]
    /// The cases as a tree, per kernel series: each case's text under the
    /// path it claims, read for the functions other cases call
    /// (`TreeFunctions`) and parsed for their summaries.
    public var tree: [String: (functions: TreeFunctions, texts: [String: String])] = [:]
    var summaryIRs: [String: [String: FunctionIR]] = [:]

    /// Takes `cases` as the tree the cases run in (see `tree`).
    public func useAsTree(_ cases: [URL]) throws {
        var texts: [String: [String: String]] = [:]
        for file in cases {
            let text = try String(contentsOf: file, encoding: .utf8)
            guard let header = try? CorpusRunner.header(of: text, file: file.path) else { continue }
            var key = header.path
            var n = 2
            while texts[header.kernel.series]?[key] != nil { key = header.path + "#\(n)"; n += 1 }
            texts[header.kernel.series, default: [:]][key] = text
        }
        tree = texts.mapValues { t in
            (TreeFunctionsReader.read(files: t.keys.sorted()) { t[$0].map { Data($0.utf8) } }, t)
        }
    }

    /// The summaries the case at `path` of `kernel` needs, from the other cases.
    func summaries(for irs: [FunctionIR], path: String, kernel: KernelVersion) -> (ResolvedSummaries?, IRBuilder) {
        guard let t = tree[kernel.series], !t.functions.definitions.isEmpty else { return (nil, IRBuilder()) }
        let builder = IRBuilder(external: t.functions.summarised, wanting: Set(t.functions.pairs.map(\.free)))
        guard !irs.isEmpty else { return (nil, builder) }
        let resolver = SummaryResolver(functions: t.functions) { d in
            let key = kernel.series + "\u{0}" + d.path
            if self.summaryIRs[key] == nil {
                guard let text = t.texts[d.path], let unit = try? self.parse(text, kernel: kernel) else { return nil }
                let claimed = String(d.path.split(separator: "#")[0])
                let wanting = IRBuilder(external: builder.external, wanting: builder.wanting.union(t.functions.definitions.keys))
                let built = LargeStack.run {
                    let index = UnitIndex(unit: unit, source: SourceText(text: text), interest: [])
                    return wanting.build(of: index, facts: FactExtractor().facts(of: index, relativePath: claimed, treeRoot: nil),
                                         only: t.functions.summarised.union(t.functions.pairs.map(\.allocator))).functions
                }
                self.summaryIRs[key] = Dictionary(built.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
            }
            return self.summaryIRs[key]?[d.name]
        }
        let resolved = resolver.resolve(for: irs, path: path, arches: Arch.checked(forPath: path))
        return (resolved.isEmpty ? nil : resolved, builder)
    }

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
        let builder = summaries(for: [], path: path, kernel: kernel).1
        let (facts, functions) = LargeStack.run { () -> (FileFacts, [FunctionIR]) in
            let index = UnitIndex(unit: unit, source: SourceText(text: text), interest: interest)
            let facts = extractor.facts(of: index, relativePath: path, treeRoot: nil)
            return (facts, wantsPaths ? builder.functions(of: index, facts: facts) : [])
        }
        let context = RuleContext(kernelVersion: kernel, arch: path.hasPrefix("arch/") ? String(path.split(separator: "/")[1]) : "x86",
                                  internalFunctions: internals, summaries: summaries(for: functions, path: path, kernel: kernel).0)
        // Inline `kpolicy: ignore` comments apply as in a check run.
        let comments = Suppressions.comments(in: SourceLines.split(Array(text.utf8)))
        let outcome = Suppressions.apply(comments, file: path, to: engine.findings(in: facts, functions: functions, context: context))
        return (outcome.kept + outcome.withoutReason, errors)
    }
}
