import Foundation
import XCTest
@testable import PatchInput

/// `kpolicy hook install/uninstall` with real `git commit`: a bad staged
/// change stops the commit with the finding on stderr, a good one commits;
/// another tool's hook is never replaced without --force nor removed.
final class HookCommandTests: XCTestCase {
    var repo: ScratchGitRepo!

    override func setUpWithError() throws {
        repo = try ScratchGitRepo(name: "hook")
        try repo.git("add", "-A")
        try repo.commit("clean driver")
    }

    override func tearDown() { repo = nil }

    var hook: URL { repo.root.appendingPathComponent(".git/hooks/pre-commit") }

    func head() throws -> String { try repo.git("rev-parse", "HEAD").stdout }

    func install(_ extra: String...) throws -> KPolicyBinary.Run {
        try repo.kpolicy(["hook", "install", "--tree", repo.root.path] + extra)
    }

    /// A commit that must be stopped by the hook, with the finding on stderr.
    func assertCommitStopped(_ arguments: String..., file: StaticString = #filePath, line: UInt = #line) throws {
        let before = try head()
        let commit = try repo.git(["commit", "-m", "bad"] + arguments, check: false)
        XCTAssertNotEqual(commit.status, 0, commit.stdout + commit.stderr, file: file, line: line)
        XCTAssert(commit.stderr.contains(ScratchGitRepo.finding), commit.stderr, file: file, line: line)
        XCTAssertEqual(try head(), before, "a commit was made", file: file, line: line)
    }

    func testHookStopsABadCommitAndLetsAGoodOneThrough() throws {
        let installed = try install()
        XCTAssertEqual(installed.status, 0, installed.stderr)
        XCTAssert(installed.stdout.contains("kpolicy: installed \(hook.path)"), installed.stdout)
        XCTAssert(FileManager.default.isExecutableFile(atPath: hook.path))

        try repo.write("drivers/misc/jit.c", ScratchGitRepo.badDriver)
        try repo.git("add", "drivers/misc/jit.c")
        try assertCommitStopped()
        // Fixed in the work tree but not staged: what the commit records is still bad.
        try repo.write("drivers/misc/jit.c", ScratchGitRepo.fixedDriver)
        try assertCommitStopped()
        // `git commit -a` records the work tree through a temporary index,
        // which the hook reads (GIT_INDEX_FILE): clean now, so it commits.
        let before = try head()
        let good = try repo.git("commit", "-q", "-a", "-m", "good")
        XCTAssertEqual(good.status, 0, good.stderr)
        XCTAssertNotEqual(try head(), before)
        // The other way round: a clean index and a bad work tree, committed with -a.
        try repo.write("drivers/misc/jit.c", ScratchGitRepo.fixedDriver.replacingOccurrences(of: "(void *)0", with: "module_alloc(size)"))
        try assertCommitStopped("-a")
        // --no-verify skips the hook, as the hook's comment says.
        XCTAssertEqual(try repo.git("commit", "-q", "-a", "--no-verify", "-m", "anyway").status, 0)
    }

    /// Installed by a kpolicy found on PATH, from another directory: the
    /// hook runs that binary by its absolute path.
    func testHookInstalledFromPATHRunsTheSameBinary() throws {
        let bin = try ScratchGitRepo.binaryDirectory()
        let path = bin.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        let installed = try KPolicyBinary.execute(URL(fileURLWithPath: "/usr/bin/env"), ["kpolicy", "hook", "install", "--tree", repo.root.path],
                                                  environment: repo.environment.merging(["PATH": path]) { _, new in new }, in: repo.base)
        XCTAssertEqual(installed.status, 0, installed.stderr)
        let script = try String(contentsOf: hook, encoding: .utf8)
        XCTAssert(script.contains("exec '\(try KPolicyBinary.binary().resolvingSymlinksInPath().path)' diff --cached"), script)
        try repo.write("drivers/misc/jit.c", ScratchGitRepo.badDriver)
        try repo.git("add", "drivers/misc/jit.c")
        try assertCommitStopped()
        try repo.write("drivers/misc/jit.c", ScratchGitRepo.fixedDriver)
        try repo.git("add", "drivers/misc/jit.c")
        XCTAssertEqual(try repo.git("commit", "-q", "-m", "good").status, 0)
    }

    /// The report reaches a stderr redirected to a file by appending, as
    /// the shell opened it: nothing written there before is lost.
    func testReportAppendsToARedirectedStderr() throws {
        XCTAssertEqual(try install().status, 0)
        try repo.write("drivers/misc/jit.c", ScratchGitRepo.badDriver)
        try repo.git("add", "drivers/misc/jit.c")
        let log = repo.base.appendingPathComponent("commit.log")
        try "an earlier line\n".write(to: log, atomically: false, encoding: .utf8)
        let run = try KPolicyBinary.execute(URL(fileURLWithPath: "/bin/sh"), ["-c", "git commit -q -m bad 2>>\"$1\"", "sh", log.path],
                                            environment: repo.environment, in: repo.root)
        XCTAssertNotEqual(run.status, 0)
        let text = try String(contentsOf: log, encoding: .utf8)
        XCTAssert(text.hasPrefix("an earlier line\n"), text)
        XCTAssert(text.contains(ScratchGitRepo.finding), text)
    }

    /// Another tool's hook: install refuses without --force, uninstall
    /// leaves it alone; kpolicy's own hook is replaced and removed freely.
    func testForceRules() throws {
        let foreign = "#!/bin/sh\n# another tool's hook\nexit 0\n"
        try FileManager.default.createDirectory(at: hook.deletingLastPathComponent(), withIntermediateDirectories: true)
        try foreign.write(to: hook, atomically: false, encoding: .utf8)
        assertOneKPolicyLine(try install(), 2, "is another pre-commit hook; kpolicy leaves it alone (use --force to replace it)")
        XCTAssertEqual(try String(contentsOf: hook, encoding: .utf8), foreign)
        assertOneKPolicyLine(try repo.kpolicy(["hook", "uninstall", "--tree", repo.root.path]), 2, "is not kpolicy's pre-commit hook; left alone")
        XCTAssertEqual(try String(contentsOf: hook, encoding: .utf8), foreign)

        XCTAssertEqual(try install("--force").status, 0)
        XCTAssert(try String(contentsOf: hook, encoding: .utf8).contains("# kpolicy pre-commit hook"))
        XCTAssertEqual(try install().status, 0, "kpolicy's own hook is replaced without --force")
        let removed = try repo.kpolicy(["hook", "uninstall", "--tree", repo.root.path])
        XCTAssertEqual(removed.status, 0, removed.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: hook.path))
        let again = try repo.kpolicy(["hook", "uninstall", "--tree", repo.root.path])
        XCTAssertEqual(again.status, 0)
        XCTAssert(again.stdout.contains("no pre-commit hook"), again.stdout)

        // core.hooksPath: the hook goes where git will run it.
        try repo.git("config", "core.hooksPath", "githooks")
        XCTAssertEqual(try install().status, 0)
        XCTAssert(FileManager.default.isExecutableFile(atPath: repo.root.appendingPathComponent("githooks/pre-commit").path))
        try repo.write("drivers/misc/jit.c", ScratchGitRepo.badDriver)
        try repo.git("add", "drivers/misc/jit.c")
        try assertCommitStopped()

        // Not a git repository: one line, exit 2.
        let plain = try ScratchGitRepo(name: "hook-plain", init: false)
        assertOneKPolicyLine(try plain.kpolicy(["hook", "install", "--tree", plain.root.path]), 2, "not a git repository")
    }
}
