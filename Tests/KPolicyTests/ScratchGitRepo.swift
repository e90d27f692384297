import Foundation
import XCTest
@testable import PatchInput

/// A real git repository holding a small kernel-shaped tree (a 6.1
/// Makefile, include/, arch/x86/include/, a driver), in a directory of its
/// own with a private git configuration and a private temporary directory
/// for the programs the tests run. Used by the diff, hook, pre-commit and
/// b4 tests.
final class ScratchGitRepo {
    typealias Run = KPolicyBinary.Run

    /// Everything the repository's tests make: `repo/`, `tmp/`, `gitconfig`.
    let base: URL
    /// The top of the work tree (the kernel tree).
    let root: URL
    /// TMPDIR of every program run through this repository: kpolicy must
    /// leave nothing named kpolicy-* here.
    let tmp: URL

    /// The clean driver every repository starts with.
    static let cleanDriver = """
        void *module_alloc(unsigned long size);
        void module_memfree(void *p);

        int jit_setup(void)
        {
        \treturn 0;
        }

        """

    /// The clean driver plus a function calling module_alloc(): one
    /// `module-alloc-misuse` error at 11:9 on a 6.1 tree.
    static let badDriver = cleanDriver + """

        void *jit_alloc(unsigned long size)
        {
        \treturn module_alloc(size);
        }

        """

    /// The bad function, fixed: no module_alloc().
    static let fixedDriver = cleanDriver + """

        void *jit_alloc(unsigned long size)
        {
        \treturn (void *)0;
        }

        """

    static let finding = "drivers/misc/jit.c:11:9: error: module_alloc() called outside the module loader, in jit_alloc"

    /// Makes the tree; `init` makes it a git repository (without a commit).
    init(name: String, init gitInit: Bool = true) throws {
        base = FileManager.default.temporaryDirectory.appendingPathComponent("hookstest-\(name)-\(UUID().uuidString)")
        root = base.appendingPathComponent("repo")
        tmp = base.appendingPathComponent("tmp")
        let fm = FileManager.default
        for sub in ["arch/x86/include", "include/linux", "drivers/misc"] {
            try fm.createDirectory(at: root.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        try fm.createDirectory(at: tmp, withIntermediateDirectories: true)
        try "[user]\n\tname = Scratch Tester\n\temail = tester@example.org\n[init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n"
            .write(to: base.appendingPathComponent("gitconfig"), atomically: true, encoding: .utf8)
        try write("Makefile", "VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 0\nNAME = Scratch\n")
        try write("include/linux/types.h", "typedef unsigned long size_t;\n")
        try write("drivers/misc/jit.c", Self.cleanDriver)
        if gitInit { try git("init", "-q") }
    }

    deinit { try? FileManager.default.removeItem(at: base) }

    /// The environment of every program run here: git reads only our
    /// configuration, temporary files go to `tmp`.
    var environment: [String: String] {
        ["GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": base.appendingPathComponent("gitconfig").path,
         "TMPDIR": tmp.path, "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z"]
    }

    func write(_ path: String, _ text: String) throws {
        let url = root.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: false, encoding: .utf8)
    }

    /// git in the repository; fails the test when git fails, unless `check` is false.
    @discardableResult
    func git(_ arguments: String..., check: Bool = true, environment extra: [String: String] = [:],
             file: StaticString = #filePath, line: UInt = #line) throws -> Run {
        try git(arguments, check: check, environment: extra, file: file, line: line)
    }

    @discardableResult
    func git(_ arguments: [String], check: Bool = true, environment extra: [String: String] = [:],
             file: StaticString = #filePath, line: UInt = #line) throws -> Run {
        let run = try KPolicyBinary.execute(URL(fileURLWithPath: "/usr/bin/git"), arguments,
                                            environment: environment.merging(extra) { _, new in new }, in: root)
        if check, run.status != 0 {
            XCTFail("git \(arguments.joined(separator: " ")): \(run.stderr)", file: file, line: line)
        }
        return run
    }

    /// The built kpolicy, in the repository's top, with the repository's environment.
    func kpolicy(_ arguments: [String], environment extra: [String: String] = [:]) throws -> Run {
        try KPolicyBinary.run(arguments, environment: environment.merging(extra) { _, new in new }, in: root)
    }

    func commit(_ message: String) throws {
        try git("commit", "-q", "-m", message)
    }

    /// What must not change when kpolicy runs: `git status --porcelain`
    /// (run without taking optional locks, so the check itself writes
    /// nothing), and the bytes of every file under the top, `.git` and the
    /// index included.
    struct Snapshot: Equatable {
        var status: String
        var index: Data?
        var files: [String: Data]
    }

    func snapshot() throws -> Snapshot {
        let status = try git("--no-optional-locks", "status", "--porcelain", "--untracked-files=all", check: false).stdout
        var files: [String: Data] = [:]
        let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey])!
        for case let url as URL in enumerator where (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true {
            files[String(url.path.dropFirst(root.path.count + 1))] = try Data(contentsOf: url)
        }
        return Snapshot(status: status, index: files[".git/index"], files: files)
    }

    /// Runs kpolicy and checks that the repository is as it was and that
    /// the run left no kpolicy-* file in its temporary directory.
    func kpolicyLeavingTreeAlone(_ arguments: [String], environment extra: [String: String] = [:],
                                 file: StaticString = #filePath, line: UInt = #line) throws -> Run {
        let before = try snapshot()
        let run = try kpolicy(arguments, environment: extra)
        let after = try snapshot()
        XCTAssertEqual(before.status, after.status, "git status changed: kpolicy \(arguments)", file: file, line: line)
        XCTAssertEqual(before.index, after.index, "the index changed: kpolicy \(arguments)", file: file, line: line)
        let changed = Set(before.files.keys).union(after.files.keys).filter { before.files[$0] != after.files[$0] }
        XCTAssertEqual(changed.sorted(), [], "files changed: kpolicy \(arguments)", file: file, line: line)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: tmp.path).filter { $0.hasPrefix("kpolicy") }
        XCTAssertEqual(leftovers, [], "left in the temporary directory: kpolicy \(arguments)", file: file, line: line)
        return run
    }

    /// Makes a tracked file stat-dirty: same bytes, another modification
    /// time. A porcelain `git diff` then refreshes (rewrites) the index.
    func touch(_ path: String) throws {
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-3600)],
                                              ofItemAtPath: root.appendingPathComponent(path).path)
    }

    /// The directory the built kpolicy is in (for PATH).
    static func binaryDirectory() throws -> URL {
        try KPolicyBinary.binary().deletingLastPathComponent()
    }
}

extension XCTestCase {
    /// One `kpolicy:` line on stderr and the given status.
    func assertOneKPolicyLine(_ run: KPolicyBinary.Run, _ status: Int32, _ text: String,
                              file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(run.status, status, run.stdout + run.stderr, file: file, line: line)
        XCTAssertEqual(run.stderr.split(separator: "\n").count, 1, run.stderr, file: file, line: line)
        XCTAssert(run.stderr.hasPrefix("kpolicy: ") && run.stderr.contains(text), run.stderr, file: file, line: line)
    }
}
