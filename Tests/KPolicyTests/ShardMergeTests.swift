import Foundation
import XCTest
@testable import KPolicy
import KernelModel
@testable import Report
import KPolicyFiles

/// `--shard K/N` and `kpolicy merge`: the shards of a check, merged, equal
/// the single run; the split is fixed by the path alone.
final class ShardMergeTests: XCTestCase {
    /// The assignment is a function of the relative path only (FNV-1a), so
    /// it is the same on every machine and in every file order.
    func testShardOfAPathIsFixedAndShardsPartition() throws {
        XCTAssertEqual(Shard.of("kernel/kprobes.c", count: 4), Int(FNV1a.hash("kernel/kprobes.c") % 4) + 1)
        // Pinned values: changing the hash would silently re-split every CI matrix.
        XCTAssertEqual(["kernel/kprobes.c", "mm/vmalloc.c", "kernel/bpf/core.c", "arch/x86/kernel/ftrace.c"].map { Shard.of($0, count: 3) },
                       [2, 2, 1, 3])
        let paths = (0..<1000).map { "drivers/x/file\($0).c" }
        let shards = try (1...4).map { try Shard(index: $0, count: 4) }
        for p in paths { XCTAssertEqual(shards.filter { $0.contains(p) }.count, 1, p) }
        for s in shards { XCTAssertGreaterThan(paths.filter(s.contains).count, 150, "\(s) is badly unbalanced") }
        XCTAssertThrowsError(try Shard(parsing: "0/3"))
        XCTAssertThrowsError(try Shard(parsing: "4/3"))
        XCTAssertThrowsError(try Shard(parsing: "1-3"))
        XCTAssertEqual(try Shard(parsing: "2/3"), try Shard(index: 2, count: 3))
    }

    func report(_ url: URL) throws -> CheckReport {
        try JSONDecoder().decode(CheckReport.self, from: Data(contentsOf: url))
    }

    /// Three shards of a real check on 6.1, merged, equal one run (timing aside).
    func testMergedShardsEqualASingleRun() throws {
        let tree = try RealTrees.path("6.1")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("shards-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let paths = ["arch/x86/kernel/alternative.c", "arch/x86/kernel/ftrace.c", "arch/x86/kernel/kprobes", "kernel/kprobes.c", "kernel/bpf/core.c"]
        let common = ["--tree", tree, "--quiet", "--format", "json"]
        let single = try KPolicyBinary.run(["check"] + paths + common + ["--output", dir.appendingPathComponent("single.json").path])
        XCTAssertEqual(single.status, 1, single.stderr)
        var shardFiles: [String] = []
        for k in 1...3 {
            let out = dir.appendingPathComponent("report-\(k).json").path
            let run = try KPolicyBinary.run(["check"] + paths + common + ["--shard", "\(k)/3", "--output", out, "--jobs", "1"])
            XCTAssert(run.status == 0 || run.status == 1, run.stderr)
            shardFiles.append(out)
        }
        let shards = try shardFiles.map { try report(URL(fileURLWithPath: $0)) }
        XCTAssert(shards.allSatisfy { $0.stats.candidates < 13 }, "each shard checks part of the files")
        XCTAssertGreaterThan(shards.filter { !$0.findings.isEmpty }.count, 1, "the findings are spread over shards")
        let merged = dir.appendingPathComponent("merged.json")
        let run = try KPolicyBinary.run(["merge"] + shardFiles.reversed() + ["--format", "json", "--output", merged.path])
        XCTAssertEqual(run.status, 1, "findings give exit 1: \(run.stderr)")
        var expected = try report(dir.appendingPathComponent("single.json"))
        var actual = try report(merged)
        XCTAssertGreaterThan(expected.findings.count, 5)
        XCTAssertEqual(actual.stats.seconds, (shards.map(\.stats.seconds).reduce(0, +) * 100).rounded() / 100, accuracy: 0.011)
        expected.stats.seconds = 0
        actual.stats.seconds = 0
        // Whether a result came from the cache is the run's, not the tree's.
        expected.stats.fromCache = nil
        actual.stats.fromCache = nil
        XCTAssertEqual(actual, expected)

        // A shard given twice is refused (issue 21): the merge would count its files twice.
        let twice = try KPolicyBinary.run(["merge", shardFiles[0], shardFiles[0], "--format", "json", "--fail-on", "never"])
        XCTAssertEqual(twice.status, 2, twice.stderr)
        XCTAssert(twice.stderr.contains("is shard 1/3, and so is"), twice.stderr)
        // Without the shard field (reports of an older kpolicy), the same
        // report twice changes nothing (fingerprints dedup) but the counts summed.
        var unmarked = shards[0]
        unmarked.shard = nil
        let copy = dir.appendingPathComponent("unmarked.json")
        try unmarked.encodedJSON().write(to: copy, atomically: true, encoding: .utf8)
        let again = try KPolicyBinary.run(["merge", copy.path, copy.path, "--format", "json", "--fail-on", "never"])
        XCTAssertEqual(again.status, 0, again.stderr)
        let t = try JSONDecoder().decode(CheckReport.self, from: Data(again.stdout.utf8))
        XCTAssertEqual(t.findings, shards[0].findings)
    }

    func testMergeRefusesWhatIsNotAShardReport() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("merge-bad-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let report = CheckReport(tree: .init(path: "/t", kernelVersion: KernelVersion(string: "6.1.0")!), toolVersion: "0.2.0", findings: [], stats: .init())
        var other = report
        other.tree.kernelVersion = KernelVersion(string: "6.12.0")!
        let a = dir.appendingPathComponent("a.json"), b = dir.appendingPathComponent("b.json"), c = dir.appendingPathComponent("c.json")
        try report.encodedJSON().write(to: a, atomically: true, encoding: .utf8)
        try other.encodedJSON().write(to: b, atomically: true, encoding: .utf8)
        try "{\"schema\": \"kpolicy-report/1\"}".write(to: c, atomically: true, encoding: .utf8)
        let mixed = try KPolicyBinary.run(["merge", a.path, b.path])
        XCTAssertEqual(mixed.status, 2, mixed.stderr)
        XCTAssert(mixed.stderr.contains("b.json") && mixed.stderr.contains("6.12.0"), mixed.stderr)
        let broken = try KPolicyBinary.run(["merge", a.path, c.path])
        XCTAssertEqual(broken.status, 2, broken.stderr)
        XCTAssert(broken.stderr.contains("c.json") && broken.stderr.contains("missing"), broken.stderr)
        let missing = try KPolicyBinary.run(["merge", dir.appendingPathComponent("nope.json").path])
        XCTAssertEqual(missing.status, 2, missing.stderr)
        let alone = try KPolicyBinary.run(["merge", a.path, a.path, "--format", "json"])
        XCTAssertEqual(alone.status, 0, alone.stderr)
        XCTAssertEqual(try JSONDecoder().decode(CheckReport.self, from: Data(alone.stdout.utf8)).findings, [])
    }
}
