import Foundation
import XCTest

/// The built `kpolicy` binary, run as a user would: bad input gets one
/// line on stderr and a documented exit code (docs/exit-codes.md).
final class CommandLineTests: XCTestCase {
    typealias Run = KPolicyBinary.Run
    func kpolicy(_ arguments: [String]) throws -> Run { try KPolicyBinary.run(arguments) }

    func fakeTree() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fake-tree-\(UUID().uuidString)")
        for sub in ["arch/x86/include", "include"] {
            try FileManager.default.createDirectory(at: dir.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        try "VERSION = 6\nPATCHLEVEL = 12\nSUBLEVEL = 0\n".write(to: dir.appendingPathComponent("Makefile"), atomically: true, encoding: .utf8)
        return dir
    }

    func assertOneLineError(_ run: Run, status: Int32, contains text: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(run.status, status, run.stderr, file: file, line: line)
        let lines = run.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, run.stderr, file: file, line: line)
        XCTAssertTrue(run.stderr.hasPrefix("kpolicy: "), run.stderr, file: file, line: line)
        XCTAssertTrue(run.stderr.contains(text), run.stderr, file: file, line: line)
    }

    /// --help (of kpolicy and of a subcommand) and --version are clean exits
    /// with their text on stdout, not errors.
    func testHelpAndVersion() throws {
        for arguments in [["--help"], ["check", "--help"], ["help", "check"], ["--version"]] {
            let run = try kpolicy(arguments)
            XCTAssertEqual(run.status, 0, "\(arguments): \(run.stderr)")
            XCTAssertFalse(run.stdout.isEmpty, "\(arguments)")
            XCTAssertFalse(run.stderr.contains("internal error"), "\(arguments): \(run.stderr)")
        }
        for command in ["check", "parse", "rules"] {
            XCTAssertTrue(try kpolicy([command, "--help"]).stdout.contains("USAGE: kpolicy \(command)"), command)
        }
        XCTAssert(try kpolicy(["check", "--help"]).stdout.contains("--pch-fidelity"))
        XCTAssert(try kpolicy(["parse", "--help"]).stdout.contains("--time-limit"))
    }

    func testNotAKernelTree() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("not-a-tree-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        assertOneLineError(try kpolicy(["parse", "--tree", dir.path, dir.appendingPathComponent("a.c").path]),
                           status: 2, contains: "not a Linux kernel source tree")
    }

    func testMissingFileOutsideFileAndDirectory() throws {
        let tree = try fakeTree()
        defer { try? FileManager.default.removeItem(at: tree) }
        assertOneLineError(try kpolicy(["parse", "--tree", tree.path, tree.appendingPathComponent("missing.c").path]),
                           status: 2, contains: "no such file")
        assertOneLineError(try kpolicy(["parse", "--tree", tree.path, "/etc/hostname"]),
                           status: 2, contains: "not inside the tree")
        assertOneLineError(try kpolicy(["parse", "--tree", tree.path, tree.appendingPathComponent("include").path]),
                           status: 2, contains: "is a directory")
        assertOneLineError(try kpolicy(["parse", "--tree", tree.path, "--arch", "vax", tree.appendingPathComponent("a.c").path]),
                           status: 2, contains: "no arch/vax")
    }

    func testBrokenCodeIsReportedNotFatal() throws {
        let tree = try fakeTree()
        defer { try? FileManager.default.removeItem(at: tree) }
        let file = tree.appendingPathComponent("broken.c")
        try Data([0x69, 0x6e, 0x74, 0x20, 0x7b, 0xff, 0x00, 0x28]).write(to: file)
        let run = try kpolicy(["parse", "--tree", tree.path, "--format", "json", file.path])
        XCTAssertEqual(run.status, 0, run.stderr)
        let json = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
        let files = json?["files"] as? [[String: Any]]
        XCTAssertEqual(files?.count, 1)
        XCTAssertFalse((files?.first?["mainFileErrors"] as? [String] ?? []).isEmpty)
    }

    func testBadCommandLine() throws {
        let run = try kpolicy(["parse"])
        XCTAssertEqual(run.status, 64)
        // One line, pointing at the help of the command the user typed.
        for (arguments, help) in [(["--bogus"], "'kpolicy --help'"), (["check", "--bogus"], "'kpolicy check --help'"),
                                  (["hook", "install", "--bogus"], "'kpolicy hook install --help'")] {
            let bad = try kpolicy(arguments)
            XCTAssertEqual(bad.status, 64, bad.stderr)
            XCTAssert(bad.stderr.hasPrefix("kpolicy: ") && bad.stderr.hasSuffix("(see \(help))\n"), bad.stderr)
            XCTAssertEqual(bad.stderr.filter { $0 == "\n" }.count, 1, bad.stderr)
        }
    }
}
