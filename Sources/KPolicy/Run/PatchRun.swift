import Foundation
import KernelModel
import KPolicyFiles
import PatchInput
import KPolicyCache
import Kbuild
import Analysis
import Report
import Filter
import Parse
import Findings

/// One patch of a series to check: where it comes from, its diff, and who
/// it was sent to.
public struct PatchInput: Sendable {
    public var origin: PatchOrigin
    public var diff: UnifiedDiff
    public var recipients: Recipients
    /// `Cc:` trailers of the commit message (they count as recipients).
    public var ccTrailers: [EmailAddress]

    public init(origin: PatchOrigin, diff: UnifiedDiff, recipients: Recipients, ccTrailers: [EmailAddress] = []) {
        self.origin = origin
        self.diff = diff
        self.recipients = recipients
        self.ccTrailers = ccTrailers
    }

    /// The patches of mail or diff files, in order; the cover letter is
    /// left out. Each file is `-` (standard input) or a path.
    public static func read(_ texts: [(source: String, bytes: [UInt8])]) throws -> [PatchInput] {
        var messages: [(String, PatchMessage)] = []
        for (source, bytes) in texts {
            let mbox = try Mbox.parse(bytes: bytes, source: source)
            let patches = mbox.patches
            guard !patches.isEmpty else {
                throw KPolicyError.badInput(path: source, reason: "holds no patch (no unified diff found)")
            }
            messages += patches.map { (source, $0) }
        }
        return messages.enumerated().map { i, item in
            let (source, m) = item
            let origin = PatchOrigin(index: m.prefix.index ?? (i + 1), total: m.prefix.total ?? messages.count,
                                     subject: m.subject, messageID: m.messageID, source: source)
            return PatchInput(origin: origin, diff: m.diff!, recipients: m.recipients,
                              ccTrailers: m.trailers("Cc").compactMap(\.address))
        }
    }
}

/// Checks what a series of patches introduces: the patches are applied in
/// memory, in order (never to the tree), and each touched source file is
/// analysed before and after its patch. Reported: findings on lines the
/// patch adds or changes, and findings anywhere in a function the patch
/// touches that exist after it and not before (by fingerprint), each
/// attributed to its patch. Mail input is also checked for the maintainers
/// and lists the tree's MAINTAINERS wants on Cc.
public final class PatchRun: @unchecked Sendable {
    public let check: CheckRun
    /// The original text of a path before the series (nil: no such file).
    /// Defaults to the tree's file; `kpolicy diff` reads git objects.
    public var readOriginal: @Sendable (String) throws -> [UInt8]?
    /// A blob of the tree's git repository by id (nil: not there), for a
    /// patch that does not apply to the tree's file: it is then applied to
    /// the pre-image its `index` line names, as `git am -3` does. That is
    /// the case of `b4 prep --check`, which hands over each patch of a
    /// branch whose tip is checked out. Nil: no fallback.
    public var readPreimage: (@Sendable (String) -> [UInt8]?)?
    public var progress: (@Sendable (Int, Int, String) -> Void)? {
        get { check.progress }
        set { check.progress = newValue }
    }

    /// The result cache: the tree knowledge (and the Kconfig index) are
    /// kept there, not derived again for every patch or commit.
    public var cache: ResultCache? {
        get { check.cache }
        set { check.cache = newValue }
    }

    /// Whether files are parsed with precompiled headers where they fit.
    public var usePrecompiledHeaders: Bool {
        get { check.usePrecompiledHeaders }
        set { check.usePrecompiledHeaders = newValue }
    }

    /// What the run did that its report does not say (KPOLICY_DEBUG=1).
    public var notes: [String] { check.notes }

    public init(workspace: Workspace, rules: RuleSet, toolVersion: String) {
        check = CheckRun(workspace: workspace, rules: rules, toolVersion: toolVersion)
        let tree = workspace.tree
        readOriginal = { path in
            // Diff names cannot leave the tree (UnifiedDiff refuses them);
            // a symbolic link of the tree that does is refused here.
            let file = tree.root.standardizedFileURL.appendingPathComponent(path).path
            if let escape = tree.escapeError(file, name: path) { throw escape }
            return try SourceFile.contentsIfPresent(file, name: path).map { [UInt8]($0) }
        }
    }

    /// What one patch did to one file, and the two analyses to compare.
    struct Change {
        var patch: Int
        var oldPath: String?
        var path: String
        var patched: PatchedFile
        /// Lines of the new file the patch added or changed.
        var changedLines: Set<Int>
        /// Those plus the unchanged lines next to a removal: where the patch
        /// touched the file even when it only deleted lines.
        var touchedLines: Set<Int>
        var after: Int?
        var before: Int?
    }

    /// Applies the series in memory, analyses each touched file before and
    /// after its patch, and reports what the patches introduce.
    public func run(_ patches: [PatchInput], jobs: Int) throws -> CheckReport {
        let start = Date()
        check.workspace.knowledgeCache = check.activeCache
        defer { check.activeCache?.flush() }
        var series = SeriesApplication(run: self)
        for (k, patch) in patches.enumerated() { try series.apply(patch, number: k) }
        let results = try analyze(series, jobs: jobs)
        var report = try self.report(patches, series: series, results: results)
        report.stats.seconds = (Date().timeIntervalSince(start) * 100).rounded() / 100
        return report
    }

    /// The series applied so far: the text of every touched path before
    /// and after, what each patch changed, and the analyses to run (one
    /// per distinct file text, shared by patches that leave it alike).
    struct SeriesApplication {
        let run: PatchRun
        let version: KernelVersion
        let archSupport = ArchSupport()
        /// Tree knowledge (a parse of mm/vmalloc.c) only once a touched file
        /// is C: a patch to docs, Kconfig or a Makefile needs none.
        var knowledge: (tree: TreeFacts, prefilter: Prefilter)?
        /// Touched paths: text after the patches so far (nil: deleted).
        var current: [String: [UInt8]?] = [:]
        /// Touched paths: the text the series started from (the tree's file,
        /// a git blob for `kpolicy diff`, or a patch's pre-image blob). The
        /// analyses before a patch parse it, not the work tree's file.
        var originals: [String: [UInt8]] = [:]
        var preimageNotices: [String] = []
        /// Binary changes and gitlinks: named, not checked.
        var skippedNotices: [String] = []
        var failedPaths: Set<String> = []
        var applyFailures: [CheckReport.ApplyFailure] = []
        var changes: [Change] = []
        var jobs: [CheckRun.AnalysisJob] = []
        var jobIndex: [String: Int] = [:]

        init(run: PatchRun) {
            self.run = run
            version = run.check.workspace.tree.version
        }

        mutating func known() throws -> (tree: TreeFacts, prefilter: Prefilter) {
            if let knowledge { return knowledge }
            let k = try run.check.knowledge(archSupport: archSupport)
            knowledge = k
            return k
        }

        func overlay(_ current: [String: [UInt8]?]) -> SourceOverlay {
            var files = originals.mapValues { String(decoding: $0, as: UTF8.self) }
            for (path, bytes) in current {
                files[path] = bytes.map { String(decoding: $0, as: UTF8.self) }
            }
            return SourceOverlay(files: files)
        }

        mutating func original(_ path: String) throws -> [UInt8]? {
            if let known = originals[path] { return known }
            let text = try run.readOriginal(path)
            if let text { originals[path] = text }
            return text
        }

        mutating func job(_ path: String, _ overlay: SourceOverlay) -> Int {
            var key = path
            for (p, t) in overlay.files.sorted(by: { $0.key < $1.key }) { key += "\u{0}\(p)\u{0}\(FNV1a.hash(t))" }
            if let known = jobIndex[key] { return known }
            jobs.append(.init(target: AnalysisTarget(path: path), overlay: overlay))
            jobIndex[key] = jobs.count - 1
            return jobs.count - 1
        }

        mutating func isCandidate(_ path: String, _ texts: [[UInt8]?]) throws -> Bool {
            guard path.hasSuffix(".c") || path.hasSuffix(".h"), !run.check.engine.applicable(to: path, version: version).isEmpty else { return false }
            let prefilter = try known().prefilter
            return texts.contains { $0.map { prefilter.mentionsAny(Data($0)) } ?? false }
        }

        /// The text `file` of `patch` applies to, and the result: the text so
        /// far, else the original, else (as `git am -3`) the pre-image blob
        /// its `index` line names.
        mutating func applyFile(_ file: FileDiff, of patch: PatchInput) throws -> PatchedFile? {
            let source = file.oldPath ?? file.path
            let base: [UInt8]?
            if file.status == .added { base = nil }
            else if let known = current[source] { base = known }
            else { base = try original(source) }
            do {
                if base == nil, file.status != .added {
                    throw InputError.cannotApply(path: source, reason: "the file is not in the tree")
                }
                return try PatchApplier.apply(file, to: base)
            } catch {
                // Not applicable to the tree's file: the pre-image blob, when the repository has it.
                guard file.status != .added, current[source] == nil, let id = file.oldBlob,
                      let blob = run.readPreimage?(id), let applied = try? PatchApplier.apply(file, to: blob) else { throw error }
                originals[source] = blob
                preimageNotices.append("\(patch.origin.label): \(source): applied to blob \(id), the pre-image its index line names (the tree's file differs)")
                return applied
            }
        }

        /// Applies patch number `k` and plans the analyses of the candidate
        /// files it touched, before and after it.
        mutating func apply(_ patch: PatchInput, number k: Int) throws {
            let currentBefore = current
            var applied: [(FileDiff, PatchedFile?)] = []
            for file in patch.diff.files {
                if let why = PatchRun.notAFileToCheck(file) {
                    skippedNotices.append("\(patch.origin.label): \(file.path): \(why)")
                    continue
                }
                let source = file.oldPath ?? file.path
                if failedPaths.contains(source) {
                    applyFailures.append(.init(patch: patch.origin, file: file.path, reason: "skipped: an earlier patch of the series did not apply to this file"))
                    continue
                }
                do {
                    let result = try applyFile(file, of: patch)
                    if let oldPath = file.oldPath, oldPath != file.path, file.status == .renamed { current[oldPath] = .some(nil) }
                    current[file.path] = .some(result?.contents)
                    applied.append((file, result))
                } catch {
                    failedPaths.insert(file.path)
                    var reason = "\(error)"
                    for prefix in [file.path + ": ", source + ": "] where reason.hasPrefix(prefix) { reason = String(reason.dropFirst(prefix.count)) }
                    applyFailures.append(.init(patch: patch.origin, file: file.path, reason: reason))
                }
            }
            // Before this patch: the originals (including those first read
            // just now) under the patches so far.
            let before = overlay(currentBefore)
            let after = overlay(current)
            for (file, result) in applied {
                guard let result else { continue }   // deleted: nothing to report in it
                let oldPath = file.status == .added ? nil : (file.oldPath ?? file.path)
                let beforeText = oldPath.flatMap { p in before.files[p].map { Array($0.utf8) } ?? originals[p] }
                guard try isCandidate(file.path, [result.contents, beforeText]) else { continue }
                var change = Change(patch: k, oldPath: oldPath, path: file.path, patched: result, changedLines: result.changedLines,
                                    touchedLines: result.changedLines.union(PatchRun.removalPoints(result)))
                change.after = job(file.path, after)
                if let oldPath, beforeText != nil { change.before = job(oldPath, before) }
                changes.append(change)
            }
        }
    }

    /// Runs the series' analyses. The last PCH built for the arch (by a tree
    /// run or an earlier patch) while its headers are unchanged, else one
    /// built over the touched files' includes and kept for the next patch
    /// or commit: a pre-commit hook pays for it once. A patched header it
    /// holds, or a patched file that defines a macro before its first
    /// include, sends a file the full way.
    func analyze(_ series: SeriesApplication, jobs: Int) throws -> [FileResult] {
        var context = FileAnalyzer.Context(workspace: check.workspace, engine: check.engine,
                                           tree: series.knowledge?.tree ?? TreeFacts(expectedFor: series.version),
                                           archSupport: series.archSupport)
        if let cache = check.activeCache, let salt = check.cacheSalt(tree: context.tree) { context.summaryCache = (cache, salt) }
        if check.usePrecompiledHeaders, check.activeCache != nil {
            let paths = Array(Set(series.jobs.map(\.target.path))).sorted()
            context.precompiled = check.precompiledHeaders(candidates: paths, toParse: paths, archSupport: series.archSupport, reuseFirst: true)
        }
        return try check.analyze(series.jobs, context: context, jobs: jobs)
    }

    /// The report: for each change, the findings on its changed lines and
    /// the new ones (by fingerprint) in the functions it touched, after
    /// inline suppressions in the patched text, attributed to the patch;
    /// then the recipients of the mails.
    func report(_ patches: [PatchInput], series: SeriesApplication, results: [FileResult]) throws -> CheckReport {
        let version = series.version
        var findings: [Finding] = []
        var suppressed: [Finding] = []
        var unused: [CheckReport.UnusedSuppression] = []
        var failures: [CheckReport.FileNote] = []
        var unsupported: [CheckReport.FileNote] = []
        var errored: [CheckReport.FileNote] = []
        var seen: Set<String> = []
        var stats = CheckReport.Stats()
        stats.filesScanned = Set(patches.flatMap { $0.diff.files.map(\.path) }).count
        stats.candidates = Set(series.changes.map(\.path)).count
        for change in series.changes {
            guard let a = change.after else { continue }
            let result = results[a]
            switch result.outcome {
            case .failed(let reason):
                failures.append(.init(file: change.path, reason: "\(reason) (after \(patches[change.patch].origin.label))"))
                continue
            case .unsupported(let reason):
                unsupported.append(.init(file: change.path, reason: reason))
                continue
            case .checked(_, let firstError, _):
                stats.filesParsed += 1
                if let firstError { errored.append(.init(file: change.path, reason: firstError)) }
            }
            let beforeFingerprints = Set(change.before.map { results[$0].findings.map(\.fingerprint) } ?? [])
            let touchedFunctions = Set(result.functions.filter { f in
                change.touchedLines.contains { $0 >= f.startLine && $0 <= f.endLine }
            }.map(\.name))
            let introduced = result.findings.filter { f in
                guard f.position.file == change.path else { return false }
                if change.changedLines.contains(f.position.line) { return true }
                guard let function = f.function else { return false }
                // A path whose memory kept across calls starts in a state a
                // touched function leaves it in, or that runs a touched
                // helper, is the touched function's doing.
                guard touchedFunctions.contains(function) || !f.stateFrom.isDisjoint(with: touchedFunctions)
                        || !f.functionsOnPath.isDisjoint(with: touchedFunctions) else { return false }
                return !beforeFingerprints.contains(f.fingerprint)
            }
            // Suppression comments and the source lines of the file as patched.
            let sources = SourceLines(root: check.workspace.tree.root.standardizedFileURL)
            sources.provide(change.path, text: change.patched.text)
            let comments = Suppressions.comments(in: sources.lines(of: change.path))
            let outcome = Suppressions.apply(comments, file: change.path, to: introduced)
            let origin = patches[change.patch].origin
            func attributed(_ f: Finding) -> Finding {
                var f = sources.annotate(f)
                f.patch = origin
                return f
            }
            for f in outcome.kept where seen.insert(f.fingerprint + "\u{0}\(f.position.line)").inserted { findings.append(attributed(f)) }
            suppressed += outcome.suppressed.map(attributed)
            findings += outcome.withoutReason.filter { change.changedLines.contains($0.position.line) }.map(attributed)
            unused += outcome.unused.filter { change.changedLines.contains($0.line) }.flatMap { c in
                c.rules.map { CheckReport.UnusedSuppression(file: change.path, line: c.line, rule: $0) }
            }
        }

        stats.parseFailures = failures.count
        stats.unsupported = unsupported.count
        stats.filesWithErrors = errored.count
        stats.suppressed = suppressed.count
        var report = CheckReport(tree: .init(path: check.workspace.tree.root.standardizedFileURL.path, kernelVersion: version),
                                 toolVersion: check.toolVersion, findings: findings, parseFailures: failures,
                                 unsupported: unsupported, filesWithErrors: errored, stats: stats)
        report.suppressed = suppressed
        report.unusedSuppressions = unused
        report.patches = patches.map(\.origin)
        report.applyFailures = series.applyFailures
        let recipients = RecipientCheck(rules: check.engine.rules, version: version, tree: check.workspace.tree.root)
        let (mailFindings, notices) = try recipients.findings(for: patches)
        report.findings += mailFindings
        report.findings.sort { ($0.patch?.index ?? 0, $0.position, $0.rule) < ($1.patch?.index ?? 0, $1.position, $1.rule) }
        report.notices = series.skippedNotices + series.preimageNotices + notices
        return report
    }

    /// Why a file of a diff is not applied and checked, or nil when it is:
    /// a submodule pointer is not a file (a commit that only bumps one
    /// must not be blocked), and a binary change (`GIT binary patch`,
    /// `Binary files ... differ`) carries no lines to apply. Either is
    /// named in the report's notices, never skipped in silence.
    static func notAFileToCheck(_ file: FileDiff) -> String? {
        if file.isGitlink { return "a submodule (gitlink) pointer, not a file: skipped" }
        if file.isBinary { return "a binary change (git's binary diff has no lines to apply): not checked" }
        return nil
    }

    /// Unchanged lines right after (and before) a place where the patch
    /// removed lines: consecutive unchanged new lines whose old lines are
    /// not consecutive.
    static func removalPoints(_ patched: PatchedFile) -> Set<Int> {
        var out: Set<Int> = []
        let unchanged = patched.originalLines.keys.sorted()
        for (a, b) in zip(unchanged, unchanged.dropFirst()) {
            guard let oa = patched.originalLines[a], let ob = patched.originalLines[b] else { continue }
            if ob - oa > b - a { out.insert(a); out.insert(b) }
        }
        return out
    }
}
