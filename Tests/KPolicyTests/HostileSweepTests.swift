import Foundation
import KernelModel
import XCTest
@testable import KPolicy
@testable import PatchInput
@testable import KPolicyCache
@testable import Kbuild
@testable import Report

/// Issue 21, the second hostile sweep (patch, diff, merge, the cache): one
/// test per row of docs/robustness.md's rows 22 to 30 and the messages
/// after them. Each ends in a documented exit code with one `kpolicy:`
/// line, or in a correct result; none traps, reads outside the tree or
/// drops a file in silence.
final class HostileSweepTests: XCTestCase {
    var repo: ScratchGitRepo!
    var cache: URL { repo.base.appendingPathComponent("cache") }
    var binary: String!

    override func setUpWithError() throws {
        repo = try ScratchGitRepo(name: "sweep")
        binary = try KPolicyBinary.binaryPath()
    }

    override func tearDown() { repo = nil }

    /// Runs `kpolicy ARGS` through the shell, so stdin can be closed or
    /// redirected (`<&-`, `< /tmp`, `0> FILE`).
    func shell(_ arguments: String, _ redirection: String) throws -> KPolicyBinary.Run {
        try KPolicyBinary.execute(URL(fileURLWithPath: "/bin/sh"), ["-c", "'\(binary!)' \(arguments) \(redirection)"],
                                  environment: repo.environment)
    }

    func kpolicy(_ arguments: [String], input: String? = nil) throws -> KPolicyBinary.Run {
        try KPolicyBinary.execute(URL(fileURLWithPath: binary), arguments + (arguments.first == "merge" ? [] : ["--cache-dir", cache.path]),
                                  environment: repo.environment, in: repo.root, input: input.map { Data($0.utf8) })
    }

    // MARK: Row 22: standard input of every kind

    /// stdin closed, a directory or open only for writing: one line, exit
    /// 2 (was a trap, exit 132, in Foundation's readDataToEndOfFile).
    func testStandardInputClosedDirectoryOrWriteOnly() throws {
        let writeOnly = repo.tmp.appendingPathComponent("write-only").path
        let patch = "patch - --tree '\(repo.root.path)' --cache-dir '\(cache.path)'"
        for (command, redirection, why) in [(patch, "<&-", "it is closed"), (patch, "< /tmp", "it is a directory"),
                                            (patch, "0> '\(writeOnly)'", "it is open only for writing"),
                                            ("merge -", "<&-", "it is closed"), ("merge -", "< /tmp", "it is a directory")] {
            assertOneKPolicyLine(try shell(command, redirection), 2, "<stdin>: cannot be read (\(why))")
        }
    }

    // MARK: Row 23: a stream without end

    /// `< /dev/zero` is refused once the input passes InputLimits.maxBytes
    /// (was read until memory ran out: exit 132 after 6.5 s).
    func testEndlessStandardInputIsRefusedAtTheLimit() throws {
        let run = try shell("patch - --tree '\(repo.root.path)' --cache-dir '\(cache.path)'", "< /dev/zero")
        assertOneKPolicyLine(run, 2, "<stdin>: too large: more than \(InputLimits.maxBytes) bytes")
        assertOneKPolicyLine(try shell("merge -", "< /dev/zero"), 2, "<stdin>: too large")
        // The reader itself, with a small limit, on a pipe that has more.
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        XCTAssertEqual(write(fds[1], "0123456789", 10), 10)
        close(fds[1])
        XCTAssertThrowsError(try InputSource.read(fileDescriptor: fds[0], source: "pipe", limit: 9)) {
            XCTAssertEqual($0 as? InputError, .tooLarge(source: "pipe", reason: "more than 9 bytes"))
        }
        close(fds[0])
    }

    // MARK: Row 24: --cache-size at its limits

    /// 2^43 MiB overflowed `Int64(size) << 20` (a trap in evict), Int.max
    /// wrapped to a negative bound that emptied the cache: both are refused
    /// as a bad command line; the largest accepted bound keeps the entries.
    func testCacheSizeAtItsLimits() throws {
        try repo.write("drivers/misc/jit.c", ScratchGitRepo.badDriver)
        for size in ["8796093022208", "9223372036854775807", "0", "-1"] {
            let run = try kpolicy(["check", "drivers/misc/jit.c", "--tree", repo.root.path, "--cache-size=\(size)"])
            assertOneKPolicyLine(run, 64, "--cache-size must be between 1 and")
        }
        let largest = "\(ResultCache.largestMaxBytes >> 20)"
        for _ in 0..<2 {
            let run = try kpolicy(["check", "drivers/misc/jit.c", "--tree", repo.root.path, "--cache-size", largest, "--format", "json"])
            XCTAssertEqual(run.status, 1, run.stderr)
        }
        let stored = try ResultCache(directory: cache, warn: { XCTFail($0) })
        XCTAssertGreaterThan(stored.entryCount(kind: "file"), 0, "the largest bound must not empty the cache")
        // The library clamps any bound, and eviction cannot overflow.
        let unbounded = try ResultCache(directory: cache, maxBytes: .max, warn: { XCTFail($0) })
        XCTAssertEqual(unbounded.maxBytes, ResultCache.largestMaxBytes)
        unbounded.flush()
        XCTAssertGreaterThan(unbounded.entryCount(kind: "file"), 0)
    }

    // MARK: Row 25: report numbers at their limits

    func shardReport(_ shard: String?, filesScanned: Int = 3) -> CheckReport {
        var stats = CheckReport.Stats()
        stats.filesScanned = filesScanned
        var report = CheckReport(tree: .init(path: "/t", kernelVersion: KernelVersion(6, 1)), toolVersion: "sweep",
                                 findings: [], stats: stats)
        report.shard = shard
        return report
    }

    func save(_ report: CheckReport, _ name: String) throws -> String {
        let url = repo.tmp.appendingPathComponent(name)
        try report.encodedJSON().write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    /// A shard report whose stats are Int.max trapped the merge's sums:
    /// refused when read, naming the field; the sum itself is checked.
    func testReportNumbersBeyondTheLimitAreRefused() throws {
        let good = try save(shardReport(nil), "good.json")
        let bad = try save(shardReport(nil, filesScanned: .max), "bad.json")
        assertOneKPolicyLine(try kpolicy(["merge", good, bad]), 2, "bad.json: stats.filesScanned is 9223372036854775807, outside 0...")
        // In memory (no decode): the checked sum refuses instead of trapping.
        XCTAssertThrowsError(try CheckReport.merged([("a", shardReport(nil, filesScanned: .max)), ("b", shardReport(nil))])) {
            XCTAssert("\($0)".contains("b: stats.filesScanned") || "\($0)".contains("stats.filesScanned"), "\($0)")
        }
        // A line number at Int.max (merge computes line + 1).
        var line = shardReport(nil)
        line.unusedSuppressions = [.init(file: "x.c", line: .max, rule: "wx-mapping")]
        assertOneKPolicyLine(try kpolicy(["merge", good, try save(line, "line.json")]), 2, "unusedSuppressions[0].line is 9223372036854775807")
    }

    // MARK: Shards: missing or given twice

    func testMergeRefusesAMissingOrDoubledShard() throws {
        let one = try save(shardReport("1/3"), "1.json"), two = try save(shardReport("2/3"), "2.json")
        let three = try save(shardReport("3/3"), "3.json"), whole = try save(shardReport(nil), "whole.json")
        XCTAssertEqual(try kpolicy(["merge", one, two, three]).status, 0)
        assertOneKPolicyLine(try kpolicy(["merge", one, three]), 2, "shard 2/3 is missing (given: 1/3, 3/3)")
        assertOneKPolicyLine(try kpolicy(["merge", one, two, three, two]), 2, "2.json: is shard 2/3, and so is \(two): a shard given twice")
        assertOneKPolicyLine(try kpolicy(["merge", one, two, three, whole]), 2, "whole.json: is not a shard report")
        assertOneKPolicyLine(try kpolicy(["merge", one, two, try save(shardReport("3/4"), "4.json")]), 2, "split 4 ways")
        // The field is written by check --shard, and only then.
        try repo.write("drivers/misc/jit.c", ScratchGitRepo.badDriver)
        let sharded = try kpolicy(["check", "--tree", repo.root.path, "--shard", "2/2", "--format", "json", "--fail-on", "never"])
        XCTAssertEqual(try CheckReport.decode(json: Data(sharded.stdout.utf8), source: "s").shard, "2/2", sharded.stderr)
        let plain = try kpolicy(["check", "--tree", repo.root.path, "--format", "json", "--fail-on", "never"])
        XCTAssertFalse(plain.stdout.contains("\"shard\""), plain.stdout)
    }

    // MARK: Rows 26 and 27: binary changes

    /// The bad driver with a NUL byte in a comment: git calls it binary.
    static let binaryBadDriver = "/* \u{0} */\n" + ScratchGitRepo.badDriver

    /// `git diff --binary` of it fed to `kpolicy patch`: named as not
    /// checked in the report (was exit 0, "0 candidates", no word).
    func testBinaryPatchIsNamedAsNotChecked() throws {
        try repo.git("add", "-A")
        try repo.commit("clean")
        try repo.write("drivers/misc/jit.c", Self.binaryBadDriver)
        let diff = try repo.git("diff", "--binary").stdout
        XCTAssert(diff.contains("GIT binary patch"), diff)
        let run = try kpolicy(["patch", "-", "--tree", repo.root.path], input: diff)
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssert(run.stdout.contains("note: [1/1] : drivers/misc/jit.c: a binary change (git's binary diff has no lines to apply): not checked"),
                  run.stdout)
        let json = try kpolicy(["patch", "-", "--tree", repo.root.path, "--format", "json"], input: diff)
        XCTAssert(try CheckReport.decode(json: Data(json.stdout.utf8), source: "j").notices?.contains { $0.contains("drivers/misc/jit.c: a binary change") } == true)
    }

    /// `kpolicy diff --cached` and `diff A..B` read a binary .c from git as
    /// text and check it (was "0 candidates": the hook let it through).
    func testBinarySourceInTheHookIsReadFromGitAndChecked() throws {
        try repo.git("add", "-A")
        try repo.commit("clean")
        try repo.write("drivers/misc/jit.c", Self.binaryBadDriver)
        try repo.git("add", "drivers/misc/jit.c")
        let finding = "drivers/misc/jit.c:12:9: error: module_alloc() called outside the module loader, in jit_alloc"
        let staged = try repo.kpolicyLeavingTreeAlone(["diff", "--cached", "--tree", repo.root.path, "--cache-dir", cache.path])
        XCTAssertEqual(staged.status, 1, staged.stdout + staged.stderr)
        XCTAssert(staged.stdout.contains(finding), staged.stdout)
        try repo.commit("binary")
        let range = try repo.kpolicyLeavingTreeAlone(["diff", "HEAD~1..HEAD", "--tree", repo.root.path, "--cache-dir", cache.path])
        XCTAssertEqual(range.status, 1, range.stdout + range.stderr)
        XCTAssert(range.stdout.contains(finding), range.stdout)
        // A binary file that is not source is named, not read.
        try "\u{0}\u{1}".write(to: repo.root.appendingPathComponent("firmware.bin"), atomically: true, encoding: .utf8)
        try repo.git("add", "firmware.bin")
        let firmware = try kpolicy(["diff", "--cached", "--tree", repo.root.path])
        XCTAssertEqual(firmware.status, 0, firmware.stderr)
        XCTAssert(firmware.stdout.contains("firmware.bin: a binary change"), firmware.stdout)
    }

    // MARK: Row 28: paths leaving the tree

    /// Every name a diff gives is refused when it can leave the tree,
    /// before anything is read: a file outside the tree whose text the
    /// hunk fits is not touched (its hunk was applied, exit 3).
    func testPathsLeavingTheTreeAreRefusedBeforeAnyRead() throws {
        let outside = repo.base.appendingPathComponent("outside2.c")
        try "int a;\n".write(to: outside, atomically: true, encoding: .utf8)
        let hunk = "@@ -1 +1 @@\n-int a;\n+int b;\n"
        let cases = [
            "diff --git a/../outside2.c b/../outside2.c\n--- a/../outside2.c\n+++ b/../outside2.c\n" + hunk,
            "diff --git a/drivers/misc/jit.c b/x.c\nsimilarity index 100%\nrename from drivers/misc/jit.c\nrename to ../../etc/passwd\n",
            "diff --git a/drivers/misc/jit.c b/x.c\nsimilarity index 90%\ncopy from ../../etc/passwd\ncopy to drivers/misc/x.c\n",
            "diff --git a/kernel/../../../tmp/x.c b/kernel/../../../tmp/x.c\nnew file mode 100644\n--- /dev/null\n+++ b/kernel/../../../tmp/x.c\n@@ -0,0 +1 @@\n+int y;\n",
            "--- a/../../../../../dev/zero\n+++ b/../../../../../dev/zero\n" + hunk,
            "--- a//etc/passwd\n+++ b//etc/passwd\n" + hunk,
        ]
        for text in cases {
            let run = try kpolicy(["patch", "-", "--tree", repo.root.path], input: text)
            assertOneKPolicyLine(run, 2, "the tree; refused before anything is read")
            XCTAssertEqual(run.stdout, "", text)
        }
        XCTAssertThrowsError(try UnifiedDiff.parse("--- a//etc/passwd\n+++ b//etc/passwd\n" + hunk)) {
            XCTAssert("\($0)".contains("is absolute"), "\($0)")
        }
        // A symbolic link of the tree that leads out is not read through.
        try FileManager.default.createSymbolicLink(atPath: repo.root.appendingPathComponent("drivers/misc/out.c").path,
                                                   withDestinationPath: outside.path)
        let link = try kpolicy(["patch", "-", "--tree", repo.root.path],
                               input: "--- a/drivers/misc/out.c\n+++ b/drivers/misc/out.c\n" + hunk)
        XCTAssertEqual(link.status, 2, link.stdout + link.stderr)
        XCTAssert(link.stdout.contains("is a symbolic link to \(outside.resolvingSymlinksInPath().path), outside the tree"), link.stdout)
    }

    // MARK: Row 29: gitlinks

    /// A staged submodule pointer bump is not a file: skipped with a note
    /// (was exit 2, "the file is not in the tree": the commit was blocked).
    func testSubmodulePointerBumpIsSkippedWithANote() throws {
        try repo.git("add", "-A")
        try repo.git("update-index", "--add", "--cacheinfo", "160000,1234567890123456789012345678901234567890,drivers/subm")
        try repo.commit("submodule")
        try repo.git("update-index", "--cacheinfo", "160000,2234567890123456789012345678901234567890,drivers/subm")
        let run = try repo.kpolicyLeavingTreeAlone(["diff", "--cached", "--tree", repo.root.path, "--cache-dir", cache.path])
        XCTAssertEqual(run.status, 0, run.stdout + run.stderr)
        XCTAssert(run.stdout.contains("drivers/subm: a submodule (gitlink) pointer, not a file: skipped"), run.stdout)
        let diff = try UnifiedDiff.parse(bytes: Array(try repo.git("diff", "--cached").stdout.utf8))
        XCTAssertEqual(diff.files.map(\.isGitlink), [true])
    }

    // MARK: Row 30: configuration files appearing under the cache

    /// A Kconfig index read while the top Kconfig was missing depended on
    /// nothing: restored, the index (and every result keyed on the
    /// configuration) still came from the cache. It now depends on the
    /// file's absence.
    func testKconfigIndexReadWithoutAKconfigIsInvalidWhenItAppears() throws {
        let tree = try KernelTree(path: repo.root.path)
        func index() throws -> KconfigIndex {
            let workspace = try Workspace(tree: tree, cacheRoot: cache)
            workspace.knowledgeCache = try ResultCache(directory: cache, warn: { XCTFail($0) })
            defer { workspace.knowledgeCache?.flush() }
            return workspace.kconfig(arch: "x86")
        }
        func overlay() throws -> URL { try Workspace(tree: tree, cacheRoot: cache).overlay(arch: "x86").root }
        XCTAssertEqual(try index().missingFiles, ["Kconfig"])
        let before = try overlay()
        try repo.write("Kconfig", "config SWEEP_OPTION\n\tbool \"x\"\n\tdefault y\n")
        XCTAssertEqual(try index().files, ["Kconfig"], "the index must be read again once Kconfig exists")
        // The generated headers' default configuration is made from the
        // Kconfig files: not the overlay made without them.
        XCTAssertNotEqual(try overlay(), before)
        // Nor the one made before the tree had its own configuration.
        let defaultOverlay = try overlay()
        try repo.write(".config", "CONFIG_SWEEP_OPTION=y\n")
        XCTAssertNotEqual(try overlay(), defaultOverlay)
        try FileManager.default.createDirectory(at: repo.root.appendingPathComponent("include/generated"), withIntermediateDirectories: true)
        let dotConfigOverlay = try overlay()
        try repo.write("include/generated/autoconf.h", "#define CONFIG_SWEEP_OPTION 1\n")
        XCTAssertNotEqual(try overlay(), dotConfigOverlay)
        // And the cache's own rule: an absent dependency invalidates when it appears.
        let results = try ResultCache(directory: cache.appendingPathComponent("unit"), warn: { XCTFail($0) })
        let later = repo.root.appendingPathComponent("later").path
        results.store(kind: "t", key: "k", dependencies: [], absent: [later], value: Data("v".utf8))
        XCTAssertEqual(results.lookup(kind: "t", key: "k"), Data("v".utf8))
        try "x".write(toFile: later, atomically: true, encoding: .utf8)
        XCTAssertNil(try ResultCache(directory: cache.appendingPathComponent("unit"), warn: { XCTFail($0) }).lookup(kind: "t", key: "k"))
    }

    // MARK: Messages

    /// A patch whose lines all end in CRLF is read as git am reads it (the
    /// file was named "drivers/misc/jit.c\r"); a diff of a CRLF file is
    /// not changed.
    func testCRLFPatchIsReadAsGitAmReadsIt() throws {
        try repo.git("add", "-A")
        try repo.commit("clean")
        try repo.write("drivers/misc/jit.c", ScratchGitRepo.badDriver)
        let diff = try repo.git("diff").stdout.replacingOccurrences(of: "\n", with: "\r\n")
        let run = try kpolicy(["patch", "-", "--tree", repo.root.path], input: diff)
        XCTAssertEqual(run.status, 1, run.stdout + run.stderr)
        XCTAssert(run.stdout.contains(ScratchGitRepo.finding), run.stdout)
        XCTAssertEqual(Mbox.withoutCRLF(Array("a\r\nb\n".utf8)), Array("a\r\nb\n".utf8))
    }

    /// merge of a device or a directory, and a check of a symbolic link to
    /// itself, say what they are.
    func testMessagesForDevicesDirectoriesAndSymlinkLoops() throws {
        assertOneKPolicyLine(try kpolicy(["merge", "/dev/zero"]), 2, "/dev/zero: cannot be read (it is a character device, not a regular file)")
        assertOneKPolicyLine(try kpolicy(["merge", repo.tmp.path]), 2, "cannot be read (it is a directory, not a regular file)")
        try FileManager.default.createSymbolicLink(atPath: repo.root.appendingPathComponent("drivers/misc/loop.c").path,
                                                   withDestinationPath: "loop.c")
        assertOneKPolicyLine(try kpolicy(["check", "drivers/misc/loop.c", "--tree", repo.root.path]), 2,
                             "drivers/misc/loop.c: cannot be read (Too many levels of symbolic links)")
    }

    /// The other inputs a user names are bounded and regular files too: a
    /// rule file over InputLimits.maxRuleFileBytes or a FIFO among the
    /// rules, and a baseline over InputLimits.maxBytes (sparse: nothing is
    /// written), are one line and exit 2, read no further than their stat.
    func testRuleFilesAndBaselinesAreBoundedRegularFiles() throws {
        let rules = repo.tmp.appendingPathComponent("rules/x")
        try FileManager.default.createDirectory(at: rules, withIntermediateDirectories: true)
        let big = rules.appendingPathComponent("big-rule.yaml")
        XCTAssertTrue(FileManager.default.createFile(atPath: big.path, contents: nil))
        try FileHandle(forWritingTo: big).truncate(atOffset: UInt64(InputLimits.maxRuleFileBytes + 1))
        assertOneKPolicyLine(try KPolicyBinary.run(["rules", "list", "--rules", rules.deletingLastPathComponent().path]), 2,
                             "big-rule.yaml: too large: \(InputLimits.maxRuleFileBytes + 1) bytes, more than \(InputLimits.maxRuleFileBytes)")
        try FileManager.default.removeItem(at: big)
        XCTAssertEqual(mkfifo(rules.appendingPathComponent("fifo-rule.yaml").path, 0o600), 0)
        assertOneKPolicyLine(try KPolicyBinary.run(["rules", "list", "--rules", rules.deletingLastPathComponent().path]), 2,
                             "fifo-rule.yaml: cannot be read (it is a FIFO, not a regular file)")
        let baseline = repo.tmp.appendingPathComponent("baseline.json")
        XCTAssertTrue(FileManager.default.createFile(atPath: baseline.path, contents: nil))
        try FileHandle(forWritingTo: baseline).truncate(atOffset: UInt64(InputLimits.maxBytes + 1))
        assertOneKPolicyLine(try kpolicy(["check", "drivers/misc", "--tree", repo.root.path, "--baseline", baseline.path]), 2,
                             "baseline.json: too large: \(InputLimits.maxBytes + 1) bytes, more than \(InputLimits.maxBytes)")
    }
}
