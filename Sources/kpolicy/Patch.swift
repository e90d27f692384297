import ArgumentParser
import Foundation
import KPolicy
import PatchInput

extension KPolicyCommand {
    /// `kpolicy patch`: what a patch or a series introduces.
    struct Patch: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check what patches introduce: unified diffs, git format-patch files or mbox series.",
            discussion: """
                The patches are applied in memory, in order, never to the tree. Reported: findings on \
                lines a patch adds or changes, and findings anywhere in a function it touches that exist \
                after it and not before, each naming its patch; for mail input, maintainers and lists \
                MAINTAINERS wants on Cc. '-' reads standard input (b4 prep --check hands each patch so). \
                When the tree is the top of a git work tree and a patch does not apply to a file, it is \
                applied to the pre-image blob its 'index' line names, if the repository has it. \
                Exit codes: 0 nothing at or above --fail-on, 1 findings, 2 bad input or a hunk that does \
                not apply, 3 a file could not be parsed, 64 bad command line, 70 internal error.
                """)

        @Argument(help: "Patch, mbox or diff files, in order; '-' for standard input.")
        var files: [String]

        @OptionGroup var tree: TreeOptions
        @OptionGroup var reporting: ReportingOptions

        @OptionGroup var engine: EngineOptions

        @OptionGroup var cache: CacheOptions

        func validate() throws {
            guard !files.isEmpty else { throw ValidationError("give at least one patch file, or '-' for standard input") }
        }

        func run() throws {
            let texts = try files.map { (source: $0, bytes: try InputSource.read($0)) }
            // An InputError names its source and line itself: exit 2, one line.
            let patches = try PatchInput.read(texts)
            let ruleSet = try loadRules(engine.rules)
            let workspace = try tree.workspace(cacheRoot: cache.root)
            let run = try makePatchRun(workspace, rules: ruleSet, engine: engine, cache: cache)
            // A tree that is a git work tree: a patch that does not apply to
            // its file is applied to the pre-image blob the patch names
            // (b4 prep --check hands over patches of the checked-out branch).
            if let git = try? Git(directory: workspace.tree.root) {
                run.readPreimage = { id in git.blob(id) }
            }
            run.progress = reporting.progressLine()
            let report = try run.run(patches, jobs: engine.jobs)
            printDebugNotes(run.notes)
            try reporting.finish(report, rules: ruleSet)
        }
    }
}
