import Foundation
import XCTest
import Analysis

/// A function of another file, on a scratch tree: its summary is read from
/// the tree, the finding names it, and changing it invalidates its
/// caller's cached result.
final class CrossFileTests: XCTestCase {
    let declarations = """
    void *module_alloc(unsigned long size);
    int set_memory_ro(unsigned long addr, int numpages);
    int set_memory_x(unsigned long addr, int numpages);
    void *memcpy(void *dst, const void *src, unsigned long n);

    """

    func tree() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("xfile-tree-\(UUID().uuidString)")
        for sub in ["arch/x86/include", "include", "kernel"] {
            try FileManager.default.createDirectory(at: dir.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        try "VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 0\n".write(to: dir.appendingPathComponent("Makefile"), atomically: true, encoding: .utf8)
        try (declarations + """
        int kp_use(const void *src)
        {
        \tvoid *p = kp_page_alloc();

        \tif (!p)
        \t\treturn -1;
        \tmemcpy(p, src, 4);
        \treturn 0;
        }
        """).replacingOccurrences(of: "int kp_use", with: "void *kp_page_alloc(void);\nint kp_use")
            .write(to: dir.appendingPathComponent("kernel/kp_user.c"), atomically: true, encoding: .utf8)
        try writeAllocator(in: dir, protect: true)
        return dir
    }

    func writeAllocator(in dir: URL, protect: Bool) throws {
        try (declarations + """
        void *kp_page_alloc(void)
        {
        \tvoid *p = module_alloc(4096);

        \tif (!p)
        \t\treturn 0;
        \(protect ? "\tset_memory_ro((unsigned long)p, 1);\n\tset_memory_x((unsigned long)p, 1);\n" : "")\treturn p;
        }
        """).write(to: dir.appendingPathComponent("kernel/kp_core.c"), atomically: true, encoding: .utf8)
    }

    struct Report: Decodable {
        struct Finding: Decodable { var rule: String; var file: String; var message: String; var through: [String]? }
        var findings: [Finding]
    }

    func check(_ tree: URL, cache: URL) throws -> [Report.Finding] {
        let run = try KPolicyBinary.run(["check", "kernel/kp_user.c", "--tree", tree.path, "--cache-dir", cache.path, "--format", "json",
                                         "--fail-on", "never"])
        XCTAssertEqual(run.status, 0, run.stderr)
        return try JSONDecoder().decode(Report.self, from: Data(run.stdout.utf8)).findings
    }

    func testAnotherFilesFunctionIsFollowedAndItsChangeInvalidatesTheCaller() throws {
        let tree = try tree()
        let cache = tree.appendingPathComponent(".kpolicy-test-cache")
        defer { try? FileManager.default.removeItem(at: tree) }
        let functions = try KPolicyBinary.run(["model", "functions", "--tree", tree.path])
        XCTAssertTrue(functions.stdout.contains("kp_page_alloc\n    kernel/kp_core.c:5"), functions.stdout)
        let before = try check(tree, cache: cache).filter { $0.rule == "write-to-readonly-text" }
        let f = try XCTUnwrap(before.first, "the page kp_page_alloc() returns is read-only")
        XCTAssertEqual(f.file, "kernel/kp_user.c")
        XCTAssertEqual(f.through, ["arm64", "ppc64", "riscv64", "s390", "x86_64"].map { "\($0): kp_page_alloc() kernel/kp_core.c:5 (definition)" })
        // The allocator no longer protects the page: the caller's cached
        // result depended on kernel/kp_core.c, so it is checked again.
        try writeAllocator(in: tree, protect: false)
        XCTAssertEqual(try check(tree, cache: cache).filter { $0.rule == "write-to-readonly-text" }.map(\.message), [])
    }
}
