import Foundation
import KPolicyCache
import Parse

/// The run record: a whole-tree run's report kept under the stat of every
/// file of the tree (docs/ARCHITECTURE.md, "Speed and scale").
extension CheckRun {
    /// The key of a run's record: everything its report depends on (tool,
    /// libclang, rules, tree version and default arch, the environment
    /// switches the analysis reads, the paths and the shard) and the stat of
    /// every file of the tree (`TreeSnapshot`). Nil for a run of named files
    /// only (a one-file re-check would spend more on the snapshot than on
    /// its file) or when the tree cannot be walked.
    func runRecordKey(paths: [String], shard: Shard?, start: Date) -> (key: String, recent: [String]?)? {
        guard let cache = activeCache, let digest = engine.rules.digest else { return nil }
        let root = workspace.tree.root.standardizedFileURL.path
        guard !CheckRun.namesOnlyFiles(paths, root: root),
              let snapshot = TreeSnapshot.digest(root: root, recentSince: start.timeIntervalSince1970 - 2) else { return nil }
        // Their content as the run starts (kept for the run by the cache).
        let recent = snapshot.recent.count <= CheckRun.runRecordRecentLimit ? snapshot.recent : nil
        for path in recent ?? [] { _ = cache.identity(of: path) }
        let key = ContentHash.of(([ResultCache.format, toolVersion, libclangVersionString, digest, root, workspace.tree.version.description,
                                   workspace.defaultArch, FileAnalyzer.pathCheckDisabled ? "no-paths" : "paths",
                                   shard.map { "\($0)" } ?? "", snapshot.digest] + paths).joined(separator: "\u{0}"))
        return (key, recent)
    }

    /// Files modified just before a run whose content its record may check.
    static let runRecordRecentLimit = 256

    /// Whether `paths` name only files (no directory, not the whole tree).
    static func namesOnlyFiles(_ paths: [String], root: String) -> Bool {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        return !paths.isEmpty && paths.allSatisfy { p in
            fm.fileExists(atPath: p.hasPrefix("/") ? p : root + "/" + p, isDirectory: &isDirectory) && !isDirectory.boolValue
        }
    }
}
