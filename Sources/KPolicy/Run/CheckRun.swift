import ClangKit
import Foundation
import KPolicyFiles
import PatchInput
import KPolicyCache
import Kbuild
import Parse
import Analysis
import Report
import Filter
import PathCheck
import Findings

/// One run of the rules over a tree or some paths of it: enumerate the
/// source files, prefilter their raw bytes on the rules' trigger
/// identifiers, analyse the candidates in parallel (one FileAnalyzer, so
/// one libclang index, per worker) and merge the per-file results.
public final class CheckRun: @unchecked Sendable {
    public let workspace: Workspace
    public let engine: RuleEngine
    public let toolVersion: String
    /// Called as files finish: (done, total, file).
    public var progress: (@Sendable (Int, Int, String) -> Void)?
    /// The result cache (nil: `--no-cache`, or rules without a digest).
    public var cache: ResultCache?
    /// Workers for the prefilter (the number of cores by default).
    public var prefilterJobs = ProcessInfo.processInfo.activeProcessorCount

    public init(workspace: Workspace, rules: RuleSet, toolVersion: String) {
        self.workspace = workspace
        engine = RuleEngine(rules: rules)
        self.toolVersion = toolVersion
    }

    /// Source files (.c, .h) under `paths` (relative to the tree root or
    /// absolute; empty means the whole tree), sorted, relative to the root.
    /// A named path must exist and, symlinks resolved, lie inside the tree.
    public func sourceFiles(under paths: [String]) throws -> [String] {
        let root = workspace.tree.root.standardizedFileURL
        let fm = FileManager.default
        var out: Set<String> = []
        let starts = paths.isEmpty ? [""] : try paths.map { p -> String in
            guard !p.isEmpty else { throw KPolicyError.badInput(path: "\"\"", reason: "an empty path names no file; give a file or directory of the tree") }
            let url = p.hasPrefix("/") ? URL(fileURLWithPath: p) : root.appendingPathComponent(p)
            let standardized = url.standardizedFileURL.path
            guard standardized == root.path || standardized.hasPrefix(root.path + "/") else {
                throw KPolicyError.outsideTree(path: p, tree: root.path)
            }
            guard try SourceFile.exists(standardized, name: p) else { throw KPolicyError.missingFile(path: p) }
            if let escape = workspace.tree.escapeError(standardized, name: p) { throw escape }
            return standardized == root.path ? "" : String(standardized.dropFirst(root.path.count + 1))
        }
        for start in starts {
            let base = start.isEmpty ? root : root.appendingPathComponent(start)
            var isDirectory: ObjCBool = false
            if fm.fileExists(atPath: base.path, isDirectory: &isDirectory), !isDirectory.boolValue {
                out.insert(start)
                continue
            }
            guard let walker = fm.enumerator(at: base, includingPropertiesForKeys: nil, options: [.skipsHiddenFiles]) else { continue }
            for case let url as URL in walker {
                let name = url.lastPathComponent
                guard name.hasSuffix(".c") || name.hasSuffix(".h") else { continue }
                out.insert(start.isEmpty ? String(url.path.dropFirst(root.path.count + 1))
                           : start + "/" + String(url.path.dropFirst(base.path.count + 1)))
            }
        }
        return out.sorted()
    }

    /// What the prefilter decided for the files under some paths.
    public struct Plan: Sendable {
        public var filesScanned: Int
        public var candidates: [String]
        /// Files that could not be read as source at all, with why.
        public var unreadable: [(file: String, reason: FailureReason)]
        public var tree: TreeFacts
    }

    /// What the rules need to know about the tree beyond one file (the
    /// internal vmalloc set, read from the tree) and the prefilter on every
    /// trigger identifier that follows.
    public func knowledge(archSupport: ArchSupport) throws -> (tree: TreeFacts, prefilter: Prefilter) {
        let capabilities = TreeCapabilitiesReader.read(tree: workspace.tree.root, version: workspace.tree.version)
        var internals: [String: DerivedInternals] = [:]
        if archSupport.unsupportedReason(arch: workspace.defaultArch) == nil {
            // The generated-header overlay first: a cache directory that cannot
            // hold it is the run's problem, said once, not every file's.
            _ = try workspace.overlay(arch: workspace.defaultArch)
            internals = try TreeKnowledge.internals(for: engine.rules, parser: try SourceParser(workspace: workspace),
                                                    cache: activeCache, salt: cacheSalt(tree: TreeFacts(capabilities: capabilities)) ?? "")
        }
        let functions = TreeFunctionsReader.read(tree: workspace.tree.root, cache: activeCache)
        var triggers: Set<String> = engine.needsPaths(anywhere: workspace.tree.version) ? functions.names : []
        for rule in engine.rules.rules where rule.kernel.contains(workspace.tree.version) {
            triggers.formUnion(rule.triggers)
            if let derived = internals[rule.id] {
                triggers.formUnion(derived.internalHeaderDeclarations)
                triggers.formUnion(derived.staticFunctions)
            }
        }
        return (TreeFacts(internals: internals, capabilities: capabilities, functions: functions), Prefilter(identifiers: triggers))
    }

    /// Enumerates (only the files of `shard`, when given) and prefilters.
    public func plan(paths: [String], archSupport: ArchSupport, shard: Shard? = nil) throws -> Plan {
        let version = workspace.tree.version
        let root = workspace.tree.root.standardizedFileURL
        let cache = activeCache
        // The identities of the whole tree in one query, for a run over
        // directories; a run of named files asks for the few rows it needs.
        if !CheckRun.namesOnlyFiles(paths, root: root.path) { cache?.load(prefix: root.path) }
        let (tree, prefilter) = try knowledge(archSupport: archSupport)
        var files = try sourceFiles(under: paths)
        if let shard { files = files.filter(shard.contains) }
        var plan = Plan(filesScanned: files.count, candidates: [], unreadable: [], tree: tree)
        let engine = self.engine
        // One verdict per file, on all cores; a file the cache knows by its
        // stat is not read again. Whether a rule applies to the file's path
        // is asked only of files that mention a trigger (the glob matching
        // cost more than the rest of a warm run).
        let verdicts = ParallelMap.run(files, jobs: prefilterJobs) { file -> Result<Bool, FailureReason> in
            let path = root.appendingPathComponent(file).path
            let stat = FileStat.of(path)
            if let cache, let stat, stat.isRegular, let known = cache.mentions(path, stat: stat, prefilter: prefilter.digest) {
                return .success(known && !engine.applicable(to: file, version: version).isEmpty)
            }
            guard !engine.applicable(to: file, version: version).isEmpty else { return .success(false) }
            switch SourceFile.read(path) {
            case .success(let bytes):
                let mentions = prefilter.mentionsAny(bytes)
                if let cache, let stat {
                    cache.recordPrefilter(path, stat: stat, prefilter: prefilter.digest, mentions: mentions, bytes: mentions ? bytes : nil)
                }
                return .success(mentions)
            case .failure(let reason):
                return .failure(reason)
            }
        }
        for (file, verdict) in zip(files, verdicts) {
            switch verdict {
            case .success(let mentions): if mentions { plan.candidates.append(file) }
            case .failure(let reason): plan.unreadable.append((file, reason))
            }
        }
        return plan
    }

    /// Whether candidates are parsed with precompiled headers where they fit.
    public var usePrecompiledHeaders = true
    /// Fewer files of an arch to parse than this: no PCH is built for it.
    /// A build parses the union of the arch's headers (x86 on 6.12: about
    /// 500, as much as 10-20 files parsed the full way) and saves about
    /// 0.2-0.3 s of CPU per file it fits (about half of them), so it pays
    /// from some 40 files; an arch whose union does not parse loses every
    /// round (powerpc on 6.12 lost three).
    public var precompiledHeaderMinimum = 40
    /// What the run did that its report does not say (KPOLICY_DEBUG=1):
    /// PCHs built, reused or not built, headers they dropped, the run record.
    public internal(set) var notes: [String] = []

    /// The cache, when the rules can be identified.
    var activeCache: ResultCache? { engine.rules.digest == nil ? nil : cache }

    /// What every cached result of this run depends on besides its file:
    /// cache format, tool, libclang, rules, the tree knowledge.
    func cacheSalt(tree: TreeFacts) -> String? {
        guard let digest = engine.rules.digest else { return nil }
        return [ResultCache.format, toolVersion, libclangVersionString, digest, tree.digest,
                workspace.tree.version.description].joined(separator: "|")
    }

    /// A run in four stages: the run record's report when the tree is
    /// unchanged; else the plan (enumerate, prefilter), the candidates'
    /// results (from the cache, the rest analysed), and the report (merged,
    /// what the tree's owners accepted upstream hidden, the record kept).
    public func run(paths: [String], jobs: Int, shard: Shard? = nil) throws -> CheckReport {
        let start = Date()
        let record = runRecordKey(paths: paths, shard: shard, start: start)
        if let report = recordedReport(record, start: start) { return report }
        let archSupport = ArchSupport()
        workspace.knowledgeCache = activeCache
        let plan = try plan(paths: paths, archSupport: archSupport, shard: shard)
        let clock = StageTimes.enabled ? StageClock() : nil
        let (results, fromCache) = try results(of: plan, archSupport: archSupport, jobs: jobs, clock: clock)
        var report = treeReport(results, plan: plan, shard: shard)
        if let cache = activeCache {
            report.stats.fromCache = fromCache
            keepRunRecord(report, record: record, in: cache)
        }
        report.stats.seconds = (Date().timeIntervalSince(start) * 100).rounded() / 100
        report.stats.stages = clock?.times
        return report
    }

    /// A run over an unchanged tree: its report, from one row.
    func recordedReport(_ record: (key: String, recent: [String]?)?, start: Date) -> CheckReport? {
        guard let cache = activeCache, let record, let data = cache.lookup(kind: "run", key: record.key),
              var report = try? JSONDecoder().decode(CheckReport.self, from: data) else { return nil }
        report.stats.fromCache = report.stats.candidates
        report.stats.seconds = (Date().timeIntervalSince(start) * 100).rounded() / 100
        cache.flush()
        notes.append("the tree is unchanged since a run with the same paths: its report, from the run record")
        return report
    }

    /// Every candidate's result, in the plan's order (the unreadable files'
    /// failures after them), and how many came from the cache.
    func results(of plan: Plan, archSupport: ArchSupport, jobs: Int, clock: StageClock?) throws -> (results: [FileResult], fromCache: Int) {
        let context = {
            var c = FileAnalyzer.Context(workspace: workspace, engine: engine, tree: plan.tree, archSupport: archSupport)
            c.stageClock = clock
            if let cache = activeCache, let salt = cacheSalt(tree: plan.tree) { c.summaryCache = (cache, salt) }
            return c
        }()
        let candidates = plan.candidates.map { AnalysisTarget(path: $0) }
        // Cache lookups first: a warm run parses nothing and builds no PCH.
        let cached = cachedResults(candidates, context: context)
        var slots = cached.results
        let keys = cached.keys
        let fromCache = slots.compactMap { $0 }.count
        let missing = candidates.indices.filter { slots[$0] == nil }
        var parseContext = context
        if usePrecompiledHeaders {
            parseContext.precompiled = precompiledHeaders(candidates: plan.candidates, toParse: missing.map { plan.candidates[$0] },
                                                          archSupport: archSupport)
        }
        let fresh = try analyze(missing.map { AnalysisJob(target: candidates[$0]) }, context: parseContext, jobs: jobs,
                                cacheKeys: missing.map { keys[$0] }, alreadyDone: fromCache, total: candidates.count)
        for (i, result) in zip(missing, fresh) { slots[i] = result }
        return (slots.compactMap { $0 } + plan.unreadable.map { FileResult(file: $0.file, outcome: .failed($0.reason)) }, fromCache)
    }

    /// Each candidate's cache key and, where its entry is valid, its result
    /// (nil keys and results without a cache).
    func cachedResults(_ candidates: [AnalysisTarget], context: FileAnalyzer.Context) -> (results: [FileResult?], keys: [String?]) {
        guard let cache = activeCache, let salt = cacheSalt(tree: context.tree) else {
            return (Array(repeating: nil, count: candidates.count), Array(repeating: nil, count: candidates.count))
        }
        let looked = ParallelMap.run(candidates, jobs: prefilterJobs) { target -> (String?, FileResult?) in
            guard let key = FileAnalyzer.cacheKey(for: target, context: context, salt: salt, cache: cache) else { return (nil, nil) }
            guard let data = cache.lookup(kind: "file", key: key),
                  let result = try? JSONDecoder().decode(FileResult.self, from: data) else { return (key, nil) }
            // What the tree's functions said of the names it calls must not have changed.
            if let names = result.treeNames, result.treeFootprint != context.tree.functions.footprint(of: names) { return (key, nil) }
            return (key, result)
        }
        return (looked.map(\.1), looked.map(\.0))
    }

    /// The per-file results merged into the run's report; in an audit of
    /// the tree, what its owners accepted upstream is not a new violation.
    func treeReport(_ results: [FileResult], plan: Plan, shard: Shard?) -> CheckReport {
        var stats = CheckReport.Stats()
        stats.filesScanned = plan.filesScanned
        stats.candidates = plan.candidates.count
        var report = merge(results, stats: stats, sources: SourceLines(root: workspace.tree.root.standardizedFileURL))
        UpstreamState.apply(to: &report, rules: engine.rules, tree: plan.tree, maintainers: { try? Maintainers(tree: self.workspace.tree.root) })
        report.shard = shard?.description
        return report
    }

    /// Keeps the run record, unless a file failed (a failure is tried
    /// again), then writes the cache out. Files changed in the two seconds
    /// before the run could change again without their stat changing (git's
    /// "racily clean"): the record depends on their content, hashed when
    /// the run started; more of them than `runRecordRecentLimit` (a fresh
    /// checkout): no record this time.
    func keepRunRecord(_ report: CheckReport, record: (key: String, recent: [String]?)?, in cache: ResultCache) {
        if let record, let recent = record.recent, report.parseFailures.isEmpty, let data = try? JSONEncoder().encode(report) {
            cache.store(kind: "run", key: record.key, dependencies: recent, value: data)
        }
        cache.flush()
        GeneratedHeaders.evict(cacheRoot: workspace.cacheRoot)
    }

    /// One file to analyse and the overlay its parse sees.
    public struct AnalysisJob: Sendable {
        public var target: AnalysisTarget
        public var overlay = SourceOverlay()
        public init(target: AnalysisTarget, overlay: SourceOverlay = SourceOverlay()) {
            self.target = target
            self.overlay = overlay
        }
    }

    /// Analyses `files` on `jobs` workers; results in the order of `files`.
    /// Files without an overlay go through the result cache, when there is
    /// one: a valid entry is the result; a miss is analysed and stored with
    /// the files its parse read.
    public func analyze(_ files: [AnalysisJob], context: FileAnalyzer.Context, jobs: Int) throws -> [FileResult] {
        try analyze(files, context: context, jobs: jobs, cacheKeys: nil, alreadyDone: 0, total: files.count)
    }

    /// With `cacheKeys` (one per file, from `FileAnalyzer.cacheKey`), each
    /// checked result is stored in the cache under its key.
    func analyze(_ files: [AnalysisJob], context: FileAnalyzer.Context, jobs: Int, cacheKeys: [String?]?,
                 alreadyDone: Int, total: Int) throws -> [FileResult] {
        // Files that define functions other files' paths run go first: the
        // IRs built to check them serve as those functions' summaries.
        let defining = context.tree.functions.definingPaths
        let queue = WorkQueue(count: files.count, first: files.indices.filter { defining.contains(files[$0].target.path) })
        let workers = max(1, min(jobs, files.count))
        let progress = self.progress
        let cache = activeCache
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            let analyzer: FileAnalyzer
            do { analyzer = try FileAnalyzer(context: context) } catch {
                queue.fail(error)
                return
            }
            while let i = queue.next() {
                let result: FileResult
                if let cache, let key = cacheKeys?[i], files[i].overlay.files.isEmpty {
                    let (fresh, inclusions) = analyzer.analyzeRecordingInclusions(files[i].target)
                    result = fresh
                    // Only a checked file is kept: a failure is tried again next time.
                    if case .checked = fresh.outcome, !inclusions.isEmpty, let data = try? JSONEncoder().encode(fresh) {
                        cache.store(kind: "file", key: key, dependencies: inclusions, value: data)
                    }
                } else {
                    result = analyzer.analyze(files[i].target, overlay: files[i].overlay)
                }
                let done = queue.finish(i, result)
                progress?(alreadyDone + done, total, files[i].target.path)
            }
        }
        return try queue.results()
    }

    /// Merges per-file results into one report: findings sorted, one per
    /// rule and place (a header's finding is seen from every file that
    /// includes it), failures and errored files named.
    public func merge(_ results: [FileResult], stats: CheckReport.Stats, sources: SourceLines) -> CheckReport {
        var stats = stats
        var findings: [Finding] = []
        var failures: [CheckReport.FileNote] = []
        var unsupported: [CheckReport.FileNote] = []
        var errored: [CheckReport.FileNote] = []
        var unchecked: [CheckReport.FileNote] = []
        for result in results {
            switch result.outcome {
            case .checked(let f, let firstError, _):
                findings += f
                stats.filesParsed += 1
                if let firstError { errored.append(.init(file: result.file, reason: firstError)) }
                for u in result.uncheckedFunctions ?? [] { unchecked.append(.init(file: result.file, reason: u)) }
            case .failed(let reason):
                failures.append(.init(file: result.file, reason: "\(reason)"))
            case .unsupported(let reason):
                unsupported.append(.init(file: result.file, reason: reason))
            }
        }
        stats.parseFailures = failures.count
        stats.unsupported = unsupported.count
        stats.filesWithErrors = errored.count
        stats.functionsUnchecked = unchecked.isEmpty ? nil : unchecked.count
        let byFile: (CheckReport.FileNote, CheckReport.FileNote) -> Bool = { $0.file < $1.file }
        var report = CheckReport(tree: .init(path: workspace.tree.root.standardizedFileURL.path, kernelVersion: workspace.tree.version),
                                 toolVersion: toolVersion, findings: Finding.onePerPlace(findings),
                                 parseFailures: failures.sorted(by: byFile), unsupported: unsupported.sorted(by: byFile),
                                 filesWithErrors: errored.sorted(by: byFile), stats: stats)
        report.uncheckedFunctions = unchecked.isEmpty ? nil : unchecked.sorted { ($0.file, $0.reason) < ($1.file, $1.reason) }
        report.findings = report.findings.map { sources.annotate($0) }
        Suppressions.apply(to: &report, sources: sources, checkedFiles: results.compactMap {
            if case .checked = $0.outcome { return $0.file }
            return nil
        }, rules: engine.rules)
        return report
    }
}
