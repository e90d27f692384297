import Foundation
import XCTest
@testable import KPolicy
@testable import KPolicyCache
@testable import Kbuild
@testable import Analysis
@testable import Report

/// The result cache: what each change invalidates (and that it invalidates
/// nothing else), damaged and foreign databases, eviction.
final class ResultCacheTests: XCTestCase {
    var dir: URL!
    var tree: URL { dir.appendingPathComponent("tree") }
    var cacheDir: URL { dir.appendingPathComponent("cache") }
    var rules: URL { dir.appendingPathComponent("rules") }

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("result-cache-\(UUID().uuidString)")
        let fm = FileManager.default
        for sub in ["tree/arch/x86/include/asm", "tree/include/asm-generic", "tree/include/linux", "tree/kernel", "tree/drivers/misc/inc", "cache"] {
            try fm.createDirectory(at: dir.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        try write("Makefile", "VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 0\n")
        try write("include/asm-generic/Kbuild", "mandatory-y += barrier.h\n")
        try write("include/linux/shared.h", "#pragma once\nvoid *module_alloc(unsigned long size);\nvoid module_memfree(void *p);\n")
        try write("include/linux/other.h", "#pragma once\n#define OTHER_SIZE 4096\n")
        try write("kernel/a.c", "#include <linux/shared.h>\nvoid *a_alloc(void) { return module_alloc(64); }\n")
        try write("kernel/b.c", "#include <linux/shared.h>\n#include <linux/other.h>\nvoid *b_alloc(void) { return module_alloc(OTHER_SIZE); }\n")
        try write("drivers/misc/c.c", "#include <linux/shared.h>\n#include <linux/other.h>\nvoid c_free(void *p) { module_memfree(p); }\n")
        try write("drivers/misc/Makefile", "obj-y += c.o\n")
        try write("kernel/plain.c", "int nothing_here(void) { return 0; }\n")
        // A copy of the built-in rules, to change one.
        for (path, text) in try RuleSet.builtInFiles() {
            let url = rules.appendingPathComponent(path)
            try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    func write(_ relative: String, _ text: String) throws {
        try text.write(to: tree.appendingPathComponent(relative), atomically: false, encoding: .utf8)
    }

    func append(_ relative: String, _ text: String) throws {
        let handle = try FileHandle(forWritingTo: tree.appendingPathComponent(relative))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
        try handle.close()
    }

    struct Outcome {
        var report: CheckReport
        var stderr: String
        /// Candidates analysed afresh (not from the cache).
        var parsed: Int { report.stats.filesParsed - (report.stats.fromCache ?? 0) }
        var places: [String] { report.findings.map { "\($0.position.file):\($0.position.line)" } }
    }

    func check(_ extra: [String] = []) throws -> Outcome {
        let run = try KPolicyBinary.run(["check", "--tree", tree.path, "--cache-dir", cacheDir.path, "--rules", rules.path,
                                         "--format", "json", "--fail-on", "never", "--jobs", "1"] + extra)
        XCTAssertEqual(run.status, 0, run.stderr)
        let report = try JSONDecoder().decode(CheckReport.self, from: Data(run.stdout.utf8))
        return Outcome(report: report, stderr: run.stderr)
    }

    func normalized(_ r: CheckReport) -> CheckReport {
        var r = r
        r.stats.seconds = 0
        r.stats.fromCache = nil
        return r
    }

    /// A file Kbuild builds only for i386 is parsed with a configuration
    /// header kpolicy writes (not a file of the tree): its result is kept
    /// all the same, and found again.
    func testThirtyTwoBitFileIsCached() throws {
        try FileManager.default.createDirectory(at: tree.appendingPathComponent("arch/x86/mm"), withIntermediateDirectories: true)
        try write("include/linux/kconfig.h", "#pragma once\n")
        try write("arch/x86/mm/Makefile", "obj-$(CONFIG_X86_32) += init_32.o\n")
        try write("arch/x86/mm/init_32.c", "#include <linux/shared.h>\nvoid *i_alloc(void) { return module_alloc(32); }\n")
        let cold = try check()
        XCTAssertTrue(cold.places.contains("arch/x86/mm/init_32.c:2"), "\(cold.places)")
        let warm = try check(["kernel", "arch/x86/mm"])
        XCTAssertEqual(warm.parsed, 0, "nothing changed: the i386 file too comes from the cache")
        try append("arch/x86/mm/init_32.c", "\n")
        XCTAssertEqual(try check(["kernel", "arch/x86/mm"]).parsed, 1)
    }

    func testEachChangeInvalidatesWhatItMustAndNothingElse() throws {
        let cold = try check()
        // shared.h mentions module_alloc too: a header is a candidate of its own.
        XCTAssertEqual(cold.report.stats.candidates, 4)
        XCTAssertEqual(cold.parsed, 4)
        XCTAssertEqual(cold.places, ["drivers/misc/c.c:3", "kernel/a.c:2", "kernel/b.c:3"])

        let warm = try check()
        XCTAssertEqual(warm.parsed, 0, "an unchanged tree parses nothing")
        XCTAssertEqual(normalized(warm.report), normalized(cold.report), "a cached result is the result")
        XCTAssertEqual(warm.stderr, "")

        // New mtime, same bytes: stat says changed, the content hash says not.
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -100)],
                                              ofItemAtPath: tree.appendingPathComponent("kernel/a.c").path)
        XCTAssertEqual(try check().parsed, 0)

        // An edited file: only it.
        try append("kernel/a.c", "void *a_more(void) { return module_alloc(128); }\n")
        let edited = try check()
        XCTAssertEqual(edited.parsed, 1)
        XCTAssertEqual(edited.places, ["drivers/misc/c.c:3", "kernel/a.c:2", "kernel/a.c:3", "kernel/b.c:3"])

        // An edited header: only the files that include it.
        try write("include/linux/other.h", "#pragma once\n#define OTHER_SIZE 8192\n")
        XCTAssertEqual(try check().parsed, 2, "b.c and c.c include other.h, a.c does not")
        // A header nobody includes: nothing.
        try write("include/linux/unused.h", "#pragma once\n")
        XCTAssertEqual(try check().parsed, 0)

        // A changed configuration of one directory (its Makefile's -I): only its file.
        try write("drivers/misc/Makefile", "ccflags-y += -I$(src)/inc\nobj-y += c.o\n")
        XCTAssertEqual(try check().parsed, 1)

        // A changed rule: everything (every result depends on the whole rule set).
        let rule = rules.appendingPathComponent("exec-memory/module-alloc-misuse.yaml")
        let text = try String(contentsOf: rule, encoding: .utf8)
        try text.replacingOccurrences(of: "outside the module loader, in {function}", with: "outside the module loader (in {function})")
            .write(to: rule, atomically: true, encoding: .utf8)
        let changedRule = try check()
        XCTAssertEqual(changedRule.parsed, 4)
        XCTAssert(changedRule.report.findings.allSatisfy { $0.message.contains("(in ") }, "\(changedRule.report.findings.map(\.message))")
        XCTAssertEqual(try check().parsed, 0)

        // --no-cache reads and writes nothing; a new file is a new candidate.
        let uncached = try check(["--no-cache"])
        XCTAssertNil(uncached.report.stats.fromCache)
        XCTAssertEqual(uncached.report.stats.filesParsed, 4)
        try write("kernel/d.c", "#include <linux/shared.h>\nvoid d(void *p) { module_memfree(p); }\n")
        let added = try check()
        XCTAssertEqual(added.report.stats.candidates, 5)
        XCTAssertEqual(added.parsed, 1)
    }

    func debugCheck(_ extra: [String] = []) throws -> Outcome {
        let run = try KPolicyBinary.run(["check", "--tree", tree.path, "--cache-dir", cacheDir.path, "--rules", rules.path,
                                         "--format", "json", "--fail-on", "never", "--jobs", "1"] + extra,
                                        environment: ["KPOLICY_DEBUG": "1"])
        XCTAssertEqual(run.status, 0, run.stderr)
        return Outcome(report: try JSONDecoder().decode(CheckReport.self, from: Data(run.stdout.utf8)), stderr: run.stderr)
    }

    /// A run over a tree unchanged since a run with the same paths answers
    /// from its run record; a file edited, added or removed anywhere, other
    /// paths or a shard do not.
    func testRunRecordOnlyForAnUnchangedTree() throws {
        let fromRecord = "from the run record"
        // Every file was just written: the record also checks their content.
        let cold = try debugCheck()
        XCTAssertFalse(cold.stderr.contains(fromRecord))
        let recorded = try debugCheck()
        XCTAssert(recorded.stderr.contains(fromRecord), recorded.stderr)
        XCTAssertEqual(normalized(recorded.report), normalized(cold.report), "the record holds the run's report")
        XCTAssertEqual(recorded.report.stats.fromCache, recorded.report.stats.candidates)
        // Other paths, another record.
        XCTAssertFalse(try debugCheck(["kernel"]).stderr.contains(fromRecord))
        XCTAssertFalse(try debugCheck(["--shard", "1/2"]).stderr.contains(fromRecord))
        // Named files never use one (the tree's snapshot would cost more than they do).
        XCTAssertFalse(try debugCheck(["kernel/a.c"]).stderr.contains(fromRecord))
        XCTAssertFalse(try debugCheck(["kernel/a.c"]).stderr.contains(fromRecord))
        // A file that is not a candidate, edited: the record is not used, the result is the same.
        try append("kernel/plain.c", "int more(void) { return 1; }\n")
        let edited = try debugCheck()
        XCTAssertFalse(edited.stderr.contains(fromRecord))
        XCTAssertEqual(edited.parsed, 0)
        XCTAssert(try debugCheck().stderr.contains(fromRecord))
        // A Makefile (not a source file) edited: the same.
        try append("drivers/misc/Makefile", "# comment\n")
        XCTAssertFalse(try debugCheck().stderr.contains(fromRecord))
        // A candidate edited: the finding moves.
        try write("kernel/a.c", "#include <linux/shared.h>\n\nvoid *a_alloc(void) { return module_alloc(64); }\n")
        let moved = try debugCheck()
        XCTAssertFalse(moved.stderr.contains(fromRecord))
        XCTAssertEqual(moved.places, ["drivers/misc/c.c:3", "kernel/a.c:3", "kernel/b.c:3"])
        XCTAssertEqual(try debugCheck().places, moved.places)
        // --no-cache: no record read.
        XCTAssertFalse(try debugCheck(["--no-cache"]).stderr.contains(fromRecord))
    }

    func testDamagedOrForeignDatabaseIsRebuiltWithOneWarning() throws {
        _ = try check()
        let db = cacheDir.appendingPathComponent(ResultCache.fileName)
        for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: db.path + suffix) }
        try Data(repeating: 0x5a, count: 8192).write(to: db)
        let damaged = try check()
        XCTAssertEqual(damaged.parsed, 4)
        XCTAssertEqual(damaged.stderr.split(separator: "\n").count, 1, damaged.stderr)
        XCTAssert(damaged.stderr.contains("warning") && damaged.stderr.contains("rebuilding"), damaged.stderr)
        let again = try check()
        XCTAssertEqual(again.parsed, 0)
        XCTAssertEqual(again.stderr, "")

        // Another cache format in the same place.
        _ = try ResultCache(directory: cacheDir, format: "kpolicy-results-0") { _ in }
        var warnings: [String] = []
        let cache = try ResultCache(directory: cacheDir, format: "kpolicy-results-0") { warnings.append($0) }
        XCTAssertEqual(warnings, [])
        _ = cache
        let foreign = try check()
        XCTAssertEqual(foreign.parsed, 4)
        XCTAssert(foreign.stderr.contains("another kpolicy"), foreign.stderr)
    }

    func testEvictionKeepsTheMostRecentlyUsedWithinTheBound() throws {
        let cache = try ResultCache(directory: cacheDir, maxBytes: 40_000) { _ in }
        let dep = tree.appendingPathComponent("include/linux/other.h").path
        for i in 0..<10 {
            cache.store(kind: "file", key: "k\(i)", dependencies: [dep], value: Data(repeating: UInt8(i), count: 8_000))
        }
        XCTAssertNotNil(cache.lookup(kind: "file", key: "k0"), "a hit makes k0 recently used")
        cache.flush()
        XCTAssertLessThanOrEqual(cache.storedBytes(), 32_000 + 1_000)
        XCTAssertNotNil(cache.lookup(kind: "file", key: "k0"))
        XCTAssertNotNil(cache.lookup(kind: "file", key: "k9"))
        XCTAssertNil(cache.lookup(kind: "file", key: "k1"), "the least recently used went first")
        // A dependency that changed makes the entry invisible.
        try write("include/linux/other.h", "#pragma once\n#define OTHER_SIZE 1\n")
        let fresh = try ResultCache(directory: cacheDir, maxBytes: 40_000) { _ in }
        XCTAssertNil(fresh.lookup(kind: "file", key: "k9"))
    }

    func testOverlayEviction() throws {
        let fm = FileManager.default
        let root = cacheDir
        func make(_ name: String, usedAgo: TimeInterval) throws {
            let d = root.appendingPathComponent(name)
            try fm.createDirectory(at: d, withIntermediateDirectories: true)
            let marker = d.appendingPathComponent(".complete")
            try "x".write(to: marker, atomically: true, encoding: .utf8)
            try fm.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -usedAgo)], ofItemAtPath: marker.path)
        }
        try make("overlay-x86-6.1.0-old", usedAgo: 30 * 86400)
        try make("overlay-x86-6.1.0-recent", usedAgo: 60)
        for i in 0..<4 { try make("overlay-arm64-6.1.0-\(i)", usedAgo: 7200 + Double(i)) }
        try make("pch-x86-busy", usedAgo: 10)
        try make("unrelated", usedAgo: 90 * 86400)
        GeneratedHeaders.evict(cacheRoot: root, keep: 3)
        let left = try fm.contentsOfDirectory(atPath: root.path).sorted()
        XCTAssertEqual(left, ["overlay-arm64-6.1.0-0", "overlay-x86-6.1.0-recent", "pch-x86-busy", "unrelated"])
    }
}
