import Foundation
import XCTest
@testable import KPolicy
@testable import PatchInput
@testable import KPolicyCache

/// `kpolicy diff` on a real git repository holding a small kernel-shaped
/// tree: staged against unstaged changes, revisions and ranges, a
/// repository without a commit, bad input, and — after every run — the
/// repository exactly as it was (status, index, every file, `.git`
/// included) and nothing left in the temporary directory.
final class DiffCommandTests: XCTestCase {
    var repo: ScratchGitRepo!

    override func setUpWithError() throws {
        repo = try ScratchGitRepo(name: "diff")
        try repo.git("add", "-A")
        try repo.commit("clean driver")
    }

    override func tearDown() { repo = nil }

    func diff(_ arguments: String..., file: StaticString = #filePath, line: UInt = #line) throws -> KPolicyBinary.Run {
        try repo.kpolicyLeavingTreeAlone(["diff", "--tree", repo.root.path] + arguments, file: file, line: line)
    }

    func assertFinding(_ run: KPolicyBinary.Run, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(run.status, 1, run.stdout + run.stderr, file: file, line: line)
        XCTAssert(run.stdout.contains(ScratchGitRepo.finding), run.stdout, file: file, line: line)
        XCTAssertEqual(run.stderr, "", file: file, line: line)
    }

    func assertClean(_ run: KPolicyBinary.Run, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(run.status, 0, run.stdout + run.stderr, file: file, line: line)
        XCTAssertFalse(run.stdout.contains("module_alloc"), run.stdout, file: file, line: line)
        XCTAssertEqual(run.stderr, "", file: file, line: line)
    }

    /// A bad change staged, then fixed in the work tree only: --cached reads
    /// the staged blob (what the commit would record), plain diff the work
    /// tree against the index, REV the work tree against REV. An unrelated
    /// stat-dirty file (same bytes, new mtime) must not make any of them
    /// rewrite the index, as a porcelain `git diff` would.
    func testStagedAgainstWorkTree() throws {
        try repo.write("drivers/misc/jit.c", ScratchGitRepo.badDriver)
        try repo.git("add", "drivers/misc/jit.c")
        try repo.write("drivers/misc/jit.c", ScratchGitRepo.fixedDriver)
        try repo.touch("Makefile")
        XCTAssertEqual(try repo.git("status", "--porcelain").stdout, "MM drivers/misc/jit.c\n")
        try repo.touch("include/linux/types.h")

        let staged = try diff("--cached")
        assertFinding(staged)
        XCTAssert(staged.stdout.contains("1 finding"), staged.stdout)
        assertClean(try diff())
        assertClean(try diff("HEAD"))
        // The same through the machine-readable formats.
        let json = try diff("--cached", "--format", "json")
        XCTAssertEqual(json.status, 1)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let findings = try XCTUnwrap(report["findings"] as? [[String: Any]])
        XCTAssertEqual(findings.map { $0["rule"] as? String }, ["module-alloc-misuse"])
        XCTAssertEqual(findings.first?["line"] as? Int, 11)
        let checkpatch = try diff("--cached", "--format", "checkpatch")
        XCTAssertEqual(checkpatch.stdout.split(separator: "\n").count, 1, checkpatch.stdout)
        XCTAssert(checkpatch.stdout.hasPrefix("drivers/misc/jit.c:11: ERROR: module_alloc()"), checkpatch.stdout)
    }

    /// A change that makes an unchanged line a finding: the pgprot's
    /// initialiser becomes PAGE_KERNEL_EXEC, the vmap() call below it (not
    /// changed) is now a W+X mapping. Found only when the function before
    /// the change is parsed from the diff's base (HEAD for --cached, the
    /// index for plain diff), not from the work tree, which already holds
    /// the change.
    func testFindingOnAnUnchangedLineOfATouchedFunction() throws {
        let map = """
            typedef struct { unsigned long pgprot; } pgprot_t;
            struct page;
            #define PAGE_KERNEL ((pgprot_t){ 0x63 })
            #define PAGE_KERNEL_EXEC ((pgprot_t){ 0x163 })
            void *vmap(struct page **pages, unsigned int count, unsigned long flags, pgprot_t prot);

            void *map_buffer(struct page **pages, unsigned int n)
            {
            \tpgprot_t prot = PAGE_KERNEL;

            \treturn vmap(pages, n, 0, prot);
            }

            """
        try repo.write("drivers/misc/map.c", map)
        try repo.git("add", "drivers/misc/map.c")
        try repo.commit("map")
        let finding = "drivers/misc/map.c:11:9: error: vmap() maps memory writable and executable (PAGE_KERNEL_EXEC) in map_buffer"
        try repo.write("drivers/misc/map.c", map.replacingOccurrences(of: "prot = PAGE_KERNEL;", with: "prot = PAGE_KERNEL_EXEC;"))
        let unstaged = try diff()
        XCTAssertEqual(unstaged.status, 1, unstaged.stdout + unstaged.stderr)
        XCTAssert(unstaged.stdout.contains(finding), unstaged.stdout)
        try repo.git("add", "drivers/misc/map.c")
        let staged = try diff("--cached")
        XCTAssertEqual(staged.status, 1, staged.stdout + staged.stderr)
        XCTAssert(staged.stdout.contains(finding), staged.stdout)
        try repo.commit("exec")
        XCTAssert(try diff("HEAD~1..HEAD").stdout.contains(finding))
    }

    /// The tree knowledge (mm/vmalloc.c's internal functions) is cached by
    /// content: a warm run finds what a cold one found, and a changed
    /// mm/internal.h gives a new entry and a new answer.
    func testTreeKnowledgeCacheFollowsTheTree() throws {
        try repo.write("mm/internal.h", "void *vm_secret_map(unsigned long size);\n")
        try repo.write("mm/vmalloc.c", "#include \"internal.h\"\n\nvoid *vm_secret_map(unsigned long size)\n{\n\treturn 0;\n}\n")
        try repo.git("add", "mm")
        try repo.commit("mm")
        try repo.write("drivers/misc/user.c", "void *vm_secret_map(unsigned long size);\n\nvoid *user(void)\n{\n\treturn vm_secret_map(4096);\n}\n")
        try repo.git("add", "drivers/misc/user.c")
        let cache = repo.base.appendingPathComponent("cache")
        let entries = { (try? ResultCache(directory: cache, warn: { _ in }))?.entryCount(kind: "knowledge") ?? 0 }
        let finding = "drivers/misc/user.c:5:9: error: the mm-internal vmalloc function vm_secret_map() is called from drivers/misc/user.c"
        let cold = try repo.kpolicyLeavingTreeAlone(["diff", "--cached", "--tree", repo.root.path], environment: ["KPOLICY_CACHE": cache.path])
        XCTAssertEqual(cold.status, 1, cold.stdout + cold.stderr)
        XCTAssert(cold.stdout.contains(finding), cold.stdout)
        XCTAssertEqual(entries(), 1)
        let warm = try repo.kpolicyLeavingTreeAlone(["diff", "--cached", "--tree", repo.root.path], environment: ["KPOLICY_CACHE": cache.path])
        XCTAssertEqual(warm.status, 1)
        XCTAssert(warm.stdout.contains(finding), warm.stdout)
        XCTAssertEqual(entries(), 1)
        // No longer declared in the internal header: not internal any more.
        try repo.write("mm/internal.h", "/* nothing */\n")
        let changed = try repo.kpolicyLeavingTreeAlone(["diff", "--cached", "--tree", repo.root.path], environment: ["KPOLICY_CACHE": cache.path])
        XCTAssertEqual(changed.status, 0, changed.stdout)
        XCTAssertEqual(entries(), 2)
        // --no-cache: derived again, nothing kept.
        let uncached = repo.base.appendingPathComponent("uncached")
        let plain = try repo.kpolicyLeavingTreeAlone(["diff", "--cached", "--tree", repo.root.path, "--no-cache", "--cache-dir", uncached.path])
        XCTAssertEqual(plain.status, 0, plain.stdout + plain.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: uncached.appendingPathComponent(ResultCache.fileName).path))
    }

    /// Committed changes: a range, a revision against the work tree, a
    /// revision against the index; then the fix committed on top.
    func testRevisionsAndRanges() throws {
        try repo.write("drivers/misc/jit.c", ScratchGitRepo.badDriver)
        try repo.git("add", "drivers/misc/jit.c")
        try repo.commit("bad")
        try repo.write("drivers/misc/jit.c", ScratchGitRepo.fixedDriver)   // not staged

        assertFinding(try diff("HEAD~1..HEAD"))
        assertFinding(try diff("HEAD~1.."))
        assertFinding(try diff("--cached", "HEAD~1"))     // the index holds the bad commit's file
        assertClean(try diff("HEAD~1"))                   // the work tree is fixed
        let fixes = try diff("HEAD")                      // removing module_alloc() introduces nothing
        assertClean(fixes)
        XCTAssert(fixes.stdout.contains("0 findings"), fixes.stdout)

        try repo.git("commit", "-q", "-a", "-m", "fix")
        assertClean(try diff("HEAD~1..HEAD"))
        assertClean(try diff("HEAD~2..HEAD"))
        assertFinding(try diff("HEAD~2..HEAD~1"))
        assertClean(try diff())                            // nothing changed: an empty report
        assertClean(try diff("--cached"))
    }

    /// A repository without a commit yet: everything staged is new.
    func testRepositoryWithoutCommits() throws {
        let fresh = try ScratchGitRepo(name: "diff-fresh")
        try fresh.write("drivers/misc/jit.c", ScratchGitRepo.badDriver)
        try fresh.git("add", "-A")
        let staged = try fresh.kpolicyLeavingTreeAlone(["diff", "--cached", "--tree", fresh.root.path])
        assertFinding(staged)
        assertClean(try fresh.kpolicyLeavingTreeAlone(["diff", "--tree", fresh.root.path]))
        assertOneKPolicyLine(try fresh.kpolicyLeavingTreeAlone(["diff", "HEAD", "--tree", fresh.root.path]), 2, "HEAD: is not a commit")
        // Staged, then removed from the work tree: the staged blob is what counts.
        try FileManager.default.removeItem(at: fresh.root.appendingPathComponent("drivers/misc/jit.c"))
        assertFinding(try fresh.kpolicyLeavingTreeAlone(["diff", "--cached", "--tree", fresh.root.path]))
    }

    /// Bad input: one `kpolicy:` line and exit 2 (64 for a bad command line),
    /// and nothing written — not even by a revision that looks like an option.
    func testBadInput() throws {
        // A kernel tree that is not in a git repository.
        let plain = try ScratchGitRepo(name: "diff-plain", init: false)
        let notRepo = try plain.kpolicyLeavingTreeAlone(["diff", "--tree", plain.root.path])
        assertOneKPolicyLine(notRepo, 2, "not a git repository")
        // A kernel tree in a subdirectory of a repository: not the top.
        let outer = try ScratchGitRepo(name: "diff-outer", init: false)
        let inner = outer.root.appendingPathComponent("linux")
        try FileManager.default.createDirectory(at: inner, withIntermediateDirectories: true)
        try "VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 0\n".write(to: inner.appendingPathComponent("Makefile"), atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(at: inner.appendingPathComponent("include"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: inner.appendingPathComponent("arch/x86/include"), withIntermediateDirectories: true)
        try outer.git("init", "-q")
        assertOneKPolicyLine(try outer.kpolicyLeavingTreeAlone(["diff", "--tree", inner.path]), 2, "is not the top of its git work tree")

        assertOneKPolicyLine(try diff("no-such-revision"), 2, "no-such-revision: is not a commit")
        assertOneKPolicyLine(try diff("HEAD..no-such-revision"), 2, "is not a range of two commits")
        assertOneKPolicyLine(try diff("--cached", "no-such-revision"), 2, "no-such-revision: is not a commit")
        let blob = try repo.git("rev-parse", "HEAD:Makefile").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        assertOneKPolicyLine(try diff(blob), 2, "is not a commit")
        assertOneKPolicyLine(try diff("--cached", "HEAD~1..HEAD"), 64, "--cached")
        // An option in disguise is a revision that does not exist, and git writes nothing.
        let target = repo.tmp.appendingPathComponent("written-by-git").path
        assertOneKPolicyLine(try diff("--", "--output=\(target)"), 2, "is not a commit")
        assertOneKPolicyLine(try diff("--", "--output=\(target)..HEAD"), 2, "is not a range")
        XCTAssertFalse(FileManager.default.fileExists(atPath: target))
    }
}
