import Foundation
import KernelModel
@testable import ModelScenarios
import Testing

/// Issue 12: hostile scenario files end in one `ScenarioError` naming the
/// step's field, never in a trap, a stack overflow or gigabytes of memory.
@Suite("Hostile scenario files")
struct HostileScenarioTests {
    func error(_ yaml: String) -> ScenarioError? {
        do { _ = try ScenarioLoader.parse(yaml: yaml, file: "t.yaml"); return nil } catch let e as ScenarioError { return e } catch { return nil }
    }

    func step(_ s: String) -> String { "scenario: x\nsteps:\n  - {call: alloc_pages, count: 2, as: pg}\n  - \(s)\n" }

    /// Row 3: arithmetic overflow in sizes and alignments.
    @Test func overflowingSizesAreRejected() throws {
        #expect(Parser.evalSize("9223372036854775807+1") == nil)
        #expect(Parser.evalSize("8G*8G*8G") == nil)
        #expect(Parser.evalSize("-9223372036854775807-2") == nil)
        #expect(Parser.evalSize("9223372036854775807K") == nil)
        #expect(Parser.evalSize("0x7fffffffffffffff") == Int.max)
        for size in ["9223372036854775807+1", "8G*8G*8G", "0x7fffffffffffffff"] {
            let e = try #require(error(step("{call: vmalloc, size: \"\(size)\", as: p}")), "\(size)")
            #expect(e.field == "size" && e.line == 4, "\(e)")
        }
        let e = try #require(error(step("{call: __vmalloc_node_range, size: PAGE, align: 0x4000000000000000, prot: PAGE_KERNEL, as: p}")))
        #expect(e.field == "align" && e.message.contains("1 GiB"), "\(e)")
    }

    /// Row 3, the library: sizes built in code do not trap either.
    @Test func modelSurvivesExtremeSizesBuiltInCode() {
        #expect(Size.pages(Int.max) == Int.max / Size.page + 1)
        #expect(Size.pages(4097) == 2 && Size.pages(0) == 0)
        for arch in Arch.allCases {
            var s = ModelState(config: ModelConfig(arch: arch, generation: .v6_12))
            _ = Executor.run(.vmallocNodeRange(size: Int.max, align: 0x4000000000000000, range: .vmalloc, prot: .kernel, flags: [],
                                               purpose: .data, bind: "p"), on: &s)
            _ = Executor.run(.vmallocNodeRange(size: Size.page, align: 0x4000000000000000, range: .modules, prot: .kernel, flags: [],
                                               purpose: .data, bind: "q"), on: &s)
            #expect(s.bindings["p"] == .address(0) && s.bindings["q"] == .address(0), "\(arch)")
        }
    }

    /// Row 4: sizes the model would need gigabytes of per-page state for.
    @Test func absurdSizesAreRefusedWithTheLimitNamed() throws {
        let e1 = try #require(error(step("{call: vmalloc, size: 1024G, as: p}")))
        #expect(e1.field == "size" && e1.message.contains("1 GiB"), "\(e1)")
        let e2 = try #require(error(step("{call: alloc_pages, count: 100000000, as: big}")))
        #expect(e2.field == "count" && e2.message.contains("262144"), "\(e2)")
        // In code, the allocation fails like one the kernel cannot satisfy.
        var s = ModelState(config: ModelConfig(arch: .x86_64, generation: .v6_12))
        _ = Executor.run(.vmalloc(.vmalloc, size: 1 << 40, bind: "p"), on: &s)
        _ = Executor.run(.allocPages(count: 100_000_000, bind: "pg"), on: &s)
        #expect(s.bindings["p"] == .address(0))
        #expect(s.pages.count == 0)
    }

    /// Row 19: arguments the model would take without complaint.
    @Test func negativeLengthsOversizedCountsAndDuplicateKeys() throws {
        let e1 = try #require(error(step("{call: memcpy, ptr: p, len: -100}").replacingOccurrences(of: "count: 2, as: pg}", with: "count: 2, as: pg}\n  - {call: vmalloc, size: PAGE, as: p}")))
        #expect(e1.field == "len" && e1.message.contains("negative"), "\(e1)")
        let e2 = try #require(error("scenario: x\nsteps:\n  - {call: vmalloc, size: PAGE, as: p}\n  - {lock: text_mutex}\n  - {call: text_poke, ptr: p, len: -8}\n"))
        #expect(e2.field == "len" && e2.line == 5, "\(e2)")
        let e3 = try #require(error(step("{call: vmap, pages: pg, count: 1000000, as: v}")))
        #expect(e3.field == "count" && e3.message.contains("holds 2"), "\(e3.message)")
        let e4 = try #require(error(step("{call: vmalloc, size: PAGE, as: p, as: q}")))
        #expect(e4.field == "as" && e4.line == 4 && e4.message.contains("twice"), "\(e4)")
        // A count within the set is still fine.
        #expect(error(step("{call: vmap, pages: pg, count: 2, as: v}") + "  - {call: vunmap, ptr: v}\n  - {call: __free_pages, pages: pg}\n") == nil)
    }

    /// Row 5: nesting that overflowed Yams' recursive parser.
    @Test func deepNestingIsRefusedBeforeYams() throws {
        let flow = "scenario: x\nsteps: " + String(repeating: "[", count: 20_000) + String(repeating: "]", count: 20_000) + "\n"
        let e1 = try #require(error(flow))
        #expect(e1.message.contains("nested more than") && e1.line == 2, "\(e1)")
        var block = "scenario: x\nsteps:\n"
        for depth in 0..<5_000 { block += String(repeating: " ", count: depth) + "- \n" }
        let e2 = try #require(error(block))
        #expect(e2.message.contains("nested more than"), "\(e2)")
        let e3 = try #require(error("scenario: x\nsteps:\n" + String(repeating: "- ", count: 5_000) + "check_wx\n"))
        #expect(e3.message.contains("nested more than"), "\(e3)")
    }

    /// Row 7: a billion laughs; and text that only looks deep is fine.
    @Test func aliasExpansionIsBounded() throws {
        var yaml = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for i in 1...9 { yaml += "a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]\n" }
        let e = try #require(error("scenario: x\nsteps: [check_wx]\n" + yaml + "summary: *a9\n"))
        #expect(e.message.contains("aliases expand the document"), "\(e)")
        let start = Date()
        #expect(throws: YAMLInput.Problem.self) { try YAMLInput.compose(yaml) }
        #expect(Date().timeIntervalSince(start) < 5)
        // Brackets inside quotes, comments and block scalars are not nesting.
        let quoted = "a: \"" + String(repeating: "[", count: 500) + "\" # " + String(repeating: "{", count: 500) + "\nb: |\n  " + String(repeating: "[", count: 500) + "\n"
        #expect(throws: Never.self) { try YAMLInput.compose(quoted) }
    }

    /// Row 10: parsing is linear in the number of steps (it was quadratic:
    /// every bind copied the symbol table).
    @Test func parsingIsLinearInSteps() throws {
        func seconds(_ pairs: Int) throws -> Double {
            var yaml = "scenario: x\nsteps:\n"
            for i in 0..<pairs { yaml += "  - {call: vmalloc, size: PAGE, as: p\(i)}\n  - {call: vfree, ptr: p\(i)}\n" }
            let start = Date()
            let sc = try ScenarioLoader.parse(yaml: yaml, file: "t.yaml")
            #expect(sc.steps.count == 2 * pairs)
            return Date().timeIntervalSince(start)
        }
        _ = try seconds(500)
        let small = try seconds(5_000), large = try seconds(20_000)
        // Linear: ~4x; quadratic was ~16x.
        #expect(large < small * 9, "5k pairs \(small) s, 20k pairs \(large) s")
    }
}
