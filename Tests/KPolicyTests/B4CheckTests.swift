import Foundation
import XCTest
@testable import PatchInput

/// kpolicy as b4's per-patch check. b4 (`b4 prep --check`) runs the
/// configured command once per patch of the prepared branch, in the top of
/// the work tree (where the branch's tip is checked out), with the patch
/// mail on stdin; every stdout line is one finding, failing when it
/// contains `ERROR:`; any stderr line fails; no output at all is a pass.
/// Tested twice: that protocol by hand on `git format-patch` output, and
/// the real b4 from PyPI, offline, on an enrolled branch.
final class B4CheckTests: XCTestCase {
    static let command = "kpolicy patch - --tree . --format checkpatch"

    var repo: ScratchGitRepo!
    var environment: [String: String] = [:]

    override func setUpWithError() throws {
        repo = try ScratchGitRepo(name: "b4")
        let path = try ScratchGitRepo.binaryDirectory().path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        // b4 keeps a cache and data of its own: private ones.
        environment = repo.environment.merging([
            "PATH": path,
            "XDG_CACHE_HOME": repo.base.appendingPathComponent("cache").path,
            "XDG_DATA_HOME": repo.base.appendingPathComponent("data").path,
            "XDG_CONFIG_HOME": repo.base.appendingPathComponent("config").path,
        ]) { _, new in new }
        try repo.git("add", "-A")
        try repo.commit("clean driver")
    }

    override func tearDown() { repo = nil }

    /// The real b4 (from PyPI), in the top of the scratch work tree.
    func b4(_ arguments: [String]) throws -> KPolicyBinary.Run {
        try KPolicyBinary.execute(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-m", "b4.command"] + arguments,
                                  environment: environment, in: repo.root)
    }

    func requireB4() throws {
        guard let version = try? b4(["--version"]), version.status == 0 else {
            throw XCTSkip("b4 is not installed (python3 -m pip install b4; scripts/test does)")
        }
    }

    /// Two patches on top of the clean driver, both touching jit.c: the
    /// first adds the module_alloc() caller, the second a harmless function.
    func commitSeries() throws {
        try repo.write("drivers/misc/jit.c", ScratchGitRepo.badDriver)
        try repo.git("commit", "-q", "-a", "-m", "misc: jit: add jit_alloc")
        try repo.write("drivers/misc/jit.c", ScratchGitRepo.badDriver + "\nint jit_other(void)\n{\n\treturn 1;\n}\n")
        try repo.git("commit", "-q", "-a", "-m", "misc: jit: add jit_other")
    }

    /// What b4 does, by hand: each `git format-patch` mail on stdin, in the
    /// top of the work tree, with the series' tip checked out (so the first
    /// patch no longer applies to the tree's file and is applied to the
    /// pre-image blob its index line names).
    func testProtocolOnFormatPatchOutput() throws {
        try commitSeries()
        let dir = repo.base.appendingPathComponent("patches")
        try repo.git("format-patch", "-q", "-o", dir.path, "HEAD~2")
        let mails = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        XCTAssertEqual(mails.count, 2)
        let arguments = ["patch", "-", "--tree", ".", "--format", "checkpatch"]

        let first = try KPolicyBinary.execute(try KPolicyBinary.binary(), arguments, environment: environment, in: repo.root,
                                              input: try Data(contentsOf: dir.appendingPathComponent(mails[0])))
        XCTAssertEqual(first.stderr, "", "b4 fails a patch on any stderr line")
        XCTAssertEqual(first.stdout, "drivers/misc/jit.c:11: ERROR: module_alloc() called outside the module loader, in jit_alloc; "
                       + "instead: execmem_alloc(EXECMEM_BPF, size) [module-alloc-misuse]\n")
        XCTAssertEqual(first.status, 1)

        let second = try KPolicyBinary.execute(try KPolicyBinary.binary(), arguments, environment: environment, in: repo.root,
                                               input: try Data(contentsOf: dir.appendingPathComponent(mails[1])))
        XCTAssertEqual(second.stdout, "", "no output at all is b4's pass")
        XCTAssertEqual(second.stderr, "")
        XCTAssertEqual(second.status, 0)

        // The first patch on the tree it was made on (no fallback needed), and
        // the notice that says when the pre-image blob was used.
        let json = try KPolicyBinary.execute(try KPolicyBinary.binary(), ["patch", "-", "--tree", ".", "--format", "json"],
                                             environment: environment, in: repo.root,
                                             input: try Data(contentsOf: dir.appendingPathComponent(mails[0])))
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let notices = try XCTUnwrap(report["notices"] as? [String])
        XCTAssert(notices.contains { $0.contains("drivers/misc/jit.c: applied to blob") }, "\(notices)")
        try repo.git("checkout", "-q", "HEAD~2")
        let onBase = try KPolicyBinary.execute(try KPolicyBinary.binary(), arguments, environment: environment, in: repo.root,
                                               input: try Data(contentsOf: dir.appendingPathComponent(mails[0])))
        XCTAssertEqual(onBase.stdout, first.stdout)
        XCTAssertEqual(onBase.stderr, "")

        // A patch whose pre-image the repository does not have and which does
        // not apply: an ERROR line on stdout (and the kpolicy: line on stderr), exit 2.
        try repo.write("drivers/misc/jit.c", "int unrelated;\n")
        let foreign = try Data(contentsOf: dir.appendingPathComponent(mails[1]))
        let mangled = Data(String(decoding: foreign, as: UTF8.self).replacingOccurrences(
            of: #"index [0-9a-f]+\.\."#, with: "index 1234567890abcdef1234567890abcdef12345678..", options: .regularExpression).utf8)
        let bad = try KPolicyBinary.execute(try KPolicyBinary.binary(), arguments, environment: environment, in: repo.root, input: mangled)
        XCTAssertEqual(bad.status, 2, bad.stdout + bad.stderr)
        XCTAssert(bad.stdout.hasPrefix("drivers/misc/jit.c:1: ERROR: ") && bad.stdout.hasSuffix("[patch-does-not-apply]\n"), bad.stdout)
        assertOneKPolicyLine(bad, 2, "misc: jit: add jit_other")
        XCTAssertEqual(bad.stderr.components(separatedBy: "drivers/misc/jit.c").count, 2, "the file named once: \(bad.stderr)")
    }

    /// `b4 prep -n` enrolls a branch, the series is committed on it, and
    /// `b4 prep --check` runs the configured checks per patch: its output,
    /// which must name kpolicy's error in the second patch.
    func prepCheck() throws -> String {
        let enrolled = try b4(["prep", "-n", "jitfix", "-f", "main"])
        XCTAssertEqual(enrolled.status, 0, enrolled.stdout + enrolled.stderr)
        try commitSeries()
        let check = try b4(["prep", "--check"])
        let output = check.stdout + check.stderr
        XCTAssertEqual(check.status, 0, output)
        XCTAssert(output.contains("kpolicy: drivers/misc/jit.c:11: ERROR: module_alloc() called outside the module loader, in jit_alloc; "
                                  + "instead: execmem_alloc(EXECMEM_BPF, size) [module-alloc-misuse]"), output)
        return output
    }

    /// The real b4, offline, with kpolicy as the per-patch check in git's
    /// configuration.
    func testRealB4PrepCheck() throws {
        try requireB4()
        try repo.git("config", "b4.prep-perpatch-check-cmd", Self.command)
        let output = try prepCheck()
        XCTAssert(output.contains("Success: 1, Warning: 0, Error: 1"), output)
        XCTAssertFalse(output.contains("kpolicy: kpolicy:"), "nothing on kpolicy's stderr: \(output)")
    }

    /// The same through the tree's `.b4-config` (what a subsystem commits
    /// for its contributors), next to a second check: b4 runs both on every
    /// patch and a patch fails when either reports an error.
    func testRealB4PrepCheckFromB4Config() throws {
        try requireB4()
        // The second check: silent (b4's pass) on every patch, but it leaves
        // a mark so the test sees b4 ran it.
        let marks = repo.base.appendingPathComponent("second-check-ran")
        try repo.write("scripts/second-check", "#!/bin/sh\ncat >/dev/null\necho x >> '\(marks.path)'\n")
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: repo.root.appendingPathComponent("scripts/second-check").path)
        try repo.write(".b4-config", "[b4]\n\tprep-perpatch-check-cmd = \(Self.command)\n\tprep-perpatch-check-cmd = ./scripts/second-check\n")
        try repo.git("add", "-A")
        try repo.commit("b4 configuration")
        let output = try prepCheck()
        // b4 counts, for a failing patch, each check's line (kpolicy's error,
        // the second check's pass), and one success per clean patch.
        XCTAssert(output.contains("second-check: passed all checks"), output)
        XCTAssert(output.contains("Success: 2, Warning: 0, Error: 1"), output)
        XCTAssertEqual(try String(contentsOf: marks, encoding: .utf8), "x\nx\n", "the second check ran once per patch")
    }
}
