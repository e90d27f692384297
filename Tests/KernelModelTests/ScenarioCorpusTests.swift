import Foundation
import KernelModel
@testable import ModelScenarios
import Testing

/// Corpus/model, found from this file's location.
let corpusDirectory: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Corpus/model")

func corpusFiles() -> [String] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: corpusDirectory.path)) ?? []
    return names.filter { $0.hasSuffix(".yaml") }.sorted().map { corpusDirectory.appendingPathComponent($0).path }
}

@Suite("Scenario corpus")
struct ScenarioCorpusTests {
    @Test("the corpus holds at least the 20 MODEL_SPEC scenarios")
    func corpusIsThere() {
        #expect(corpusFiles().count >= 20)
    }

    /// Every scenario, on every arch and kernel it names, must come out as it says.
    @Test("scenario outcome matches its expectation", arguments: corpusFiles())
    func scenario(_ path: String) throws {
        let sc = try ScenarioLoader.load(path: path)
        #expect(sc.expectations != nil, "\(path) has no expectation")
        let configs = ScenarioRunner.configs(sc)
        #expect(!configs.isEmpty)
        for c in configs {
            let run = ScenarioRunner.run(sc, config: c)
            #expect(run.passed, "\(c.label):\n\(TraceRenderer.text(run))")
        }
    }
}

@Suite("Scenario files")
struct ScenarioFileErrorTests {
    func error(_ yaml: String) -> ScenarioError? {
        do { _ = try ScenarioLoader.parse(yaml: yaml, file: "t.yaml"); return nil } catch let e as ScenarioError { return e } catch { return nil }
    }

    @Test func unknownAPINamesLineAndField() throws {
        let e = try #require(error("""
            scenario: x
            steps:
              - {call: vmalloc, size: 4K, as: p}
              - {call: vmaloc, size: 4K, as: q}
            expect: safe
            """))
        #expect(e.line == 4)
        #expect(e.field == "call")
        #expect(e.description.hasPrefix("t.yaml:4:"))
    }

    @Test func unboundSymbolIsRejected() throws {
        let e = try #require(error("""
            scenario: x
            steps:
              - {call: vfree, ptr: p}
            """))
        #expect(e.line == 3)
        #expect(e.field == "ptr")
    }

    @Test func badSizeAndUnknownArgument() throws {
        let e1 = try #require(error("scenario: x\nsteps:\n  - {call: vmalloc, size: lots, as: p}\n"))
        #expect(e1.field == "size" && e1.line == 3)
        let e2 = try #require(error("scenario: x\nsteps:\n  - {call: vmalloc, size: 4K, as: p, prot: PAGE_KERNEL}\n"))
        #expect(e2.field == "prot")
    }

    @Test func badExpectationAndSyntax() throws {
        let e1 = try #require(error("scenario: x\nsteps:\n  - check_wx\nexpect:\n  - {invariant: INV-NOPE, at: 1}\n"))
        #expect(e1.field == "expect.invariant" && e1.line == 5)
        let e2 = try #require(error("scenario: x\nsteps: [\n"))
        #expect(e2.line > 0)
    }

    @Test func sizesAndPointers() {
        #expect(Parser.evalSize("4K") == 4096)
        #expect(Parser.evalSize("2*PAGE") == 8192)
        #expect(Parser.evalSize("PAGE+16") == 4112)
        #expect(Parser.evalSize("0x1000") == 4096)
        #expect(Parser.evalSize("2M") == 2 * 1024 * 1024)
    }
}
