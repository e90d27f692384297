import ClangKit
import Foundation
import XCTest

/// ClangKit on small C files written to a temporary directory.
final class ClangKitTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("clangkit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    func write(_ name: String, _ text: String) throws -> String {
        let url = dir.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func testVersionIsDebianClang() {
        XCTAssertTrue(libclangVersion().contains("clang version"), libclangVersion())
    }

    func testFunctionsCallsAndMacroExpansions() throws {
        let path = try write("a.c", """
            #define VM_FLAG 0x100
            #define alloc(n) alloc_noprof(n)
            void *alloc_noprof(unsigned long n);
            static int helper(int x) { return x + 1; }
            void *user(void) {
                helper(VM_FLAG);
                return alloc(4096);
            }
            """)
        let unit = try TranslationUnit(index: ClangIndex(), path: path, arguments: ["-std=gnu11"],
                                       options: [.detailedPreprocessingRecord])
        XCTAssertTrue(unit.diagnostics.filter { $0.severity >= .error }.isEmpty, "\(unit.diagnostics)")
        var definitions: [String: StorageClass] = [:]
        var calls: [(String, Int)] = []
        var macros: [String] = []
        unit.cursor.visitChildren { cursor, _ in
            guard cursor.isInMainFile else { return .continue }
            if cursor.kind == .macroExpansion { macros.append(cursor.spelling) }
            if cursor.kind == .functionDecl, cursor.isDefinition { definitions[cursor.spelling] = cursor.storageClass }
            if cursor.kind == .callExpr { calls.append((cursor.spelling, cursor.location.line)) }
            return .recurse
        }
        XCTAssertEqual(definitions, ["helper": .static, "user": .none])
        XCTAssertEqual(calls.map(\.0), ["helper", "alloc_noprof"])
        XCTAssertEqual(calls.map(\.1), [6, 7])
        XCTAssertEqual(macros, ["VM_FLAG", "alloc"])
    }

    func testEvaluateAndTokens() throws {
        let path = try write("b.c", """
            #define SHIFT 3
            enum { BIG = 1 << SHIFT };
            int x = BIG + 2;
            """)
        let unit = try TranslationUnit(index: ClangIndex(), path: path, arguments: [])
        var value: EvaluatedValue?
        var spelled: [String] = []
        unit.cursor.visitChildren { cursor, _ in
            if cursor.kind == .varDecl, cursor.spelling == "x" {
                spelled = cursor.tokens.map(\.spelling)
                for child in cursor.children { value = child.evaluate() }
            }
            return .continue
        }
        XCTAssertEqual(value, .integer(10))
        XCTAssertEqual(spelled, ["int", "x", "=", "BIG", "+", "2"])
    }

    /// The tokens of every cursor's extent, from the main file's table,
    /// are what clang_tokenize gives for that extent: macros used and
    /// defined in the file, a macro from a header, comments, a range that
    /// ends in whitespace, a zero-width range.
    func testTokensFromTheMainFileTableAreClangTokenizes() throws {
        let header = try write("h.h", """
            #define HDR_CALL(p) do_it((p), 1)
            int do_it(void *p, int n);
            """)
        let path = try write("t.c", """
            #include "\(header)"
            #define LOCAL(x)   ((x) + /* inside */ 2)
            #define ALIAS p->image
            struct box { void *image; int n; };
            /* a comment before */
            static int f(struct box *p, int k)
            {
                    int v = LOCAL(k);   // trailing
                    if (v > 3 &&
                        ALIAS)
                            HDR_CALL(ALIAS);
                    switch (k) { case 1: v <<= 2; break; default: v = -v; }
                    return v ? v : LOCAL(v);
            }
            """)
        let unit = try TranslationUnit(index: ClangIndex(), path: path, arguments: ["-std=gnu11"],
                                       options: [.detailedPreprocessingRecord])
        var compared = 0, inMain = 0, fromTable = 0
        func walk(_ c: Cursor) {
            c.visitChildren { child, _ in
                if child.extent.startsInMainFile {
                    inMain += 1
                    if unit.mainFileTokens(in: child.extent) != nil { fromTable += 1 }
                }
                let fast = unit.tokens(in: child.extent).map { "\($0.kind) \($0.spelling) \($0.location)" }
                let slow = unit.tokenize(child.extent).map { "\($0.kind) \($0.spelling) \($0.location)" }
                XCTAssertEqual(fast, slow, "\(child.kind) \(child.spelling)")
                compared += 1
                return .recurse
            }
        }
        walk(unit.cursor)
        XCTAssertGreaterThan(compared, 40)
        XCTAssertGreaterThan(inMain, 40)
        XCTAssertGreaterThan(fromTable * 10, inMain * 9, "the main file's extents are answered from the table")
    }

    func testErrorsAreDiagnosticsNotThrows() throws {
        let path = try write("c.c", "int f( { return; }\n")
        let unit = try TranslationUnit(index: ClangIndex(), path: path, arguments: [])
        let errors = unit.diagnostics.filter { $0.severity >= .error }
        XCTAssertFalse(errors.isEmpty)
        XCTAssertEqual(errors.first?.location.line, 1)
    }

    func testMissingFileThrows() throws {
        XCTAssertThrowsError(try TranslationUnit(index: ClangIndex(), path: dir.appendingPathComponent("none.c").path, arguments: [])) { error in
            XCTAssertTrue(error is ClangError)
        }
    }

    func testParallelParsingWithOneIndexPerWorker() throws {
        let paths = try (0..<8).map { i in try write("p\(i).c", "int f\(i)(void) { return \(i); }\n") }
        final class Results: @unchecked Sendable {
            let lock = NSLock()
            var names: [Int: String] = [:]
        }
        let results = Results()
        DispatchQueue.concurrentPerform(iterations: paths.count) { i in
            guard let index = try? ClangIndex(),
                  let unit = try? TranslationUnit(index: index, path: paths[i], arguments: []) else { return }
            let name = unit.cursor.children.first?.spelling ?? ""
            results.lock.lock()
            results.names[i] = name
            results.lock.unlock()
        }
        XCTAssertEqual((0..<8).map { results.names[$0] }, (0..<8).map { "f\($0)" })
    }
}

/// Inclusions and precompiled headers.
final class ClangKitInclusionTests: XCTestCase {
    func testInclusionsListEveryFileReadOnceAndAPrecompiledHeaderLoads() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("clangkit-inc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("inc"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        func write(_ name: String, _ text: String) throws -> String {
            let url = dir.appendingPathComponent(name)
            try text.write(to: url, atomically: true, encoding: .utf8)
            return url.path
        }
        let a = try write("inc/a.h", "#pragma once\n#include \"b.h\"\nint a_fn(int);\n")
        let b = try write("inc/b.h", "#pragma once\n#define B_VALUE 7\nint b_fn(void);\n")
        let unused = try write("inc/unused.h", "int never(void);\n")
        let main = try write("main.c", "#include <a.h>\n#include <b.h>\nint f(void) { return a_fn(B_VALUE) + b_fn(); }\n")
        let index = try ClangIndex()
        let unit = try TranslationUnit(index: index, path: main, arguments: ["-I\(dir.path)/inc"])
        let files = unit.inclusions.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        XCTAssertEqual(files, [main, a, b].map { URL(fileURLWithPath: $0).standardizedFileURL.path })
        XCTAssertFalse(files.contains(unused))

        // A header saved as a PCH and loaded with -include-pch.
        let pchSource = try write("all.h", "#include <a.h>\n")
        let header = try TranslationUnit(index: index, path: pchSource, arguments: ["-x", "c-header", "-I\(dir.path)/inc"],
                                         options: [.incomplete, .forSerialization])
        let pch = dir.appendingPathComponent("all.pch").path
        try header.save(to: pch)
        let user = try write("user.c", "int g(void) { return a_fn(B_VALUE); }\n")
        let withPCH = try TranslationUnit(index: index, path: user, arguments: ["-include-pch", pch, "-I\(dir.path)/inc"])
        XCTAssertEqual(withPCH.diagnostics.filter { $0.severity >= .error }.map(\.message), [])
        let without = try TranslationUnit(index: index, path: user, arguments: ["-I\(dir.path)/inc"])
        XCTAssertFalse(without.diagnostics.filter { $0.severity >= .error }.isEmpty, "B_VALUE only exists through the PCH")
        // libclang 14 lists only what the parse itself read: the PCH's
        // headers are not inclusions (a cache must add them itself).
        XCTAssertEqual(withPCH.inclusions.map { URL(fileURLWithPath: $0).lastPathComponent }, ["user.c"])
    }
}
