import ClangKit
import Foundation
import XCTest
@testable import KPolicy
@testable import Kbuild
@testable import Analysis

/// Issue 12 ("Robustness and parse fidelity"): hostile rule files, globs,
/// caches and C end in one clear error or a correct result.
final class RobustnessTests: XCTestCase {
    static let repo = CorpusTests.repo

    var goodRule: String {
        get throws {
            try String(contentsOf: Self.repo.appendingPathComponent("Rules/vmalloc/flush-reset-perms-outside-core.yaml"), encoding: .utf8)
                .replacingOccurrences(of: "id: flush-reset-perms-outside-core", with: "id: bad-rule")
        }
    }

    func load(_ yaml: String) -> String? {
        do {
            _ = try RuleLoader.load(yaml: yaml, file: "Rules/x/bad-rule.yaml", id: "bad-rule", category: "x")
            return nil
        } catch {
            return "\(error)"
        }
    }

    func assertRefused(_ yaml: String, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        let start = Date()
        let message = load(yaml)
        XCTAssertLessThan(Date().timeIntervalSince(start), 5, file: file, line: line)
        XCTAssert(message?.contains("Rules/x/bad-rule.yaml") == true, "not refused, or file not named: \(message ?? "nil")", file: file, line: line)
        XCTAssert(message?.contains(expected) == true, "got \(message ?? "nil"), expected \(expected)", file: file, line: line)
    }

    // MARK: row 2: globs

    func testGlobMatchingIsIterativeAndPolynomial() {
        let longName = String(repeating: "a", count: 5_000) + ".c"
        let start = Date()
        // Each of these overflowed the stack or backtracked exponentially.
        XCTAssertTrue(PathGlob("**/" + String(repeating: "*", count: 100_000) + ".c").matches("drivers/" + longName))
        XCTAssertFalse(PathGlob("**/" + String(repeating: "*a", count: 25) + "*b.c").matches("drivers/" + longName))
        XCTAssertTrue(PathGlob(String(repeating: "**/", count: 2_000) + "*.c").matches("a/b/c/d.c"))
        XCTAssertFalse(PathGlob(String(repeating: "**/", count: 2_000) + "*.h").matches(String(repeating: "d/", count: 2_000) + "x.c"))
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
        // The semantics did not change.
        XCTAssertTrue(PathGlob("**").matches("a"))
        XCTAssertTrue(PathGlob("mm/**").matches("mm/a/b/c.c"))
        XCTAssertTrue(PathGlob("**/a/**/b.c").matches("x/a/y/z/b.c"))
        XCTAssertFalse(PathGlob("**/a/**/b.c").matches("x/y/z/b.c"))
        XCTAssertTrue(PathGlob("a?c/*x*y*.c").matches("abc/0x1y2.c"))
        XCTAssertFalse(PathGlob("a?c/*x*y*.c").matches("abc/0y1x2.c"))
        XCTAssertTrue(PathGlob("*.c").matches("main.c"))
        XCTAssertFalse(PathGlob("*.c").matches("mm/main.c"))
    }

    func testAbsurdGlobsAreRefusedAtRuleLoad() throws {
        let good = try goodRule
        let include = #"include: ["**/*.c", "**/*.h"]"#
        XCTAssertNil(load(good))
        assertRefused(good.replacingOccurrences(of: include, with: "include: [\"**/" + String(repeating: "*", count: 100_000) + ".c\"]"),
                      "field 'scope.include[0]' is a glob of 100005 bytes")
        assertRefused(good.replacingOccurrences(of: include, with: "include: [\"**/*.c\", \"" + String(repeating: "**/", count: 70) + "*.c\"]"),
                      "field 'scope.include[1]' is a glob of 71 path components")
        assertRefused(good.replacingOccurrences(of: include, with: "include: [\"\"]"), "field 'scope.include[0]'")
    }

    // MARK: rows 5, 7, duplicate keys: YAML

    func testHostileYAMLInRuleFiles() throws {
        let good = try goodRule
        assertRefused(good + "x: " + String(repeating: "[", count: 20_000) + String(repeating: "]", count: 20_000) + "\n", "nested more than")
        var deep = good + "x:\n"
        for depth in 1...5_000 { deep += String(repeating: " ", count: depth) + "y:\n" }
        assertRefused(deep, "nested more than")
        var laughs = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for i in 1...9 { laughs += "a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]\n" }
        assertRefused(good + laughs, "aliases expand the document")
        assertRefused(good.replacingOccurrences(of: "severity: warning", with: "severity: warning\nseverity: error"),
                      "field 'severity' given twice")
    }

    // MARK: row 17: rules that would never fire

    func testRulesThatCouldNeverFireAreRefused() throws {
        let good = try goodRule
        let triggers = "triggers: [VM_FLUSH_RESET_PERMS, set_vm_flush_reset_perms]"
        assertRefused(good.replacingOccurrences(of: triggers, with: #"triggers: ["__vmalloc_node_range(", VM_FLUSH_RESET_PERMS, set_vm_flush_reset_perms]"#),
                      "field 'triggers[0]' \"__vmalloc_node_range(\" is not a C identifier")
        assertRefused(good.replacingOccurrences(of: triggers, with: #"triggers: [VM_FLUSH_RESET_PERMS, set_vm_flush_reset_perms, ""]"#),
                      "field 'triggers[2]'")
        assertRefused(good.replacingOccurrences(of: triggers, with: "triggers: [VM_FLUSH_RESET_PERMS]"),
                      "field 'triggers' lacks set_vm_flush_reset_perms")
        assertRefused(good + "kernel:\n  since: \"7.0\"\n  until: \"5.0\"\n", "field 'kernel.until' (5.0.0) must be later than kernel.since (7.0.0)")
        XCTAssertNil(load(good + "kernel:\n  since: \"5.0\"\n  until: \"7.0\"\n"))
    }

    func testEmptyRulesDirectoryIsBadInput() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("empty-rules-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("exec-memory"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = try KPolicyBinary.run(["rules", "list", "--rules", dir.path])
        XCTAssertEqual(run.status, 2, run.stderr)
        XCTAssertEqual(run.stderr.split(separator: "\n").count, 1, run.stderr)
        XCTAssertTrue(run.stderr.hasPrefix("kpolicy: ") && run.stderr.contains("holds no rule files"), run.stderr)
    }

    // MARK: row 12: the cache directory

    func testCacheDirectoryHonoursTheEnvironment() {
        let pw = Workspace.passwordFileHome()
        XCTAssertNotNil(pw)
        XCTAssertEqual(Workspace.cacheRoot(environment: ["KPOLICY_CACHE": "/k", "XDG_CACHE_HOME": "/x", "HOME": "/h"]).path, "/k")
        XCTAssertEqual(Workspace.cacheRoot(environment: ["XDG_CACHE_HOME": "/x", "HOME": "/h"]).path, "/x/kpolicy")
        XCTAssertEqual(Workspace.cacheRoot(environment: ["XDG_CACHE_HOME": "relative", "HOME": "/h"]).path, "/h/.cache/kpolicy")
        XCTAssertEqual(Workspace.cacheRoot(environment: ["XDG_CACHE_HOME": "", "HOME": "/h"]).path, "/h/.cache/kpolicy")
        XCTAssertEqual(Workspace.cacheRoot(environment: ["HOME": "/somewhere/else"]).path, "/somewhere/else/.cache/kpolicy")
        XCTAssertEqual(Workspace.cacheRoot(environment: [:]).path, (pw ?? "") + "/.cache/kpolicy")
    }

    // MARK: row 18: a damaged overlay

    func fakeTree() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fake-tree-\(UUID().uuidString)")
        for sub in ["arch/x86/include/asm", "include/asm-generic", "drivers"] {
            try FileManager.default.createDirectory(at: dir.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        try "VERSION = 6\nPATCHLEVEL = 12\nSUBLEVEL = 0\n".write(to: dir.appendingPathComponent("Makefile"), atomically: true, encoding: .utf8)
        try "mandatory-y += barrier.h\n".write(to: dir.appendingPathComponent("include/asm-generic/Kbuild"), atomically: true, encoding: .utf8)
        return dir
    }

    func testDamagedOverlayIsRebuilt() throws {
        let tree = try fakeTree()
        let cache = FileManager.default.temporaryDirectory.appendingPathComponent("kpolicy-cache-\(UUID().uuidString)")
        defer {
            try? FileManager.default.removeItem(at: tree)
            try? FileManager.default.removeItem(at: cache)
        }
        let kernelTree = try KernelTree(path: tree.path)
        let overlay = try GeneratedHeaders.overlay(for: kernelTree, arch: "x86", cacheRoot: cache)
        let autoconf = overlay.root.appendingPathComponent("include/generated/autoconf.h")
        let wrapper = overlay.root.appendingPathComponent("arch/x86/include/generated/asm/barrier.h")
        let original = try String(contentsOf: autoconf, encoding: .utf8)
        XCTAssertTrue(original.contains("CONFIG_"), original)
        XCTAssertTrue(FileManager.default.fileExists(atPath: wrapper.path))
        for damage in ["", "garbage\n"] {
            try damage.write(to: autoconf, atomically: true, encoding: .utf8)
            let again = try GeneratedHeaders.overlay(for: kernelTree, arch: "x86", cacheRoot: cache)
            XCTAssertEqual(again.root.standardizedFileURL.path, overlay.root.standardizedFileURL.path)
            XCTAssertEqual(try String(contentsOf: autoconf, encoding: .utf8), original, "autoconf.h \(damage.isEmpty ? "emptied" : "garbled") was trusted")
        }
        try FileManager.default.removeItem(at: wrapper)
        _ = try GeneratedHeaders.overlay(for: kernelTree, arch: "x86", cacheRoot: cache)
        XCTAssertTrue(FileManager.default.fileExists(atPath: wrapper.path), "a missing overlay file was trusted")
        // A stub added on demand keeps the overlay valid.
        XCTAssertTrue(overlay.stub(include: "generated/extra.h"))
        XCTAssertTrue(GeneratedHeaders.verify(overlay.root))
        // Made by another worker since this one's parse missed it: there,
        // so that parse runs again (a whole-tree run once kept xe_gsc.c's
        // "'generated/xe_wa_oob.h' file not found" this way).
        XCTAssertTrue(overlay.stub(include: "generated/extra.h"))
        XCTAssertFalse(overlay.stub(include: "linux/not-generated.h"))
    }

    // MARK: row 1: deeply nested C

    /// An `else if` chain of 10,000 and an expression of 50,000 terms: both
    /// overflowed libclang's 8 MiB parse thread (exit 139, nothing said).
    func deepTree() throws -> URL {
        let tree = try fakeTree()
        var deep = "void *module_alloc(unsigned long size);\nvoid *deep_alloc(void) { return module_alloc(4096); }\n"
        deep += "int deep_chain(int a)\n{\n\tif (a == 0)\n\t\treturn 0;\n"
        for i in 1..<10_000 { deep += "\telse if (a == \(i))\n\t\treturn \(i);\n" }
        deep += "\treturn -1;\n}\nint deep_sum = " + Array(repeating: "1", count: 50_000).joined(separator: " + ") + ";\n"
        try deep.write(to: tree.appendingPathComponent("drivers/deep.c"), atomically: true, encoding: .utf8)
        try "void *module_alloc(unsigned long size);\nvoid *plain_alloc(void) { return module_alloc(4096); }\n"
            .write(to: tree.appendingPathComponent("drivers/plain.c"), atomically: true, encoding: .utf8)
        return tree
    }

    func testDeeplyNestedCIsParsedAndChecked() throws {
        let tree = try deepTree()
        let cache = FileManager.default.temporaryDirectory.appendingPathComponent("kpolicy-cache-\(UUID().uuidString)")
        defer {
            try? FileManager.default.removeItem(at: tree)
            try? FileManager.default.removeItem(at: cache)
        }
        setenv("KPOLICY_CACHE", cache.path, 1)
        defer { unsetenv("KPOLICY_CACHE") }
        let parse = try KPolicyBinary.run(["parse", "--tree", tree.path, tree.appendingPathComponent("drivers/deep.c").path])
        XCTAssertEqual(parse.status, 0, parse.stderr)
        XCTAssertTrue(parse.stdout.contains("deep_chain") && parse.stdout.contains("deep_alloc"), parse.stdout)
        let check = try KPolicyBinary.run(["check", "--tree", tree.path, "drivers/deep.c", "drivers/plain.c"])
        XCTAssertEqual(check.status, 1, check.stderr)
        XCTAssertTrue(check.stdout.contains("drivers/deep.c:2:") && check.stdout.contains("in deep_alloc"), check.stdout)
        XCTAssertTrue(check.stdout.contains("drivers/plain.c:2:"), "the second file was not checked: \(check.stdout)")
    }
}
