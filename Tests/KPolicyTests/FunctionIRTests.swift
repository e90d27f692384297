import Foundation
import KernelModel
@testable import KPolicy
import KPolicyTestSupport
import XCTest
@testable import Analysis
@testable import Extract
@testable import PathCheck

/// The control-flow IR stage on small C snippets over the corpus header,
/// and the path checker on the IR it builds.
final class FunctionIRTests: XCTestCase {
    static let include = CorpusTests.corpus.appendingPathComponent("include")

    func irs(_ body: String, kernel: String = "6.1", path: String = "kernel/example.c") throws -> [String: FunctionIR] {
        let runner = try CorpusRunner(rules: try RuleSet.builtIn(), includeDirectory: FunctionIRTests.include)
        let text = "#include \"kpolicy-corpus.h\"\n" + body
        let list = try runner.functionIRs(text: text, path: path, kernel: KernelVersion(string: kernel)!)
        return Dictionary(list.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// Every path of `ir` as the list of event texts, by a plain walk
    /// (no model): for checking the shape of the graph.
    func paths(_ ir: FunctionIR) -> Set<[String]> {
        var out: Set<[String]> = []
        func walk(_ b: Int, _ acc: [String], _ depth: Int) {
            guard depth < 64 else { return }
            let block = ir.blocks[b]
            let here = acc + block.events.map { "\($0.kind == .call ? KernelCall.canonicalName($0.callee) : $0.kind.rawValue)(\($0.arguments.first?.object ?? "?"))" }
            switch block.exit {
            case .goto(let n): walk(n, here, depth + 1)
            case .any(let ts): for t in ts { walk(t, here, depth + 1) }
            case .branch(_, let t, let e): walk(t, here, depth + 1); walk(e, here, depth + 1)
            case .return: out.insert(here)
            }
        }
        walk(0, [], 0)
        return out
    }

    /// A defining file's offered summaries reuse the IRs lowered for its
    /// own check (`IRBuilder.Memo`): the same IRs as a build of their own.
    func testOfferedIRsFromTheMemoAreTheIRsBuiltAlone() throws {
        let runner = try CorpusRunner(rules: try RuleSet.builtIn(), includeDirectory: FunctionIRTests.include)
        let text = """
        #include "kpolicy-corpus.h"
        static void protect(void *p) { set_memory_ro((unsigned long)p, 1); }
        void *code_page_alloc(const void *src)
        {
        \tvoid *p = module_alloc(4096);

        \tif (!p)
        \t\treturn NULL;
        \tmemcpy(p, src, 16);
        \tprotect(p);
        \treturn p;
        }
        void code_page_free(void *p) { vfree(p); }
        int user(const void *src) { return code_page_alloc(src) ? 0 : -1; }
        """
        let own = IRBuilder()
        let offering = IRBuilder(maxWork: own.maxWork, external: own.external, wanting: ["code_page_free", "code_page_alloc"])
        let only: Set<String> = ["code_page_alloc", "code_page_free"]
        let memo = IRBuilder.Memo()
        let shared = try runner.functionIRs(text: text, path: "kernel/example.c", kernel: KernelVersion(6, 1),
                                            builds: [(own, nil), (offering, only)], memo: memo)
        let alone = try runner.functionIRs(text: text, path: "kernel/example.c", kernel: KernelVersion(6, 1),
                                           builds: [(offering, only)], memo: nil)
        XCTAssertFalse(memo.irs.isEmpty)
        XCTAssertEqual(Set(memo.irs.keys), ["protect", "code_page_alloc", "code_page_free", "user"], "the IRs the first build lowered are kept")
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        func encoded(_ irs: [FunctionIR]) throws -> [String: Data] {
            Dictionary(uniqueKeysWithValues: try irs.map { ($0.name, try encoder.encode($0)) })
        }
        XCTAssertEqual(Set(shared[1].functions.map(\.name)), only)
        XCTAssertNotNil(shared[1].functions.first { $0.name == "code_page_alloc" }?.helpers["protect"])
        XCTAssertEqual(try encoded(shared[1].functions), try encoded(alone[0].functions))
    }

    func testStraightLineEventsAndObjectNormalisation() throws {
        let f = try irs("""
        struct pack { void *ptr; };
        void f(struct pack *pack, unsigned long size)
        {
                void *p = module_alloc(size);
                unsigned long addr = (unsigned long)p;
                pack->ptr = p;
                set_memory_ro(addr, 1);
                set_memory_x((unsigned long)pack->ptr, 1);
                memcpy(p + 64, "x", 1);
        }
        """)["f"]
        let ir = try XCTUnwrap(f)
        let events = ir.events.filter { $0.kind == .call }
        XCTAssertEqual(events.map { KernelCall.canonicalName($0.callee) }, ["module_alloc", "set_memory_ro", "set_memory_x", "write"])
        // p, (unsigned long)p through addr, and pack->ptr are one object.
        let objects = Set(events.dropFirst().compactMap { $0.arguments.first?.object } + [events[0].result].compactMap { $0 })
        XCTAssertEqual(objects.count, 1, "\(objects)")
        XCTAssertEqual(events[3].arguments.first?.offset, 64)
        XCTAssertEqual(ir.objects["pack"], .parameter)
    }

    func testIfElseGotoAndReturnMakePaths() throws {
        let ir = try XCTUnwrap(try irs("""
        int f(void *buf, int a)
        {
                if (a)
                        goto err;
                set_memory_ro((unsigned long)buf, 1);
                set_memory_x((unsigned long)buf, 1);
                return 0;
        err:
                set_memory_nx((unsigned long)buf, 1);
                return -1;
        }
        """)["f"])
        XCTAssertEqual(paths(ir), [["set_memory_ro(buf)", "set_memory_x(buf)"], ["set_memory_nx(buf)"]])
    }

    func testNullTestOnAllocationIsABranchOnTheObject() throws {
        let ir = try XCTUnwrap(try irs("""
        void *f(void)
        {
                void *p = vmalloc(PAGE_SIZE);
                if (unlikely(!p))
                        return NULL;
                set_memory_ro((unsigned long)p, 1);
                return p;
        }
        """)["f"])
        let conditions = ir.blocks.compactMap { b -> IRCondition? in
            if case .branch(let c, _, _) = b.exit { return c }
            return nil
        }
        XCTAssertEqual(conditions, [.nonNull("p")], "`!p` swaps the branches of a non-NULL test")
        XCTAssertTrue(ir.blocks.contains { $0.exit == .return("p") })
    }

    func testSwitchFallthroughAndDefault() throws {
        let ir = try XCTUnwrap(try irs("""
        void f(void *buf, int m)
        {
                switch (m) {
                case 0:
                        set_memory_ro((unsigned long)buf, 1);
                case 1:
                        set_memory_x((unsigned long)buf, 1);
                        break;
                default:
                        set_memory_nx((unsigned long)buf, 1);
                }
        }
        """)["f"])
        XCTAssertEqual(paths(ir), [["set_memory_ro(buf)", "set_memory_x(buf)"], ["set_memory_x(buf)"], ["set_memory_nx(buf)"]])
    }

    func testLoopsAreUnrolledToTheBound() throws {
        let ir = try XCTUnwrap(try irs("""
        void f(void *buf, int n)
        {
                int i;
                for (i = 0; i < n; i++)
                        set_memory_ro((unsigned long)buf, 1);
                while (n--)
                        set_memory_x((unsigned long)buf, 1);
        }
        """)["f"])
        let lengths = Set(paths(ir).map { p in p.filter { $0.hasPrefix("set_memory_ro") }.count })
        XCTAssertEqual(lengths, Set(0...IRBuilder.loopUnrolling), "0, 1 ... loopUnrolling iterations")
    }

    /// The macro idiom `do { ... } while (0)` runs its body once; a real
    /// do-while loop is still unrolled.
    func testDoWhileZeroRunsOnce() throws {
        let f = try irs("""
        #define protect(p) do { set_memory_ro((unsigned long)(p), 1); } while (0)
        void once(void *buf) { protect(buf); }
        void loop(void *buf, int n) { do { set_memory_ro((unsigned long)buf, 1); } while (--n); }
        """)
        let once = Set(paths(try XCTUnwrap(f["once"])).map { p in p.filter { $0.hasPrefix("set_memory_ro") }.count })
        XCTAssertEqual(once, [1])
        let loop = Set(paths(try XCTUnwrap(f["loop"])).map { p in p.filter { $0.hasPrefix("set_memory_ro") }.count })
        XCTAssertEqual(loop, Set(1...IRBuilder.loopUnrolling))
    }

    /// Past `maxWork` a function gets no IR and is named as not built,
    /// never checked on part of its paths; below it the same function is built.
    func testWorkBoundLeavesTheFunctionUnbuiltAndSaysSo() throws {
        let text = "#include \"kpolicy-corpus.h\"\n" + """
        void f(void *buf, int n, int m)
        {
                int i, j;
                for (i = 0; i < n; i++)
                        for (j = 0; j < m; j++)
                                set_memory_ro((unsigned long)buf + i + j, 1);
                set_memory_x((unsigned long)buf, 1);
        }
        """
        let runner = try CorpusRunner(rules: try RuleSet.builtIn(), includeDirectory: FunctionIRTests.include)
        let kernel = KernelVersion(string: "6.12")!
        let full = try runner.functionIRs(text: text, path: "kernel/example.c", kernel: kernel, builder: IRBuilder())
        XCTAssertEqual(full.functions.map(\.name), ["f"])
        XCTAssertEqual(full.unbuilt, [])
        let small = try runner.functionIRs(text: text, path: "kernel/example.c", kernel: kernel, builder: IRBuilder(maxWork: 20))
        XCTAssertEqual(small.functions.map(\.name), [], "over the bound: no IR, so no path is checked")
        XCTAssertEqual(small.unbuilt.map(\.name), ["f"])
        XCTAssertEqual(small.unbuilt.first?.work, 21, "the build stops at the first statement past the bound")
    }

    func testFreeCleanupRunsAtScopeExitUnlessDisowned() throws {
        let ir = try XCTUnwrap(try irs("""
        void *f(int fail)
        {
                void *page __free(execmem) = execmem_alloc(EXECMEM_KPROBES, PAGE_SIZE);
                if (!page)
                        return NULL;
                if (fail)
                        return NULL;
                set_memory_rox((unsigned long)page, 1);
                return_ptr(page);
        }
        """, kernel: "6.12")["f"])
        let ps = paths(ir)
        XCTAssertTrue(ps.contains(["execmem_alloc(?)", "cleanup(page)"]), "\(ps)")
        XCTAssertTrue(ps.contains(["execmem_alloc(?)", "set_memory_rox(page)", "disown(page)"]), "\(ps)")
        XCTAssertFalse(ps.contains { $0.last == "cleanup(page)" && $0.contains("disown(page)") })
    }

    func testStoresOnlyToObjectsTheCallsActOn() throws {
        let ir = try XCTUnwrap(try irs("""
        struct hdr { unsigned int size; };
        void f(struct hdr *h, int *counter)
        {
                set_memory_ro((unsigned long)h, 1);
                h->size = 4;
                *counter = 1;
        }
        """)["f"])
        XCTAssertEqual(ir.events.filter { $0.kind == .store }.compactMap { $0.arguments.first?.object }, ["h"])
    }

    func testFunctionsWithoutAnAnchorGetNoIR() throws {
        let all = try irs("""
        void g(void *p) { memcpy(p, "x", 1); vfree(p); }
        void h(void *p) { set_memory_ro((unsigned long)p, 1); }
        """)
        XCTAssertEqual(Set(all.keys), ["h"])
    }

    // MARK: the path checker on the IR

    func testAllocationFailureIsAPathAndNullTestsFollowTheState() throws {
        let ir = try XCTUnwrap(try irs("""
        void *f(void)
        {
                void *p = module_alloc(PAGE_SIZE);
                if (!p)
                        return NULL;
                set_memory_ro((unsigned long)p, 1);
                set_memory_x((unsigned long)p, 1);
                return p;
        }
        """)["f"])
        let r = PathChecker.check(ir, arches: [.x86_64], tree: .expected(for: .v6_1))
        XCTAssertEqual(r.paths, 2, "success and failure, each taking only its side of `if (!p)`")
        XCTAssertFalse(r.bounded)
        XCTAssertFalse(r.findings.contains { $0.invariant == .order || $0.invariant == .write })
    }

    func testWindowIsFoundWithTraceAndPerArch() throws {
        let ir = try XCTUnwrap(try irs("""
        void *f(void)
        {
                void *page = execmem_alloc(EXECMEM_KPROBES, PAGE_SIZE);
                if (!page)
                        return NULL;
                set_memory_x((unsigned long)page, 1);
                return page;
        }
        """, kernel: "6.12")["f"])
        let r = PathChecker.check(ir, arches: [.x86_64, .arm64], tree: .expected(for: .v6_12))
        let order = r.findings.filter { $0.invariant == .order }
        XCTAssertEqual(order.map(\.arch), [.x86_64], "EXECMEM_KPROBES is RW on x86 and ROX on arm64")
        let trace = try XCTUnwrap(order.first?.trace)
        XCTAssertEqual(trace.last?.mapping, "RWX")
        XCTAssertEqual(trace.last?.invariants.contains("INV-ORDER"), true)
    }

    func testMergingKeepsExplorationSmall() throws {
        // 10 independent ifs with no events: 1024 paths, merged at each join.
        let ifs = (0..<10).map { "        if (a & \(1 << $0)) a++;" }.joined(separator: "\n")
        let ir = try XCTUnwrap(try irs("""
        void f(void *buf, int a)
        {
        \(ifs)
                set_memory_ro((unsigned long)buf, 1);
        }
        """)["f"])
        let r = PathChecker.check(ir, arches: [.x86_64], tree: .expected(for: .v6_1))
        XCTAssertFalse(r.bounded)
        XCTAssertLessThan(r.states, 200, "identical states at a join are explored once")
    }

    // MARK: interprocedural knowledge

    func testHelperSummaryActsAtTheCallAndItsBoundsHold() throws {
        let f = try irs("""
        static void *alloc_text(void)
        {
                void *page = module_alloc(PAGE_SIZE);
                if (!page)
                        return NULL;
                set_memory_ro((unsigned long)page, 1);
                set_memory_x((unsigned long)page, 1);
                return page;
        }
        static void *level2(void) { return alloc_text(); }
        static void *level3(void) { return level2(); }
        int direct(const void *insn)
        {
                void *p = alloc_text();
                if (!p)
                        return -1;
                memcpy(p, insn, 4);
                return 0;
        }
        int deep(const void *insn)
        {
                void *p = level3();
                if (!p)
                        return -1;
                memcpy(p, insn, 4);
                return 0;
        }
        """)
        let direct = try XCTUnwrap(f["direct"])
        XCTAssertEqual(direct.parameters, ["insn"])
        XCTAssertNotNil(direct.helpers["alloc_text"], "the helper's IR rides with the caller's")
        let r = PathChecker.check(direct, arches: [.x86_64], tree: .expected(for: .v6_1))
        XCTAssertEqual(r.paths, 2, "the helper's success and failure are the caller's two paths; its NULL test follows the state")
        let write = r.findings.filter { $0.invariant == .write }
        XCTAssertEqual(write.map(\.event.position.line), [18], "the write into the page the helper made read-only")
        // deep -> level3 -> level2 -> alloc_text is one level deeper than
        // maxHelperDepth (2): level3 is checked (it reaches alloc_text in
        // two), deep is not.
        XCTAssertEqual(PathChecker.maxHelperDepth, 2)
        XCTAssertNotNil(f["level3"])
        XCTAssertNil(f["deep"], "past the depth bound a caller gets no IR")
        let l3 = PathChecker.check(try XCTUnwrap(f["level3"]), arches: [.x86_64], tree: .expected(for: .v6_1))
        XCTAssertEqual(l3.paths, 2)
    }

    /// `maxHelperStatesPerFunction`: a function calling a branching helper
    /// at many places explores it again at each (summaries are per call and
    /// caller state) until the bound, then stops following helper calls.
    func testHelperStatesOfOneFunctionAreBounded() throws {
        // The helper: a chain of `diamonds` two-way branches the checker
        // cannot decide, about 3 * diamonds (block, state) pairs per call.
        let diamonds = 30
        var blocks: [IRBlock] = []
        for d in 0..<diamonds {
            let head = 3 * d
            blocks.append(IRBlock(exit: .branch(.unknown, then: head + 1, else: head + 2)))
            blocks.append(IRBlock(exit: .goto(head + 3)))
            blocks.append(IRBlock(exit: .goto(head + 3)))
        }
        blocks.append(IRBlock(exit: .return(nil)))
        let at = Position(file: "kernel/example.c", line: 1, column: 1)
        let helper = FunctionIR(name: "branchy", position: at, blocks: blocks, objects: [:], truncated: false)
        // The caller: the helper called at `calls` places, one after another.
        let calls = 80
        let events = (0..<calls).map { i in
            IREvent(kind: .helper, callee: "branchy", spelled: "branchy", position: Position(file: "kernel/example.c", line: 10 + i, column: 2),
                    arguments: [], result: nil, text: "branchy()")
        }
        let caller = FunctionIR(name: "caller", position: at, blocks: [IRBlock(events: events, exit: .return(nil))], objects: [:],
                                truncated: false, helpers: ["branchy": helper])
        let one = PathChecker.check(FunctionIR(name: "one", position: at, blocks: [IRBlock(events: [events[0]], exit: .return(nil))],
                                               objects: [:], truncated: false, helpers: ["branchy": helper]),
                                    arches: [.x86_64], tree: .expected(for: .v6_12))
        let perCall = one.helperStates
        XCTAssertGreaterThan(perCall, 2 * diamonds, "one call explores the helper's branches")
        XCTAssertGreaterThan(perCall * calls, PathChecker.maxHelperStatesPerFunction, "unbounded, the caller would explore more than the bound")
        let r = PathChecker.check(caller, arches: [.x86_64], tree: .expected(for: .v6_12))
        XCTAssertGreaterThanOrEqual(r.helperStates, PathChecker.maxHelperStatesPerFunction, "the calls before the bound are followed")
        XCTAssertLessThan(r.helperStates, PathChecker.maxHelperStatesPerFunction + perCall, "no summary starts past the bound")
        let followed = r.helperStates / perCall
        XCTAssertEqual(r.helpersNotFollowed, calls - followed, "every call past the bound is not followed")
        XCTAssertEqual(r.paths, 1)
    }

    func testHelperViolationOnItsOwnMemoryIsNotRepeatedAtTheCall() throws {
        let f = try irs("""
        static void *alloc_bad(const void *src)
        {
                void *page = module_alloc(PAGE_SIZE);
                if (!page)
                        return NULL;
                memcpy(page, src, 4);
                set_memory_x((unsigned long)page, 1);
                return page;
        }
        void *caller(const void *src) { return alloc_bad(src); }
        """)
        let own = PathChecker.check(try XCTUnwrap(f["alloc_bad"]), arches: [.x86_64], tree: .expected(for: .v6_1))
        XCTAssertTrue(own.findings.contains { $0.invariant == .order }, "the helper's own window, in its own check")
        let caller = PathChecker.check(try XCTUnwrap(f["caller"]), arches: [.x86_64], tree: .expected(for: .v6_1))
        XCTAssertFalse(caller.findings.contains { $0.invariant == .order }, "not again at every call")
    }

    /// A call to a function another file defines runs the definition each
    /// arch links, derived from the tree (here the corpus's: the __weak
    /// alloc_insn_page() of kernel/kprobes.c and the arch/ overrides in
    /// Corpus/tree), and a finding names the definition it rests on.
    func testTreeFunctionIsResolvedPerArchFromItsDefinitions() throws {
        let runner = try CorpusRunner(rules: try RuleSet.builtIn(), includeDirectory: FunctionIRTests.include)
        try runner.useAsTree(try RuleTest.cases(in: CorpusTests.corpus))
        let text = """
        #include "kpolicy-corpus.h"
        int f(const void *insn)
        {
                void *page = alloc_insn_page();
                if (!page)
                        return -1;
                memcpy(page, insn, 4);
                return 0;
        }
        """
        let expected: [(String, Set<Arch>)] = [("6.1", [.x86_64, .arm64, .ppc64, .riscv64, .s390]), ("6.12", [.x86_64, .arm64, .s390, .ppc64, .riscv64])]
        for (series, arches) in expected {
            let kernel = try XCTUnwrap(KernelVersion(string: series))
            let builder = runner.summaries(for: [], path: "kernel/example.c", kernel: kernel).1
            XCTAssertTrue(builder.external.contains("alloc_insn_page"), "\(builder.external.sorted())")
            let irs = try runner.functionIRs(text: text, path: "kernel/example.c", kernel: kernel, builder: builder).functions
            let f = try XCTUnwrap(irs.first { $0.name == "f" })
            XCTAssertEqual(f.events.first?.kind, .helper, "a call into another file is a summary's")
            let summaries = try XCTUnwrap(runner.summaries(for: irs, path: "kernel/example.c", kernel: kernel).0)
            let r = PathChecker.check(f, arches: Arch.allCases, tree: .expected(for: kernel), summaries: summaries)
            let writes = r.findings.filter { $0.invariant == .write }
            XCTAssertEqual(Set(writes.map(\.arch)), arches, series)
            // 6.12's __weak default (execmem_alloc(EXECMEM_KPROBES)) is
            // read-only on powerpc and riscv too (their execmem ranges).
            let x86 = try XCTUnwrap(writes.first { $0.arch == .x86_64 })
            XCTAssertEqual(x86.basis, ["alloc_insn_page() arch/x86/kernel/kprobes/core.c:\(series == "6.1" ? 11 : 9) (x86 override)"])
        }
    }

    // MARK: set_memory_*() failure

    func testSetMemoryFailureForksOnlyWhereTheResultIsTested() throws {
        let f = try irs("""
        void *tested(void)
        {
                void *p = module_alloc(PAGE_SIZE);
                int err;
                if (!p)
                        return NULL;
                err = set_memory_ro((unsigned long)p, 1);
                if (err)
                        return NULL;
                set_memory_x((unsigned long)p, 1);
                return p;
        }
        void *untested(void)
        {
                void *p = module_alloc(PAGE_SIZE);
                if (!p)
                        return NULL;
                set_memory_ro((unsigned long)p, 1);
                set_memory_x((unsigned long)p, 1);
                return p;
        }
        """)
        let tested = try XCTUnwrap(f["tested"])
        XCTAssertEqual(tested.testedStatuses, ["err"])
        let t = PathChecker.check(tested, arches: [.x86_64], tree: .expected(for: .v6_1))
        XCTAssertEqual(t.paths, 3, "allocation failure, set_memory_ro() failure (which takes only `if (err)`), success")
        XCTAssertFalse(t.findings.contains { $0.invariant == .order })
        let u = PathChecker.check(try XCTUnwrap(f["untested"]), arches: [.x86_64], tree: .expected(for: .v6_1))
        XCTAssertEqual(u.paths, 2, "an untested result is taken as success")
    }

    // MARK: control flow in expressions

    func testConditionalOperatorAndStatementExpressionBranch() throws {
        let f = try irs("""
        void cond(int strict)
        {
                void *p = module_alloc(PAGE_SIZE);
                strict ? set_memory_ro((unsigned long)p, 1) : set_memory_nx((unsigned long)p, 1);
                set_memory_x((unsigned long)p, 1);
        }
        void plain(int a, int b)
        {
                void *p = module_alloc(a > b ? a : b);
                set_memory_x((unsigned long)p, 1);
        }
        void stmt(int strict)
        {
                void *p = module_alloc(PAGE_SIZE);
                ({ if (strict) set_memory_ro((unsigned long)p, 1); });
                set_memory_x((unsigned long)p, 1);
        }
        """)
        XCTAssertEqual(paths(try XCTUnwrap(f["cond"])), [["module_alloc(?)", "set_memory_ro(p)", "set_memory_x(p)"],
                                                          ["module_alloc(?)", "set_memory_nx(p)", "set_memory_x(p)"]])
        XCTAssertEqual(paths(try XCTUnwrap(f["plain"])).count, 1, "an arm without an event is read through")
        XCTAssertEqual(paths(try XCTUnwrap(f["stmt"])), [["module_alloc(?)", "set_memory_ro(p)", "set_memory_x(p)"],
                                                          ["module_alloc(?)", "set_memory_x(p)"]])
    }

    /// A member or file-scope variable carries its place; the same member of
    /// the same struct type is one place however it is reached.
    func testKeptMemoryCarriesItsPlace() throws {
        let f = try irs("""
        struct img { void *image; };
        struct tramp { struct img *cur; };
        static void *page;
        void a(struct img *im) { set_memory_ro((unsigned long)im->image, 1); }
        void b(struct tramp *tr) { set_memory_ro((unsigned long)tr->cur->image, 1); }
        void c(void) { set_memory_ro((unsigned long)page, 1); }
        void d(void *p) { set_memory_ro((unsigned long)p, 1); }
        """)
        func place(_ name: String) throws -> String? { try XCTUnwrap(f[name]).events.first?.arguments.first?.slot }
        XCTAssertEqual(try place("a"), "struct img.image")
        XCTAssertEqual(try place("b"), "struct img.image")
        XCTAssertEqual(try place("c"), "page")
        XCTAssertNil(try place("d"), "a parameter is the caller's memory, not kept by the file")
    }

    /// Allocated in one function, protected in a second, freed in a third:
    /// the third starts the memory in the state the other two leave it in,
    /// and its finding names them.
    func testFileStatesReachTheFunctionThatFrees() throws {
        let f = try irs("""
        static void *text;
        int text_init(void) { text = vmalloc(PAGE_SIZE); return text ? 0 : -ENOMEM; }
        void text_seal(void) { set_memory_ro((unsigned long)text, 1); }
        void text_exit(void) { vfree(text); }
        """)
        let order = ["text_init", "text_seal", "text_exit"]
        let list = try order.map { try XCTUnwrap(f[$0], $0) }
        let results = PathChecker.checkFile(list, arches: [.x86_64], tree: .expected(for: .v6_1))
        let reset = results[2].findings.filter { $0.invariant == .reset }
        XCTAssertEqual(reset.count, 1, "\(results[2].findings.map(\.message))")
        XCTAssertFalse(reset[0].seededObject, "a state the file allocated is not a seed")
        XCTAssertEqual(Set(reset[0].stateFrom), ["text_init", "text_seal"])
        XCTAssert(reset[0].message.contains("state left by text_init() line 3, text_seal() line 4"), reset[0].message)
        XCTAssertEqual(reset[0].trace.compactMap(\.stateFrom).first.map(Set.init), ["text_init", "text_seal"])
        // Each function alone: the free sees only the RW seed.
        XCTAssert(PathChecker.check(list[2], arches: [.x86_64], tree: .expected(for: .v6_1)).findings.filter { $0.invariant == .reset }.isEmpty)
    }

    /// `.alloc = ...` in a designated initializer: the call through the
    /// member may be either function the file puts there.
    func testCallThroughMemberPointerForksOverItsTargets() throws {
        let f = try irs("""
        struct cache { void *(*alloc)(void); void (*free)(void *); };
        static void *text_alloc(void) { return module_alloc(PAGE_SIZE); }
        static void *data_alloc(void) { return vmalloc(PAGE_SIZE); }
        struct cache one = { .alloc = text_alloc, .free = vfree };
        struct cache two = { .alloc = data_alloc };
        void *get(struct cache *c)
        {
                void *p = c->alloc();
                if (!p)
                        return NULL;
                c->free(p);
                return NULL;
        }
        """)
        let get = try XCTUnwrap(f["get"], "a call through a member holding an anchor makes the function wanted")
        XCTAssertEqual(Set(get.events.filter { $0.kind == .helper }.map(\.callee)), ["text_alloc", "data_alloc"])
        XCTAssert(get.blocks.contains { if case .any(let arms) = $0.exit { return arms.count == 2 } else { return false } })
        let free = try XCTUnwrap(get.events.first { $0.kind == .call })
        XCTAssertEqual(KernelCall.canonicalName(free.callee), "vfree")
        XCTAssert(free.text.contains("c->free → vfree(p)"), free.text)
    }
}
