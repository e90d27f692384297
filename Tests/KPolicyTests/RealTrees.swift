import Foundation
import XCTest

/// Locates the Debian kernel trees the tests read.
///
/// scripts/test exports KPOLICY_TREE_6_1 / KPOLICY_TREE_6_12 /
/// KPOLICY_TREE_7 (it fetches them with scripts/kernel-tree). Run from
/// elsewhere, the cache directory scripts/kernel-tree uses is tried. When
/// CI=true a missing tree is a failure, never a skip.
enum RealTrees {
    /// The newest 7.x tree Debian carries (`scripts/kernel-tree 7`). Which
    /// 7.x it is changes as backports move on: a test on it asserts what
    /// holds for any 7.x, with facts read from the tree, never a number of
    /// one release.
    static func newest() throws -> String { try path("7") }

    static func path(_ series: String) throws -> String {
        let env = ProcessInfo.processInfo.environment
        let key = "KPOLICY_TREE_" + series.replacingOccurrences(of: ".", with: "_")
        var candidates: [String] = []
        if let p = env[key] { candidates.append(p) }
        let cache = env["KPOLICY_TREES"]
            ?? ((env["XDG_CACHE_HOME"] ?? (NSHomeDirectory() + "/.cache")) + "/kpolicy/trees")
        candidates.append(cache + "/linux-source-\(series)")
        for c in candidates where FileManager.default.fileExists(atPath: c + "/.kpolicy-complete") {
            return c
        }
        if env["CI"] == "true" {
            XCTFail("kernel tree \(series) missing: run scripts/kernel-tree \(series) (scripts/test does)")
            throw XCTSkip("tree missing")
        }
        throw XCTSkip("kernel tree \(series) not fetched: run scripts/kernel-tree \(series)")
    }
}
