import ArgumentParser
import Foundation
import KernelModel
import ModelScenarios

extension KPolicyCommand {
    /// `kpolicy model`: the reference allocator model (docs/model.md).
    struct Model: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the reference allocator model.",
            subcommands: [Run.self, Apis.self]
        )
    }
}

enum TraceFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

extension KPolicyCommand.Model {
    /// Runs scenario files and prints their traces.
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run model scenarios (Corpus/model/*.yaml) and print their traces.",
            discussion: "Exit 0 when every run matches its expectation; 1 when one differs (or, without an expectation, when a violation fires); 2 for a bad scenario file."
        )

        @Argument(help: "Scenario files.")
        var files: [String]

        @Option(help: "Run only on this arch (\(Arch.allCases.map(\.rawValue).joined(separator: ", "))).")
        var arch: String?

        @Option(help: "Run only on this kernel (6.1 or 6.12).")
        var kernel: String?

        @Option(help: "Output format: text or json.")
        var format: TraceFormat = .text

        @Flag(help: "Print only the outcome of each run, not the step trace.")
        var quiet = false

        @Option(help: "Write the output to a file.")
        var output: String?

        func run() throws {
            var archFilter: Arch?
            if let arch {
                guard let a = Arch(rawValue: arch) else {
                    throw Exit.fail("unknown arch '\(arch)' (expected \(Arch.allCases.map(\.rawValue).joined(separator: ", ")))", Exit.badInput)
                }
                archFilter = a
            }
            var genFilter: KernelGeneration?
            if let kernel {
                guard let g = KernelGeneration(parsing: kernel) else {
                    throw Exit.fail("unknown kernel '\(kernel)' (expected 6.1 or 6.12)", Exit.badInput)
                }
                genFilter = g
            }
            var runs: [ScenarioRun] = []
            for file in files {
                let sc: Scenario
                do {
                    sc = try ScenarioLoader.load(path: file)
                } catch let e as ScenarioError {
                    throw Exit.fail(e.description, Exit.badInput)
                }
                for c in ScenarioRunner.configs(sc, arch: archFilter, generation: genFilter) {
                    runs.append(ScenarioRunner.run(sc, config: c))
                }
            }
            let text: String
            switch format {
            case .json: text = TraceRenderer.json(runs)
            case .text:
                text = runs.map { TraceRenderer.text($0, verbose: !quiet) }.joined(separator: "\n")
                    + "\n\(runs.filter(\.passed).count)/\(runs.count) run(s) as expected\n"
            }
            try emit(text, to: output)
            if !runs.allSatisfy(\.passed) { throw Exit.findings }
        }
    }

    /// Lists the modelled APIs.
    struct Apis: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the modelled kernel APIs with versions and layers.")

        @Option(help: "Output format: text or json.")
        var format: TraceFormat = .text

        func run() throws {
            switch format {
            case .text:
                var out = "layer: D exported, DG exported GPL, C core/arch only, M mm only\n\n"
                let w = ModelAPI.all.map(\.name.count).max() ?? 20
                out += "API".padding(toLength: w, withPad: " ", startingAt: 0) + "  kernel     layer  role        arches        pairs with / note\n"
                for a in ModelAPI.all {
                    let gens = a.generations.map(\.rawValue).sorted().joined(separator: ",")
                    let arches = a.arches.map { $0.map(\.rawValue).sorted().joined(separator: ",") } ?? "all"
                    let pair = a.pairedFree.isEmpty ? "" : "free: \(a.pairedFree.joined(separator: "/")); "
                    out += a.name.padding(toLength: w, withPad: " ", startingAt: 0) + "  "
                        + gens.padding(toLength: 9, withPad: " ", startingAt: 0) + "  "
                        + a.layer.rawValue.padding(toLength: 5, withPad: " ", startingAt: 0) + "  "
                        + a.role.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0) + "  "
                        + arches.padding(toLength: 12, withPad: " ", startingAt: 0) + "  " + pair + a.note + "\n"
                }
                out += "\nreplacements (6.1 -> 6.12):\n"
                for r in Replacement.all { out += "  \(r.deprecated)\n    -> \(r.replacement)  [\(r.since); \(r.evidence)]\n" }
                try emit(out, to: nil)
            case .json:
                let items: [[String: Any]] = ModelAPI.all.map { a in
                    ["name": a.name, "kernels": a.generations.map(\.rawValue).sorted(), "layer": a.layer.rawValue,
                     "role": a.role.rawValue, "arches": a.arches.map { $0.map(\.rawValue).sorted() } ?? ["all"],
                     "pairedFree": a.pairedFree, "note": a.note]
                }
                let repl: [[String: String]] = Replacement.all.map {
                    ["deprecated": $0.deprecated, "replacement": $0.replacement, "evidence": $0.evidence, "since": $0.since]
                }
                let data = try JSONSerialization.data(withJSONObject: ["apis": items, "replacements": repl], options: [.prettyPrinted, .sortedKeys])
                try emit(String(decoding: data, as: UTF8.self) + "\n", to: nil)
            }
        }
    }
}
