import Foundation
import KPolicy
import Testing
import Analysis

/// `kpolicy rules test`: the corpus, one test per file, with no kernel
/// tree (internal sets from the cases themselves); and the command on a
/// directory of someone's own cases.
@Suite("Rules test", .serialized)
struct RulesTestCommandTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Corpus")
    static let files: [String] = ((try? RuleTest.cases(in: corpus)) ?? []).map(\.lastPathComponent)

    /// One runner for the suite (libclang index and the cases' internal
    /// sets); the suite is serialized, so one test uses it at a time.
    nonisolated(unsafe) static let runner: CorpusRunner? = {
        guard let rules = try? RuleSet.builtIn(),
              let runner = try? CorpusRunner(rules: rules, includeDirectory: corpus.appendingPathComponent("include")),
              let cases = try? RuleTest.cases(in: corpus),
              let internals = try? RuleTest.internals(for: rules, cases: cases, runner: runner) else { return nil }
        runner.internals = internals
        guard (try? runner.useAsTree(cases)) != nil else { return nil }
        return runner
    }()

    @Test func theCorpusIsThere() { #expect(Self.files.count >= 40) }

    @Test(arguments: files)
    func corpusFilePassesWithoutATree(_ name: String) throws {
        let runner = try #require(Self.runner)
        let file = try #require(try RuleTest.cases(in: Self.corpus).first { $0.lastPathComponent == name })
        let outcome = try RuleTest.run(file, name: name, runner: runner)
        #expect(outcome.problems.isEmpty, "\(outcome.problems.joined(separator: "\n"))")
    }

    /// A case whose annotations the rules contradict: each missing and
    /// extra finding named by line, the summary counted, exit 1.
    @Test func aFailingCaseIsNamedByLine() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rules-test-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("include"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Self.corpus.appendingPathComponent("include/kpolicy-corpus.h"),
                                         to: dir.appendingPathComponent("include/kpolicy-corpus.h"))
        try """
            // corpus-path: drivers/misc/jit.c
            // corpus-kernel: 6.1
            #include "kpolicy-corpus.h"

            void *a(unsigned long size)
            {
            \t// ok: module-alloc-misuse
            \treturn module_alloc(size);
            }

            void *b(unsigned long size)
            {
            \t// ruleid: module-alloc-misuse
            \treturn vmalloc(size);
            }

            void *c(unsigned long size)
            {
            \treturn module_alloc(size);
            }

            """.write(to: dir.appendingPathComponent("module-alloc-misuse.c"), atomically: true, encoding: .utf8)
        try """
            // corpus-path: drivers/misc/ok.c
            // corpus-kernel: 6.12
            #include "kpolicy-corpus.h"

            void *d(unsigned long size)
            {
            \t// ok: module-alloc-misuse
            \treturn vmalloc(size);
            }

            """.write(to: dir.appendingPathComponent("module-alloc-misuse.fine.c"), atomically: true, encoding: .utf8)
        let run = try KPolicyBinary.run(["rules", "test", dir.path])
        #expect(run.status == 1, "\(run.stderr)")
        let lines = run.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("module-alloc-misuse.c:8: extra module-alloc-misuse finding on an ok line") }, "\(lines)")
        #expect(lines.contains("module-alloc-misuse.c:14: missing module-alloc-misuse finding"), "\(lines)")
        #expect(lines.contains { $0.hasPrefix("module-alloc-misuse.c:19: unannotated module-alloc-misuse finding") }, "\(lines)")
        #expect(lines.last == "kpolicy: 1 passed, 1 failed", "\(lines)")
        #expect(try KPolicyBinary.run(["rules", "test", dir.appendingPathComponent("nothing-here").path]).status == 2)
    }
}
