import ClangKit
import Foundation

/// The result of a `kpolicy check` run.
public struct CheckReport: Sendable {
    public struct Stats: Sendable {
        public var filesScanned = 0
        public var candidates = 0
        public var filesParsed = 0
        public var parseFailures = 0
        /// Parsed files with error diagnostics inside the file itself (their
        /// facts may be incomplete).
        public var filesWithErrors = 0
        public var seconds = 0.0
    }
    public var treePath: String
    public var kernelVersion: KernelVersion
    public var findings: [Finding]
    public var stats: Stats
    /// Files libclang could not parse, with why.
    public var failures: [(file: String, reason: String)]
    /// Files of an arch the installed libclang cannot target at all (clang 14
    /// and LoongArch): not parsed, named, and not counted as failures.
    public var unsupported: [(file: String, reason: String)] = []
    /// Files parsed with errors inside them, with the first error.
    public var erroredFiles: [(file: String, error: String)]
}

/// Runs rules over a tree or some paths of it: enumerate, prefilter on raw
/// bytes, parse candidates in parallel (one libclang index per worker), run
/// the rules on each file's facts.
public final class Checker: @unchecked Sendable {
    public let workspace: Workspace
    public let engine: RuleEngine
    /// Called as files finish: (done, total, file).
    public var progress: (@Sendable (Int, Int, String) -> Void)?

    public init(workspace: Workspace, rules: RuleSet) {
        self.workspace = workspace
        engine = RuleEngine(rules: rules)
    }

    /// Source files under `paths` (relative to the tree root or absolute;
    /// empty means the whole tree), sorted.
    public func sourceFiles(under paths: [String]) throws -> [String] {
        let root = workspace.tree.root.standardizedFileURL
        let fm = FileManager.default
        var out: [String] = []
        let starts = paths.isEmpty ? [""] : try paths.map { p -> String in
            let url = p.hasPrefix("/") ? URL(fileURLWithPath: p) : root.appendingPathComponent(p)
            let standardized = url.standardizedFileURL.path
            guard standardized == root.path || standardized.hasPrefix(root.path + "/") else {
                throw KPolicyError.outsideTree(path: p, tree: root.path)
            }
            guard fm.fileExists(atPath: standardized) else { throw KPolicyError.missingFile(path: p) }
            return standardized == root.path ? "" : String(standardized.dropFirst(root.path.count + 1))
        }
        for start in starts {
            let base = start.isEmpty ? root : root.appendingPathComponent(start)
            var isDirectory: ObjCBool = false
            if fm.fileExists(atPath: base.path, isDirectory: &isDirectory), !isDirectory.boolValue {
                out.append(start)
                continue
            }
            guard let walker = fm.enumerator(at: base, includingPropertiesForKeys: [.isRegularFileKey],
                                             options: [.skipsHiddenFiles]) else { continue }
            for case let url as URL in walker {
                let name = url.lastPathComponent
                guard name.hasSuffix(".c") || name.hasSuffix(".h") else { continue }
                let relative = start.isEmpty ? String(url.path.dropFirst(root.path.count + 1))
                    : start + "/" + String(url.path.dropFirst(base.path.count + 1))
                out.append(relative)
            }
        }
        return Array(Set(out)).sorted()
    }

    public func run(paths: [String], jobs: Int) throws -> CheckReport {
        let start = Date()
        let version = workspace.tree.version
        let root = workspace.tree.root.standardizedFileURL
        let knowledgeParser = try SourceParser(workspace: workspace)
        let internals = try TreeKnowledge.internals(for: engine.rules, parser: knowledgeParser)

        // Which rules could fire where, and on which identifiers.
        var triggers: Set<String> = []
        for rule in engine.rules.rules where rule.kernel.contains(version) {
            triggers.formUnion(rule.triggers)
            if let derived = internals[rule.id] {
                triggers.formUnion(derived.internalHeaderDeclarations)
                triggers.formUnion(derived.staticFunctions)
            }
        }
        let prefilter = Prefilter(identifiers: triggers)
        let files = try sourceFiles(under: paths)
        var stats = CheckReport.Stats()
        stats.filesScanned = files.count
        var candidates: [String] = []
        for file in files where !engine.applicable(to: file, version: version).isEmpty {
            guard let data = FileManager.default.contents(atPath: root.appendingPathComponent(file).path) else { continue }
            if prefilter.mentionsAny(data) { candidates.append(file) }
        }
        stats.candidates = candidates.count

        let headerInterest = engine.rules.headerDeclarationsOfInterest(internals: internals)
        let shared = RunState(candidates: candidates)
        let workers = max(1, min(jobs, candidates.count))
        let workspace = self.workspace
        let engine = self.engine
        let progress = self.progress
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            let parser: SourceParser
            do { parser = try SourceParser(workspace: workspace) } catch {
                shared.withLock { $0.setupError = error }
                return
            }
            let extractor = FactExtractor(headerDeclarationsOf: headerInterest)
            while let file = shared.nextFile() {
                var local: [Finding] = []
                var failure: String?
                var mainError: String?
                do {
                    let parsed = try parser.parse(root.appendingPathComponent(file))
                    mainError = parsed.errors.mainFile.first.map { "\($0.location.line):\($0.location.column): \($0.message)" }
                    let facts = extractor.facts(of: parsed.unit, mainFile: parsed.file, relativePath: file, treeRoot: root)
                    let context = RuleContext(kernelVersion: version, arch: parsed.configuration.arch, internalFunctions: internals)
                    local = engine.findings(in: facts, context: context)
                } catch {
                    failure = "\(error)"
                }
                var unsupportedReason: String?
                if failure != nil, let reason = Checker.unsupportedArch(for: file, tree: workspace.tree, shared: shared) {
                    unsupportedReason = reason
                    failure = nil
                }
                let done = shared.withLock { s -> Int in
                    s.findings += local
                    if let unsupportedReason { s.unsupported.append((file, unsupportedReason)) }
                    else if let failure { s.failures.append((file, failure)) } else { s.parsed += 1 }
                    if let mainError { s.errored.append((file, mainError)) }
                    s.done += 1
                    return s.done
                }
                progress?(done, shared.candidates.count, file)
            }
        }
        let result = shared.withLock { $0 }
        if let setupError = result.setupError { throw setupError }
        let parsedCount = result.parsed
        let findings = result.findings
        let failures = result.failures
        let errored = result.errored
        let unsupported = result.unsupported
        stats.filesParsed = parsedCount
        stats.parseFailures = failures.count
        stats.filesWithErrors = errored.count
        stats.seconds = Date().timeIntervalSince(start)
        // A header's finding is seen from every file that includes it: keep one.
        let unique = Finding.onePerPlace(findings)
        return CheckReport(treePath: root.path, kernelVersion: version, findings: unique, stats: stats,
                           failures: failures.sorted { $0.0 < $1.0 }, unsupported: unsupported.sorted { $0.0 < $1.0 },
                           erroredFiles: errored.sorted { $0.0 < $1.0 })
    }

    /// For a file under arch/<a>/ whose parse failed: why, if libclang cannot
    /// target <a> at all (probed once per arch with an empty file).
    static func unsupportedArch(for file: String, tree: KernelTree, shared: RunState) -> String? {
        let parts = file.split(separator: "/")
        guard parts.count > 2, parts[0] == "arch" else { return nil }
        let arch = String(parts[1])
        if let known = shared.withLock({ $0.archSupport[arch] }) { return known ? nil : reason(arch) }
        var supported = false
        if let index = try? ClangIndex() {
            let probe = "/kpolicy-probe-\(arch).c"
            supported = (try? TranslationUnit(index: index, path: probe, arguments: ["--target=\(Workspace.targetTriple(arch: arch))"],
                                              unsavedFiles: [UnsavedFile(path: probe, contents: "int kpolicy_probe;\n")])) != nil
        }
        shared.withLock { $0.archSupport[arch] = supported }
        return supported ? nil : reason(arch)
    }

    static func reason(_ arch: String) -> String {
        "libclang \(libclangVersion()) cannot target \(arch) (\(Workspace.targetTriple(arch: arch)))"
    }
}

/// What the workers share, behind one lock.
final class RunState: @unchecked Sendable {
    struct Values {
        var next = 0
        var done = 0
        var parsed = 0
        var findings: [Finding] = []
        var failures: [(String, String)] = []
        var errored: [(String, String)] = []
        var unsupported: [(String, String)] = []
        var archSupport: [String: Bool] = [:]
        var setupError: Error?
    }
    let candidates: [String]
    private var values = Values()
    private let lock = NSLock()

    init(candidates: [String]) { self.candidates = candidates }

    func withLock<T>(_ body: (inout Values) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(&values)
    }

    func nextFile() -> String? {
        withLock { v -> String? in
            guard v.next < candidates.count else { return nil }
            v.next += 1
            return candidates[v.next - 1]
        }
    }
}
