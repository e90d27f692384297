import Foundation
import XCTest
import Analysis
import Extract
@testable import PathCheck

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

    /// While a worker parses a file whose IRs it will offer, a caller that
    /// asks for one of them waits for the offer instead of parsing the
    /// file again; once the worker is done, a name it did not offer is made
    /// by the caller.
    /// What the askers of `testACallerWaitsForTheSummariesAWorkerWillOffer` saw.
    final class Asked: @unchecked Sendable {
        let lock = NSLock()
        var made: [String] = []
        var got: [String: FunctionIR?] = [:]
        func with<T>(_ body: (Asked) -> T) -> T { lock.lock(); defer { lock.unlock() }; return body(self) }
    }

    static func definition(_ name: String, in path: String = "kernel/kp_core.c") -> TreeFunctions.Definition {
        TreeFunctions.Definition(name: name, path: path, line: 1, isStatic: false, isWeak: false, handsMemory: true)
    }

    static func ir(_ name: String, line: Int) -> FunctionIR {
        FunctionIR(name: name, position: Position(file: "kernel/kp_core.c", line: line, column: 1), blocks: [IRBlock()], objects: [:],
                   truncated: false)
    }

    /// While a worker parses a file whose IRs it will offer, a caller that
    /// asks for one of them waits for the offer instead of parsing the
    /// file again; once the worker is done, a name it did not offer is made
    /// by the caller.
    func testACallerWaitsForTheSummariesAWorkerWillOffer() {
        let store = SummaryStore()
        let asked = Asked()
        store.willOffer("kernel/kp_core.c")
        let done = DispatchGroup()
        for name in ["kp_page_alloc", "kp_other"] {
            DispatchQueue.global().async(group: done) {
                let ir = store.ir(of: CrossFileTests.definition(name)) {
                    asked.with { $0.made.append(name) }
                    return [name: CrossFileTests.ir(name, line: 2)]
                }
                asked.with { $0.got[name] = ir }
            }
        }
        Thread.sleep(forTimeInterval: 0.3)
        XCTAssertTrue(asked.with { $0.made.isEmpty && $0.got.isEmpty }, "nobody parses the file while its worker will offer it")
        store.offer([CrossFileTests.ir("kp_page_alloc", line: 1)], of: "kernel/kp_core.c", names: ["kp_page_alloc"])
        store.settled("kernel/kp_core.c")
        XCTAssertEqual(done.wait(timeout: .now() + 10), .success)
        asked.with { asked in
            XCTAssertEqual(asked.made, ["kp_other"])
            XCTAssertEqual(asked.got["kp_page_alloc"]??.position.line, 1)
            XCTAssertEqual(asked.got["kp_other"]??.position.line, 2)
        }
        // Nobody offering: made at once.
        XCTAssertEqual(store.ir(of: CrossFileTests.definition("x", in: "kernel/x.c")) { ["x": CrossFileTests.ir("x", line: 3)] }?.position.line, 3)
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
