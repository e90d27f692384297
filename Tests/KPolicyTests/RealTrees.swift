import Foundation
import XCTest

/// Locates the Debian kernel trees the tests read.
///
/// scripts/test exports KPOLICY_TREE_6_1 / KPOLICY_TREE_6_12 (it fetches
/// them with scripts/kernel-tree). Run from elsewhere, the cache directory
/// scripts/kernel-tree uses is tried. When CI=true a missing tree is a
/// failure, never a skip.
enum RealTrees {
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
