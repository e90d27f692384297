import Foundation
import XCTest
import Analysis

/// Patches against the Debian 7.3 tree (Tests/Data/patches-7x, made with
/// git format-patch from the tree's own files) run through `kpolicy patch`:
/// what the 7.x execmem model and rules report on real code. The tree is
/// KPOLICY_TREE_7 or the kpolicy cache's linux-source-7; without it the
/// test is skipped.
final class Execmem7PatchTests: XCTestCase {
    static let data = CorpusTests.repo.appendingPathComponent("Tests/Data/patches-7x")

    struct Reported: Decodable {
        struct Finding: Decodable {
            struct Change: Decodable { var old: String; var text: String }
            struct Suggestion: Decodable { var validated: Bool; var changes: [Change]?; var replacement: String }
            var rule: String
            var message: String
            var file: String
            var line: Int
            var function: String?
            var suggestion: Suggestion?
        }
        var findings: [Finding]
    }

    func check(_ patch: String) throws -> [Reported.Finding] {
        let tree = try RealTrees.path("7")
        let cache = FileManager.default.temporaryDirectory.appendingPathComponent("kpolicy-execmem7-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: cache) }
        let run = try KPolicyBinary.run(["patch", Self.data.appendingPathComponent(patch).path, "--tree", tree,
                                         "--cache-dir", cache.path, "--format", "json"])
        XCTAssertEqual(run.status, 1, run.stderr)
        return try JSONDecoder().decode(Reported.self, from: Data(run.stdout.utf8)).findings
    }

    /// memcpy() into execmem_alloc(EXECMEM_KPROBES) memory: on x86 7.3 it is
    /// the ROX cache's, read-only already; text_poke_copy() is proven on
    /// the function's paths and written as a change.
    func testMemcpyIntoROXCacheKprobesPage() throws {
        let found = try check("0001-x86-kprobes-memcpy-into-execmem-kprobes-page.patch")
        let f = try XCTUnwrap(found.first { $0.rule == "write-to-readonly-text" }, "\(found.map(\.message))")
        XCTAssertEqual(f.file, "arch/x86/kernel/kprobes/core.c")
        XCTAssertEqual(f.function, "alloc_boost_page")
        let s = try XCTUnwrap(f.suggestion)
        XCTAssertTrue(s.validated)
        XCTAssertEqual(s.changes?.first?.old, "memcpy")
        XCTAssertEqual(s.changes?.first?.text, "text_poke_copy")
    }

    /// execmem_alloc_rw() memory with code copied in, returned without a
    /// restore; the restore suggestion is validated.
    func testAllocRWReturnedWithoutRestore() throws {
        let found = try check("0002-x86-ftrace-alloc-rw-returned-unrestored.patch")
        let f = try XCTUnwrap(found.first { $0.rule == "execmem-rox-not-restored" }, "\(found.map(\.message))")
        XCTAssertEqual(f.file, "arch/x86/kernel/ftrace.c")
        XCTAssertEqual(f.function, "create_jump_tramp")
        XCTAssertTrue(f.message.contains("execmem_restore_rox"), f.message)
        XCTAssertEqual(f.suggestion?.validated, true)
        // The real alloc_tramp() and create_trampoline() next to it are not reported.
        XCTAssertEqual(found.filter { $0.rule == "execmem-rox-not-restored" }.count, 1)
    }
}
