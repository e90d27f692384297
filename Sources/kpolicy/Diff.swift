import ArgumentParser
import Foundation
import KPolicy
import KPolicyFiles
import PatchInput
import Kbuild
import Analysis
import Report
import Findings

extension KPolicyCommand {
    /// `kpolicy diff`: the repository's own changes, as a patch.
    struct Diff: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the changes of the tree's git repository: staged, unstaged, since a revision, or between two.",
            discussion: """
                kpolicy diff            the work tree against the index (what 'git diff' shows)
                kpolicy diff --cached   the index against HEAD: what 'git commit' would record (the pre-commit hook)
                kpolicy diff REV        the work tree against REV
                kpolicy diff A..B       B against A
                The changed files are read from git (the staged blobs with --cached, not the working \
                files); files the change does not touch are read from the work tree. Nothing is written. \
                Exit codes as for 'kpolicy patch'.
                """)

        @Argument(help: "A revision, or A..B; none for the unstaged changes.")
        var revision: String?

        @Flag(help: "Check the staged changes (the index against HEAD).")
        var cached = false

        @OptionGroup var tree: TreeOptions
        @OptionGroup var reporting: ReportingOptions

        @OptionGroup var engine: EngineOptions

        @OptionGroup var cache: CacheOptions

        func validate() throws {
            if cached, revision?.contains("..") == true { throw ValidationError("--cached takes one revision, not a range") }
        }

        func run() throws {
            let workspace = try tree.workspace(cacheRoot: cache.root)
            let git = try Git(directory: workspace.tree.root)
            // Plumbing, not `git diff`: the porcelain refreshes stat
            // information and rewrites the index when a file is stat-dirty;
            // diff-files, diff-index and diff-tree never write, and ignore
            // the user's diff.* settings. Revisions are resolved to commit
            // ids first, so nothing the user typed reaches git as an option.
            var arguments: [String]
            let options = ["-p", "--no-color", "--no-ext-diff", "--no-textconv", "--src-prefix=a/", "--dst-prefix=b/",
                           "--full-index", "-M", "-U3"]
            let base: String          // where the original of a changed file is read from
            let label: String
            if let revision, let range = revision.range(of: "..") {
                let a = String(revision[..<range.lowerBound]), b = String(revision[range.upperBound...])
                guard let from = git.commit(a.isEmpty ? "HEAD" : a), let to = git.commit(b.isEmpty ? "HEAD" : b) else {
                    throw KPolicyError.badInput(path: revision, reason: "is not a range of two commits of \(git.top.path)")
                }
                arguments = ["diff-tree", "-r"] + options + [from, to]
                base = from + ":"
                label = "changes \(revision)"
            } else if cached {
                if let revision {
                    guard let commit = git.commit(revision) else {
                        throw KPolicyError.badInput(path: revision, reason: "is not a commit of \(git.top.path)")
                    }
                    arguments = ["diff-index", "--cached"] + options + [commit]
                    base = commit + ":"
                } else if let head = git.commit("HEAD") {
                    arguments = ["diff-index", "--cached"] + options + [head]
                    base = head + ":"
                } else {
                    // No commit yet: everything staged is new.
                    arguments = ["diff-index", "--cached"] + options + [try emptyTree(git)]
                    base = ""
                }
                label = "staged changes"
            } else if let revision {
                guard let commit = git.commit(revision) else {
                    throw KPolicyError.badInput(path: revision, reason: "is not a commit of \(git.top.path)")
                }
                arguments = ["diff-index"] + options + [commit]
                base = commit + ":"
                label = "changes since \(revision)"
            } else {
                arguments = ["diff-files"] + options
                base = ":"
                label = "unstaged changes"
            }
            let text = try git.run(arguments)
            let ruleSet = try loadRules(engine.rules)
            guard !text.isEmpty else {
                try reporting.finish(emptyReport(workspace), rules: ruleSet)
                return
            }
            var diff = try parse(text, arguments)
            // A source file git calls binary (a NUL byte in it) has no
            // lines in the diff: its change is asked for again as text
            // (`--text`, only those paths), so it is applied to the blob
            // and checked like any other. What stays binary is named as
            // not checked in the report (PatchRun).
            let binary = diff.files.filter { $0.isBinary && !$0.isGitlink && Self.isSource($0.path) }
            if !binary.isEmpty {
                let paths = Set(binary.flatMap { [$0.oldPath, $0.newPath].compactMap { $0 } }).sorted().map { ":(literal)" + $0 }
                let again = [arguments[0], "--text"] + arguments.dropFirst() + ["--"] + paths
                let textual = try parse(try git.run(again), again)
                diff.files = diff.files.map { file in
                    guard file.isBinary, let text = textual.files.first(where: { $0.path == file.path && !$0.isBinary }) else { return file }
                    return text
                }
            }
            let patch = PatchInput(origin: PatchOrigin(index: 1, total: 1, subject: label, messageID: nil, source: "git diff"),
                                   diff: diff, recipients: .noRecipientInformation)
            let run = try makePatchRun(workspace, rules: ruleSet, engine: engine, cache: cache)
            run.readOriginal = { path in base.isEmpty ? nil : git.blob(base + path) }
            run.progress = reporting.progressLine()
            let report = try run.run([patch], jobs: engine.jobs)
            printDebugNotes(run.notes)
            try reporting.finish(report, rules: ruleSet)
        }

        func parse(_ text: [UInt8], _ arguments: [String]) throws -> UnifiedDiff {
            do { return try UnifiedDiff.parse(bytes: text, source: "git " + arguments.joined(separator: " ")) } catch let e as InputError {
                throw KPolicyError.badInput(path: "git diff", reason: e.description)
            }
        }

        /// A path kpolicy parses as C (the rules' candidates are .c and .h files).
        static func isSource(_ path: String) -> Bool { path.hasSuffix(".c") || path.hasSuffix(".h") }

        func emptyTree(_ git: Git) throws -> String {
            String(decoding: try git.run(["hash-object", "-t", "tree", "/dev/null"]), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }

        func emptyReport(_ workspace: Workspace) -> CheckReport {
            var report = CheckReport(tree: .init(path: workspace.tree.root.standardizedFileURL.path, kernelVersion: workspace.tree.version),
                                     toolVersion: KPolicyVersion.string, findings: [], stats: CheckReport.Stats())
            report.patches = []
            return report
        }
    }
}
