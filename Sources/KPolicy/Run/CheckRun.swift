import Foundation

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
        let realRoot = root.resolvingSymlinksInPath().path
        let fm = FileManager.default
        var out: Set<String> = []
        let starts = paths.isEmpty ? [""] : try paths.map { p -> String in
            guard !p.isEmpty else { throw KPolicyError.badInput(path: "\"\"", reason: "an empty path names no file; give a file or directory of the tree") }
            let url = p.hasPrefix("/") ? URL(fileURLWithPath: p) : root.appendingPathComponent(p)
            let standardized = url.standardizedFileURL.path
            guard standardized == root.path || standardized.hasPrefix(root.path + "/") else {
                throw KPolicyError.outsideTree(path: p, tree: root.path)
            }
            guard fm.fileExists(atPath: standardized) else { throw KPolicyError.missingFile(path: p) }
            let real = URL(fileURLWithPath: standardized).resolvingSymlinksInPath().path
            guard real == realRoot || real.hasPrefix(realRoot + "/") else {
                throw KPolicyError.badInput(path: p, reason: "is a symbolic link to \(real), outside the tree \(root.path)")
            }
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
        public var internals: [String: DerivedInternals]
    }

    /// What the rules need to know about the tree beyond one file (the
    /// internal vmalloc set, read from the tree) and the prefilter on every
    /// trigger identifier that follows.
    public func knowledge(archSupport: ArchSupport) throws -> (internals: [String: DerivedInternals], prefilter: Prefilter) {
        var internals: [String: DerivedInternals] = [:]
        if archSupport.unsupportedReason(arch: workspace.defaultArch) == nil {
            internals = try TreeKnowledge.internals(for: engine.rules, parser: try SourceParser(workspace: workspace))
        }
        var triggers: Set<String> = []
        for rule in engine.rules.rules where rule.kernel.contains(workspace.tree.version) {
            triggers.formUnion(rule.triggers)
            if let derived = internals[rule.id] {
                triggers.formUnion(derived.internalHeaderDeclarations)
                triggers.formUnion(derived.staticFunctions)
            }
        }
        return (internals, Prefilter(identifiers: triggers))
    }

    /// Enumerates (only the files of `shard`, when given) and prefilters.
    public func plan(paths: [String], archSupport: ArchSupport, shard: Shard? = nil) throws -> Plan {
        let version = workspace.tree.version
        let root = workspace.tree.root.standardizedFileURL
        let (internals, prefilter) = try knowledge(archSupport: archSupport)
        var files = try sourceFiles(under: paths)
        if let shard { files = files.filter(shard.contains) }
        var plan = Plan(filesScanned: files.count, candidates: [], unreadable: [], internals: internals)
        for file in files where !engine.applicable(to: file, version: version).isEmpty {
            switch SourceFile.read(root.appendingPathComponent(file).path) {
            case .success(let bytes):
                if prefilter.mentionsAny(bytes) { plan.candidates.append(file) }
            case .failure(let reason):
                plan.unreadable.append((file, reason))
            }
        }
        return plan
    }

    public func run(paths: [String], jobs: Int, shard: Shard? = nil) throws -> CheckReport {
        let start = Date()
        let archSupport = ArchSupport()
        let plan = try plan(paths: paths, archSupport: archSupport, shard: shard)
        let context = FileAnalyzer.Context(workspace: workspace, engine: engine, internals: plan.internals, archSupport: archSupport)
        var results = try analyze(plan.candidates.map { AnalysisJob(target: AnalysisTarget(path: $0)) }, context: context, jobs: jobs)
        results += plan.unreadable.map { FileResult(file: $0.file, outcome: .failed($0.reason)) }
        var stats = CheckReport.Stats()
        stats.filesScanned = plan.filesScanned
        stats.candidates = plan.candidates.count
        var report = merge(results, stats: stats, sources: SourceLines(root: workspace.tree.root.standardizedFileURL))
        report.stats.seconds = (Date().timeIntervalSince(start) * 100).rounded() / 100
        return report
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
    public func analyze(_ files: [AnalysisJob], context: FileAnalyzer.Context, jobs: Int) throws -> [FileResult] {
        let queue = WorkQueue(count: files.count)
        let workers = max(1, min(jobs, files.count))
        let progress = self.progress
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            let analyzer: FileAnalyzer
            do { analyzer = try FileAnalyzer(context: context) } catch {
                queue.fail(error)
                return
            }
            while let i = queue.next() {
                let result = analyzer.analyze(files[i].target, overlay: files[i].overlay)
                let done = queue.finish(i, result)
                progress?(done, files.count, files[i].target.path)
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
        for result in results {
            switch result.outcome {
            case .checked(let f, let firstError, _):
                findings += f
                stats.filesParsed += 1
                if let firstError { errored.append(.init(file: result.file, reason: firstError)) }
            case .failed(let reason):
                failures.append(.init(file: result.file, reason: "\(reason)"))
            case .unsupported(let reason):
                unsupported.append(.init(file: result.file, reason: reason))
            }
        }
        stats.parseFailures = failures.count
        stats.unsupported = unsupported.count
        stats.filesWithErrors = errored.count
        let byFile: (CheckReport.FileNote, CheckReport.FileNote) -> Bool = { $0.file < $1.file }
        var report = CheckReport(tree: .init(path: workspace.tree.root.standardizedFileURL.path, kernelVersion: workspace.tree.version),
                                 toolVersion: toolVersion, findings: Finding.onePerPlace(findings),
                                 parseFailures: failures.sorted(by: byFile), unsupported: unsupported.sorted(by: byFile),
                                 filesWithErrors: errored.sorted(by: byFile), stats: stats)
        report.findings = report.findings.map { sources.annotate($0) }
        Suppressions.apply(to: &report, sources: sources, checkedFiles: results.compactMap {
            if case .checked = $0.outcome { return $0.file }
            return nil
        }, rules: engine.rules)
        return report
    }
}

/// The run's work list and results, shared by the workers behind one lock.
final class WorkQueue: @unchecked Sendable {
    private var nextIndex = 0
    private var done = 0
    private var slots: [FileResult?]
    private var error: Error?
    private let lock = NSLock()

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func next() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard error == nil, nextIndex < slots.count else { return nil }
        nextIndex += 1
        return nextIndex - 1
    }

    func finish(_ i: Int, _ result: FileResult) -> Int {
        lock.lock()
        defer { lock.unlock() }
        slots[i] = result
        done += 1
        return done
    }

    func fail(_ e: Error) {
        lock.lock()
        defer { lock.unlock() }
        error = error ?? e
    }

    func results() throws -> [FileResult] {
        lock.lock()
        defer { lock.unlock() }
        if let error { throw error }
        return slots.compactMap { $0 }
    }
}
