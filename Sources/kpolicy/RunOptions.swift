import ArgumentParser
import Foundation
import KPolicy
import KPolicyFiles
import KPolicyCache
import Kbuild
import Analysis
import Report

/// What every subcommand that runs the rules over a tree takes: the paths,
/// the tree, the parallelism and the rules.
struct RunOptions: ParsableArguments {
    @Argument(help: "Files or directories of the tree (relative to the tree root or absolute); default: the whole tree.")
    var paths: [String] = []

    @OptionGroup var tree: TreeOptions

    @OptionGroup var engine: EngineOptions
    var jobs: Int { engine.jobs }
    var rules: String? { engine.rules }

    @Option(help: "Check only part K of N (1 <= K <= N) of the files, split by a hash of their path; join the reports with 'kpolicy merge'.")
    var shard: String?

    @OptionGroup var cache: CacheOptions

    func validate() throws {
        if let shard, (try? Shard(parsing: shard)) == nil {
            throw ValidationError("--shard must be K/N with 1 <= K <= N, got '\(shard)'")
        }
    }

    /// Runs the rules; returns the report and the rules it ran.
    func check(progress: (@Sendable (Int, Int, String) -> Void)? = nil) throws -> (CheckReport, RuleSet) {
        let ruleSet = try loadRules(rules)
        let run = try makeRun(ruleSet, progress: progress)
        let report = try run.run(paths: paths, jobs: jobs, shard: try shard.map(Shard.init(parsing:)))
        printDebugNotes(run.notes)
        return (report, ruleSet)
    }

    /// The run these options describe, with its cache.
    func makeRun(_ ruleSet: RuleSet, progress: (@Sendable (Int, Int, String) -> Void)?) throws -> CheckRun {
        let workspace = try tree.workspace(cacheRoot: cache.root)
        let run = CheckRun(workspace: workspace, rules: ruleSet, toolVersion: KPolicyVersion.string)
        run.progress = progress
        run.usePrecompiledHeaders = !engine.noPch
        run.cache = try cache.open(for: workspace)
        return run
    }
}

/// Where kpolicy keeps what it derives (generated headers, precompiled
/// headers, the result cache), for every command that reads a tree.
struct CacheOptions: ParsableArguments {
    @Option(help: "Cache directory for generated headers, precompiled headers and results (default: $KPOLICY_CACHE, $XDG_CACHE_HOME/kpolicy or ~/.cache/kpolicy).")
    var cacheDir: String?

    @Flag(help: "Neither read nor write the result cache (every file and the tree knowledge are derived again).")
    var noCache = false

    @Option(help: "Bound of the result cache in MiB; least recently used results go first.")
    var cacheSize: Int = Int(ResultCache.defaultMaxBytes >> 20)

    /// The largest --cache-size, in MiB: what `Int64(cacheSize) << 20` can
    /// hold without wrapping (a wrapped bound emptied the cache).
    static let largestCacheSize = Int(ResultCache.largestMaxBytes >> 20)

    func validate() throws {
        guard (1...Self.largestCacheSize).contains(cacheSize) else {
            throw ValidationError("--cache-size must be between 1 and \(Self.largestCacheSize) (MiB), got \(cacheSize)")
        }
    }

    /// --cache-dir, when given.
    var root: URL? { cacheDir.map { URL(fileURLWithPath: $0).standardizedFileURL } }

    /// The result cache under the workspace's cache directory; nil with
    /// --no-cache, or (after one warning) when it cannot be opened.
    func open(for workspace: Workspace) throws -> ResultCache? {
        guard !noCache else { return nil }
        // A cache directory that cannot be one is the environment's problem: one line, exit 2.
        do { try FileManager.default.createDirectory(at: workspace.cacheRoot, withIntermediateDirectories: true) } catch {
            throw KPolicyError.badInput(path: workspace.cacheRoot.path, reason: "cannot be used as kpolicy's cache directory (\(Workspace.fileErrorReason(error))); set KPOLICY_CACHE or XDG_CACHE_HOME to a writable directory, or give --cache-dir or --no-cache")
        }
        do {
            return try ResultCache(directory: workspace.cacheRoot, maxBytes: Int64(cacheSize) << 20) { Exit.printWarning($0) }
        } catch {
            Exit.printWarning("kpolicy: warning: no result cache (\(Workspace.fileErrorReason(error))); every candidate is parsed")
            return nil
        }
    }
}

/// What every command that analyses files takes: the parallelism and the rules.
struct EngineOptions: ParsableArguments {
    @Option(help: "Parallel parsers (default: the number of cores).")
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Load rules from this directory instead of the built-in ones.")
    var rules: String?

    @Flag(help: "Parse every file the full way, without precompiled headers.")
    var noPch = false

    func validate() throws {
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
    }
}

/// A patch run (`kpolicy patch`, `kpolicy diff`) over `workspace` with the
/// result cache and precompiled-header choice the options give.
func makePatchRun(_ workspace: Workspace, rules: RuleSet, engine: EngineOptions, cache: CacheOptions) throws -> PatchRun {
    let run = PatchRun(workspace: workspace, rules: rules, toolVersion: KPolicyVersion.string)
    run.cache = try cache.open(for: workspace)
    run.usePrecompiledHeaders = !engine.noPch
    return run
}

/// KPOLICY_DEBUG=1: what a run did that its report does not say (which
/// precompiled headers it built or reused, whether it answered from its
/// run record), one line each on stderr.
func printDebugNotes(_ notes: [String]) {
    guard ProcessInfo.processInfo.environment["KPOLICY_DEBUG"] != nil else { return }
    for note in notes { Exit.printWarning("kpolicy: " + note) }
}

/// The built-in rules, or a directory's (`--rules`).
func loadRules(_ directory: String?) throws -> RuleSet {
    if let directory { return try RuleSet.load(directory: URL(fileURLWithPath: directory)) }
    return try RuleSet.builtIn()
}
