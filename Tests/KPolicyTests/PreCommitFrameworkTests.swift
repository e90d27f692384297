import Foundation
import XCTest
@testable import PatchInput

/// The repository's `.pre-commit-hooks.yaml` through the real `pre-commit`
/// tool (PyPI): its hook definition, copied into a `repo: local` config of
/// a scratch repository (so nothing is fetched; PRE_COMMIT_HOME is
/// private), with the built kpolicy on PATH. A bad staged change fails
/// `pre-commit run` and `git commit`; a good one passes.
final class PreCommitFrameworkTests: XCTestCase {
    static let hooksFile = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".pre-commit-hooks.yaml")

    var repo: ScratchGitRepo!
    var environment: [String: String] = [:]

    override func setUpWithError() throws {
        repo = try ScratchGitRepo(name: "precommit")
        let path = try ScratchGitRepo.binaryDirectory().path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        let home = repo.base.appendingPathComponent("pre-commit-home")
        environment = repo.environment.merging(["PATH": path, "PRE_COMMIT_HOME": home.path, "PRE_COMMIT_COLOR": "never"]) { _, new in new }
        guard let version = try? preCommit(["--version"]), version.status == 0 else {
            throw XCTSkip("pre-commit is not installed (python3 -m pip install pre-commit; scripts/test does)")
        }
    }

    override func tearDown() { repo = nil }

    func preCommit(_ arguments: [String]) throws -> KPolicyBinary.Run {
        try KPolicyBinary.execute(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-m", "pre_commit"] + arguments,
                                  environment: environment, in: repo.root)
    }

    func git(_ arguments: String...) throws -> KPolicyBinary.Run {
        try KPolicyBinary.execute(URL(fileURLWithPath: "/usr/bin/git"), arguments, environment: environment, in: repo.root)
    }

    func testBadStagedChangeFailsGoodPasses() throws {
        // The published hook definition: a valid manifest, used as a local hook.
        let manifest = try preCommit(["validate-manifest", Self.hooksFile.path])
        XCTAssertEqual(manifest.status, 0, manifest.stdout + manifest.stderr)
        let hooks = try String(contentsOf: Self.hooksFile, encoding: .utf8)
        let entries = hooks.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("#") }.map { "    " + $0 }.joined(separator: "\n")
        XCTAssert(hooks.contains("id: kpolicy") && hooks.contains("entry: kpolicy diff --cached --tree ."), hooks)
        try repo.write(".pre-commit-config.yaml", "repos:\n- repo: local\n  hooks:\n" + entries + "\n")
        XCTAssertEqual(try git("add", "-A").status, 0)
        XCTAssertEqual(try git("commit", "-q", "-m", "clean driver").status, 0)
        let installed = try preCommit(["install"])
        XCTAssertEqual(installed.status, 0, installed.stdout + installed.stderr)

        try repo.write("drivers/misc/jit.c", ScratchGitRepo.badDriver)
        XCTAssertEqual(try git("add", "drivers/misc/jit.c").status, 0)
        let run = try preCommit(["run"])
        XCTAssertEqual(run.status, 1, run.stdout + run.stderr)
        XCTAssert(run.stdout.contains("kpolicy (executable-memory policy)") && run.stdout.contains("Failed"), run.stdout)
        XCTAssert(run.stdout.contains(ScratchGitRepo.finding), run.stdout)
        let head = try git("rev-parse", "HEAD").stdout
        let commit = try git("commit", "-m", "bad")
        XCTAssertNotEqual(commit.status, 0, commit.stdout + commit.stderr)
        XCTAssert((commit.stdout + commit.stderr).contains(ScratchGitRepo.finding), commit.stdout + commit.stderr)
        XCTAssertEqual(try git("rev-parse", "HEAD").stdout, head)

        try repo.write("drivers/misc/jit.c", ScratchGitRepo.fixedDriver)
        XCTAssertEqual(try git("add", "drivers/misc/jit.c").status, 0)
        let good = try preCommit(["run"])
        XCTAssertEqual(good.status, 0, good.stdout + good.stderr)
        XCTAssert(good.stdout.contains("Passed"), good.stdout)
        let committed = try git("commit", "-m", "good")
        XCTAssertEqual(committed.status, 0, committed.stdout + committed.stderr)
        XCTAssertNotEqual(try git("rev-parse", "HEAD").stdout, head)

        // Only C files trigger it: a staged Makefile change is skipped.
        try repo.write("Makefile", "VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 0\nNAME = Other\n")
        XCTAssertEqual(try git("add", "Makefile").status, 0)
        let skipped = try preCommit(["run"])
        XCTAssertEqual(skipped.status, 0, skipped.stdout)
        XCTAssert(skipped.stdout.contains("(no files to check)Skipped"), skipped.stdout)
    }
}
