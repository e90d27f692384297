import ClangKit
import KernelModel
import Foundation
import KPolicyFiles
import PatchInput
import KPolicyCache
import Kbuild
import Parse
import Analysis
import Extract
import PathCheck

/// Analyses one file: parse it with the workspace's configuration, extract
/// its facts, run the rules. Not thread-safe (it owns a libclang index):
/// give each worker its own.
public final class FileAnalyzer {
    /// What every analyzer of a run shares: the tree, the rules and what
    /// the rules need to know about the tree beyond one file.
    public struct Context: Sendable {
        public var workspace: Workspace
        public var engine: RuleEngine
        public var tree: TreeFacts
        public var archSupport: ArchSupport
        /// Precompiled headers by arch (empty: every file parsed the full way).
        public var precompiled: [String: PrecompiledHeader] = [:]
        /// Where the workers add their files' stage times, when the run records them.
        public var stageClock: StageClock?
        /// IRs of the tree's functions other files call, made once per run.
        public var summaries = SummaryStore()
        /// Where those IRs are kept across runs (`salt`: what else they
        /// depend on), until the defining file or a header it reads changes.
        public var summaryCache: (cache: ResultCache, salt: String)?

        public init(workspace: Workspace, engine: RuleEngine, tree: TreeFacts, archSupport: ArchSupport = ArchSupport(),
                    precompiled: [String: PrecompiledHeader] = [:]) {
            self.workspace = workspace
            self.engine = engine
            self.tree = tree
            self.archSupport = archSupport
            self.precompiled = precompiled
        }
    }

    public let context: Context
    let parser: SourceParser
    static let pathCheckDisabled = ProcessInfo.processInfo.environment["KPOLICY_PATH_CHECK"] == "off"
    let extractor: FactExtractor

    public init(context: Context) throws {
        self.context = context
        parser = try SourceParser(workspace: context.workspace)
        parser.precompiled = context.precompiled
        extractor = FactExtractor(headerDeclarationsOf: context.engine.rules.headerDeclarationsOfInterest(internals: context.tree.internals))
    }

    /// Analyses `target`, reading the files of `overlay` from it instead of
    /// the disk.
    public func analyze(_ target: AnalysisTarget, overlay: SourceOverlay = SourceOverlay()) -> FileResult {
        analysis(target, overlay: overlay).result
    }

    /// `analyze`, with every file the parse read (empty when nothing was parsed).
    public func analyzeRecordingInclusions(_ target: AnalysisTarget, overlay: SourceOverlay = SourceOverlay()) -> (result: FileResult, inclusions: [String]) {
        let a = analysis(target, overlay: overlay)
        return (a.result, a.inclusions)
    }

    /// Everything one analysis produced.
    public struct Analysis {
        public var result: FileResult
        /// Every file the parse read (empty when nothing was parsed).
        public var inclusions: [String] = []
        public var facts: FileFacts?
        /// The precompiled header used, or why the arch's did not fit.
        public var precompiledHeader: String?
        public var precompiledHeaderMisfit: String?
    }

    /// The result cache's key for `target`: `salt` (tool, libclang, rules,
    /// tree knowledge), the path, the file's content and the arguments its
    /// parse gets. The headers it includes are checked by the cache itself.
    /// Nil when the file cannot be identified.
    /// A file parsed with a precompiled header has the same key: the PCH
    /// only makes the parse faster (the fidelity gate checks it does not
    /// change the result).
    public static func cacheKey(for target: AnalysisTarget, context: Context, salt: String, cache: ResultCache) -> String? {
        let url = context.workspace.tree.root.standardizedFileURL.appendingPathComponent(target.path)
        guard let content = cache.identity(of: url.path),
              let configuration = try? context.workspace.configuration(for: url) else { return nil }
        let virtualFiles = configuration.virtualFiles.sorted { $0.key < $1.key }.map { $0.key + "\u{0}" + $0.value }
        return ContentHash.of(([salt, target.path, content, "\(SourceParser.defaultOptions.rawValue)",
                                configuration.arguments.joined(separator: "\u{0}")] + virtualFiles).joined(separator: "\n"))
    }

    /// The summaries the file's functions need: the definitions their calls
    /// reach on each arch the file is checked on, each defining file parsed
    /// once per run (as its own arch; from the overlay when a patch changes it).
    /// CPU seconds spent making summaries on threads other than the
    /// caller's (libclang parses on its own large-stack thread): the
    /// checker's cost, which the IR stage counts.
    final class Spent: @unchecked Sendable { var seconds = 0.0 }

    func summaries(for irs: [FunctionIR], path: String, overlay: SourceOverlay, builder: IRBuilder, spent: Spent = Spent()) -> ResolvedSummaries? {
        let functions = context.tree.functions
        guard !functions.definitions.isEmpty else { return nil }
        let root = context.workspace.tree.root.standardizedFileURL
        let unsaved = Dictionary(uniqueKeysWithValues: overlay.files.map { (root.appendingPathComponent($0.key).path, $0.value) })
        let resolver = SummaryResolver(functions: functions) { d in
            let variant = overlay.files[d.path].map { String(FNV1a.hash($0), radix: 16) } ?? ""
            return self.context.summaries.ir(of: d, variant: variant) {
                let url = root.appendingPathComponent(d.path)
                // Across runs: the defining file's IRs under its content and
                // parse arguments (not for a file a patch changes).
                var key: String?
                if variant.isEmpty, let (cache, salt) = self.context.summaryCache, let content = cache.identity(of: url.path),
                   let configuration = try? self.context.workspace.configuration(for: url) {
                    key = ContentHash.of([salt, "summaries-4", d.path, content, configuration.arguments.joined(separator: "\u{0}"),
                                          builder.external.sorted().joined(separator: ","), builder.wanting.sorted().joined(separator: ",")]
                        .joined(separator: "\n"))
                    if let data = cache.lookup(kind: "summary", key: key!),
                       let known = try? JSONDecoder().decode([String: FunctionIR].self, from: data), known[d.name] != nil {
                        return known
                    }
                }
                guard let parsed = try? self.parser.parse(url, unsaved: unsaved) else { return [:] }
                spent.seconds += parsed.parseCPUSeconds
                let text = overlay.files[d.path]
                let source = text.map { SourceText(text: $0) } ?? SourceText(url: parsed.file) ?? SourceText(text: "")
                let wanting = IRBuilder(maxWork: builder.maxWork, external: builder.external, wanting: builder.wanting.union([d.name]))
                let built = LargeStack.run { () -> [FunctionIR] in
                    let t0 = ThreadCPUTime.now()
                    defer { spent.seconds += ThreadCPUTime.now() - t0 }
                    let index = UnitIndex(unit: parsed.unit, source: source, interest: [], precompiled: parsed.precompiledDeclarations)
                    let facts = self.extractor.facts(of: index, relativePath: d.path, treeRoot: root)
                    // Every function of the file a caller may need, in one parse.
                    return wanting.build(of: index, facts: facts, only: functions.definedNames(in: d.path).union([d.name])).functions
                }
                let irs = Dictionary(built.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
                if let key, let (cache, _) = self.context.summaryCache, let data = try? JSONEncoder().encode(irs) {
                    cache.store(kind: "summary", key: key, dependencies: [url.path] + parsed.inclusions, value: data)
                }
                return irs
            }
        }
        let resolved = resolver.resolve(for: irs, path: path, arches: Arch.checked(forPath: path))
        return resolved.isEmpty ? nil : resolved
    }

    /// What the report lists as not checked: functions over the IR bound,
    /// and calls into other files whose summary could not be made (the
    /// call is then not followed).
    static func unchecked(_ unbuilt: [IRBuilder.Unbuilt], summaries: ResolvedSummaries?) -> [String]? {
        let list = unbuilt.map { "\($0.name):\($0.position.line): IR not built (over \(IRBuilder.defaultMaxWork) statements and expressions)" }
            + (summaries?.missing ?? []).map { "summary of \($0) (calls to it are not followed)" }
        return list.isEmpty ? nil : list
    }

    public func analysis(_ target: AnalysisTarget, overlay: SourceOverlay = SourceOverlay()) -> Analysis {
        let root = context.workspace.tree.root.standardizedFileURL
        let url = root.appendingPathComponent(target.path)
        let text = overlay.files[target.path]
        if text == nil, let kind = SourceFile.irregularKind(atPath: url.path) {
            return Analysis(result: FileResult(file: target.path, outcome: .failed(.notARegularFile(kind))))
        }
        // The functions of this file other files' summaries may ask for
        // (none from a text a patch changes): `lower` offers their IRs,
        // and callers wait for that rather than parse the file again.
        let defined = text == nil ? context.tree.functions.definedNames(in: target.path) : []
        var offering = !defined.isEmpty
        if offering { context.summaries.willOffer(target.path) }
        defer { if offering { context.summaries.settled(target.path) } }
        do {
            let unsaved = Dictionary(uniqueKeysWithValues: overlay.files.map { (root.appendingPathComponent($0.key).path, $0.value) })
            let parsed = try parser.parse(url, unsaved: unsaved)
            let source = text.map { SourceText(text: $0) } ?? SourceText(url: parsed.file) ?? SourceText(text: "")
            var times = StageTimes()
            times.files = 1
            times.parse = parsed.parseCPUSeconds
            let lowered = lower(parsed, source: source, target: target, offering: defined, times: &times)
            if offering { context.summaries.settled(target.path); offering = false }
            let t2 = ThreadCPUTime.now()
            let spent = Spent()
            let summaries = lowered.irs.isEmpty ? nil
                : summaries(for: lowered.irs, path: target.path, overlay: overlay, builder: lowered.builder, spent: spent)
            times.ir += ThreadCPUTime.now() - t2 + spent.seconds
            return checked(parsed, lowered, summaries: summaries, target: target, times: &times)
        } catch let error as KPolicyError {
            return failed(target, error)
        } catch {
            return Analysis(result: FileResult(file: target.path, outcome: .failed(.parse("\(error)"))))
        }
    }

    /// What the fact and IR stages made of one parse.
    struct Lowered {
        var facts: FileFacts
        var irs: [FunctionIR]
        var unbuilt: [IRBuilder.Unbuilt]
        var builder: IRBuilder
        /// Whether the file's functions are run through the path checker.
        var wantsPaths: Bool
    }

    /// The facts and the functions' IRs of a parsed file, from one index of
    /// the unit. A file that defines functions other files' paths run also
    /// builds those (`offering`), as a caller's summaries would, and offers
    /// them to the run (`CheckRun` checks such files first).
    func lower(_ parsed: ParsedFile, source: SourceText, target: AnalysisTarget, offering defined: Set<String>,
               times: inout StageTimes) -> Lowered {
        let root = context.workspace.tree.root.standardizedFileURL
        // KPOLICY_PATH_CHECK=off skips the IR and path stages (same
        // candidates, same parse): the checker's cost is measured
        // against that run (bench/path-check, docs/validation.md).
        let wantsPaths = context.engine.needsPaths(target.path, version: context.workspace.tree.version) && !FileAnalyzer.pathCheckDisabled
        let builder = IRBuilder(external: context.tree.functions.summarised, wanting: Set(context.tree.functions.pairs.map(\.free)))
        let extractor = self.extractor
        let summaries = context.summaries
        var extract = 0.0, ir = 0.0
        let (facts, built) = LargeStack.run { () -> (FileFacts, (functions: [FunctionIR], unbuilt: [IRBuilder.Unbuilt])) in
            let t0 = ThreadCPUTime.now()
            let index = UnitIndex(unit: parsed.unit, source: source, interest: extractor.headerDeclarationsOf,
                                  precompiled: parsed.precompiledDeclarations)
            let facts = extractor.facts(of: index, relativePath: target.path, treeRoot: root)
            let t1 = ThreadCPUTime.now()
            // The offered IRs are lowered once with the file's own.
            let memo = IRBuilder.Memo()
            let built: (functions: [FunctionIR], unbuilt: [IRBuilder.Unbuilt]) = wantsPaths ? builder.build(of: index, facts: facts, memo: memo) : ([], [])
            if !defined.isEmpty {
                let wanting = IRBuilder(maxWork: builder.maxWork, external: builder.external, wanting: builder.wanting.union(defined))
                summaries.offer(wanting.build(of: index, facts: facts, only: defined, memo: memo).functions, of: target.path, names: defined)
            }
            extract = t1 - t0
            ir = ThreadCPUTime.now() - t1
            return (facts, built)
        }
        times.extract = extract
        times.ir = ir
        times.functions = built.functions.count
        return Lowered(facts: facts, irs: built.functions, unbuilt: built.unbuilt, builder: builder, wantsPaths: wantsPaths)
    }

    /// The rules' findings on a lowered file, its result and what it read.
    func checked(_ parsed: ParsedFile, _ lowered: Lowered, summaries: ResolvedSummaries?, target: AnalysisTarget,
                 times: inout StageTimes) -> Analysis {
        let root = context.workspace.tree.root.standardizedFileURL
        let facts = lowered.facts
        let firstError = parsed.errors.mainFile.first.map { "\($0.location.line):\($0.location.column): \($0.message)" }
        let rules = RuleContext(kernelVersion: context.workspace.tree.version, arch: parsed.configuration.arch,
                                internalFunctions: context.tree.internals, capabilities: context.tree.capabilities, summaries: summaries)
        let functions = facts.functions.compactMap { f -> FunctionSpan? in
            guard f.isDefinition, let end = f.endLine, f.position.file == target.path else { return nil }
            return FunctionSpan(name: f.name, startLine: f.position.line, endLine: end)
        }
        let findings = context.engine.findings(in: facts, functions: lowered.irs, context: rules, times: &times)
        times.costliest = [StageTimes.FileCost(file: target.path, seconds: times.ir + times.paths + times.suggestions)]
        context.stageClock?.add(times)
        var result = FileResult(file: target.path, outcome: .checked(findings: findings, firstError: firstError, functions: functions),
                                uncheckedFunctions: FileAnalyzer.unchecked(lowered.unbuilt, summaries: summaries))
        if lowered.wantsPaths {
            let names = Array(Set(facts.calls.map(\.callee) + facts.calls.map(\.spelled) + facts.functions.map(\.name))).sorted()
            result.treeNames = names
            result.treeFootprint = context.tree.functions.footprint(of: names)
        }
        let pchInputs = parsed.precompiledHeader.flatMap { path in context.precompiled.values.first { $0.path == path }?.inputs } ?? []
        return Analysis(result: result,
                        inclusions: parsed.inclusions + (summaries?.files ?? []).map { root.appendingPathComponent($0).path } + pchInputs,
                        facts: facts, precompiledHeader: parsed.precompiledHeader, precompiledHeaderMisfit: parsed.precompiledHeaderMisfit)
    }

    /// A file that could not be parsed or read: unsupported when libclang
    /// cannot target its arch at all.
    func failed(_ target: AnalysisTarget, _ error: KPolicyError) -> Analysis {
        let arch = context.workspace.tree.arch(for: target.path, fallback: context.workspace.defaultArch)
        if let reason = context.archSupport.unsupportedReason(arch: arch) {
            return Analysis(result: FileResult(file: target.path, outcome: .unsupported(reason: reason)))
        }
        switch error {
        case .unreadableFile(_, let why): return Analysis(result: FileResult(file: target.path, outcome: .failed(.unreadable(why))))
        case .parseFailed(_, let why): return Analysis(result: FileResult(file: target.path, outcome: .failed(.parse(why))))
        default: return Analysis(result: FileResult(file: target.path, outcome: .failed(.parse(error.description))))
        }
    }
}

/// Which arches the installed libclang can target, probed once per arch
/// with an empty file and shared by every worker of a run.
public final class ArchSupport: @unchecked Sendable {
    private var known: [String: Bool] = [:]
    private let lock = NSLock()

    public init() {}

    /// Why files of `arch` cannot be checked, if libclang cannot target it
    /// at all; nil otherwise.
    public func unsupportedReason(arch: String) -> String? {
        lock.lock()
        defer { lock.unlock() }
        if known[arch] == nil {
            var supported = false
            if let index = try? ClangIndex() {
                let probe = "/kpolicy-probe-\(arch).c"
                supported = (try? TranslationUnit(index: index, path: probe, arguments: ["--target=\(Workspace.targetTriple(arch: arch))"],
                                                  unsavedFiles: [UnsavedFile(path: probe, contents: "int kpolicy_probe;\n")])) != nil
            }
            known[arch] = supported
        }
        return known[arch]! ? nil : "libclang \(libclangVersion()) cannot target \(arch) (\(Workspace.targetTriple(arch: arch)))"
    }
}
