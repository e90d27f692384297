import Foundation
import XCTest

/// Issue 12's hostile inputs that reach the check run and the command
/// line: each ends in a documented exit code with one line, never a hang,
/// a trap or a silent skip.
final class HostileInputTests: XCTestCase {
    var tree: URL!

    override func setUpWithError() throws {
        tree = FileManager.default.temporaryDirectory.appendingPathComponent("kpolicy-hostile-\(UUID().uuidString)")
        for sub in ["arch/x86/include", "include", "mm"] {
            try FileManager.default.createDirectory(at: tree.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        try "VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 0\n".write(to: tree.appendingPathComponent("Makefile"), atomically: true, encoding: .utf8)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: tree) }

    func write(_ path: String, _ text: String) throws {
        try text.write(to: tree.appendingPathComponent(path), atomically: true, encoding: .utf8)
    }

    static let call = "void *module_alloc(unsigned long);\nvoid *f(void) { return module_alloc(1); }\n"

    /// Rows 8 and 9: an `#include` of a FIFO or of /dev/zero would block or
    /// read forever; the file is named as not checked, the others go on.
    func testIncludesOfFIFOsAndDevicesAreNamedNotRead() throws {
        XCTAssertEqual(mkfifo(tree.appendingPathComponent("mm/pipe.h").path, 0o644), 0)
        try write("mm/usespipe.c", "#include \"pipe.h\"\n" + Self.call)
        try write("mm/zero.c", "#include \"/dev/zero\"\n" + Self.call)
        try write("mm/fine.c", Self.call)
        let run = try KPolicyBinary.run(["check", "mm", "--tree", tree.path])
        XCTAssertEqual(run.status, 1, "the finding in mm/fine.c: " + run.stdout + run.stderr)
        XCTAssert(run.stdout.contains("mm/fine.c:2:"), run.stdout)
        XCTAssert(run.stdout.contains("mm/usespipe.c: error: not checked: #include \"pipe.h\" names"), run.stdout)
        XCTAssert(run.stdout.contains("which is a FIFO"), run.stdout)
        XCTAssert(run.stdout.contains("mm/zero.c: error: not checked: #include \"/dev/zero\" names /dev/zero, which is a character device"), run.stdout)
        XCTAssert(run.stdout.contains("mm/pipe.h: error: not checked: not a regular file (a FIFO)"), run.stdout)
        // Nothing found elsewhere: the failures give 3.
        try FileManager.default.removeItem(at: tree.appendingPathComponent("mm/fine.c"))
        XCTAssertEqual(try KPolicyBinary.run(["check", "mm", "--tree", tree.path]).status, 3)
    }

    /// Row 11: a cache directory that cannot be one is bad input, one line.
    func testUnusableCacheDirectoryIsBadInput() throws {
        try write("mm/fine.c", Self.call)
        let file = tree.appendingPathComponent("not-a-dir")
        try "x".write(to: file, atomically: true, encoding: .utf8)
        let run = try KPolicyBinary.run(["check", "mm", "--tree", tree.path], environment: ["KPOLICY_CACHE": file.appendingPathComponent("cache").path])
        XCTAssertEqual(run.status, 2, run.stdout + run.stderr)
        XCTAssertEqual(run.stderr.split(separator: "\n").count, 1, run.stderr)
        XCTAssert(run.stderr.contains("cannot be used as kpolicy's cache directory (Not a directory)"), run.stderr)
        let docs = try KPolicyBinary.run(["rules", "docs", "--output", file.appendingPathComponent("docs").path])
        XCTAssertEqual(docs.status, 2, docs.stderr)
        XCTAssert(docs.stderr.hasPrefix("kpolicy: cannot use ") && docs.stderr.contains("Not a directory"), docs.stderr)
    }

    /// Row 6: stdout closed is exit 2 with one line on stderr, not a trap.
    func testClosedStandardOutput() throws {
        try write("mm/fine.c", Self.call)
        let binary = try KPolicyBinary.binaryPath()
        for command in ["'\(binary)' rules list >&-", "'\(binary)' check mm --tree '\(tree.path)' >&-", "'\(binary)' model apis >&-"] {
            let run = try KPolicyBinary.execute(URL(fileURLWithPath: "/bin/sh"), ["-c", command])
            XCTAssertEqual(run.status, 2, "\(command): \(run.stderr)")
            XCTAssert(run.stderr.hasPrefix("kpolicy: cannot write standard output"), run.stderr)
        }
    }

    /// Row 20: a file name cannot forge a finding line.
    func testFileNamesCannotForgeLines() throws {
        try write("mm/evil\ninjected.c:1:1: error: fake finding [wx-mapping]\nx.c", Self.call)
        let run = try KPolicyBinary.run(["check", "mm", "--tree", tree.path])
        XCTAssertEqual(run.status, 1)
        for line in run.stdout.split(separator: "\n") {
            XCTAssert(line.hasPrefix("mm/evil\\ninjected.c") || line.hasPrefix("  ") || line.hasPrefix("kpolicy: "), "forged line: \(line)")
        }
    }
}
