import ArgumentParser
import Foundation
import KernelModel
import KPolicy
import ModelScenarios
import Kbuild
import Analysis
import PathCheck

extension KPolicyCommand {
    /// `kpolicy model`: the reference allocator model (docs/model.md).
    struct Model: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the reference allocator model.",
            subcommands: [Run.self, Apis.self, Functions.self]
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

        @Option(help: "Run only on this kernel series (6.1, 6.12, 7.3...).")
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
            var kernelFilter: KernelVersion?
            if let kernel {
                guard let k = Scenario.kernel(parsing: kernel) else {
                    throw Exit.fail("unknown kernel '\(kernel)' (expected 6.1, 6.12 or a later series such as 7.3)", Exit.badInput)
                }
                kernelFilter = k
            }
            var runs: [ScenarioRun] = []
            for file in files {
                let sc: Scenario
                do {
                    sc = try ScenarioLoader.load(path: file)
                } catch let e as ScenarioError {
                    throw Exit.fail(e.description, Exit.badInput)
                }
                for c in ScenarioRunner.configs(sc, arch: archFilter, kernel: kernelFilter) {
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

    /// Lists what the path checker knows of a tree's functions across files.
    struct Functions: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List a tree's executable-memory functions, their definitions per arch, and its allocator/free pairs.",
            discussion: "Read as text from the C files under kernel/, mm/ and arch/ that mention an executable-memory API: every function that allocates, frees, protects, writes or patches executable memory directly or through another such function, each definition (a __weak default, an arch/<a>/ override, a static one), and each allocator/free pair the code names (.alloc/.free members of one initializer, or the free called on the allocator's result). A call from another file runs the definition its arch links."
        )

        @Option(help: "Output format: text or json.")
        var format: OutputFormat = .text

        @Option(help: "The kernel tree to read.")
        var tree: String

        func run() throws {
            let kernel = try KernelTree(path: tree)
            let functions = TreeFunctionsReader.read(tree: kernel.root)
            switch format {
            case .json:
                let e = JSONEncoder()
                e.outputFormatting = [.prettyPrinted, .sortedKeys]
                try emit(String(decoding: try e.encode(functions), as: UTF8.self) + "\n", to: nil)
            case .text:
                var out = "tree: \(kernel.root.path) (Linux \(kernel.version)): \(functions.filesRead) files read\n"
                out += "summarised for callers in other files (\(functions.summarised.count)):\n"
                for name in functions.summarised.sorted() {
                    out += "  \(name)\n"
                    for d in functions.definitions[name] ?? [] where !d.isStatic { out += "    \(d.path):\(d.line)\(d.isWeak ? " __weak" : "")\n" }
                }
                out += "pairs (\(functions.pairs.count)):\n"
                for p in functions.pairs { out += "  \(p.allocator) / \(p.free): \(p.how), \(p.path):\(p.line)\n" }
                try emit(out, to: nil)
            }
        }
    }

    /// Lists the modelled APIs, and with `--tree` what a tree has of them.
    struct Apis: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the modelled kernel APIs with versions and layers.",
            discussion: "With --tree, also what that tree has, read from its own headers, Kconfig and arch code: which version-dependent APIs it declares, which arches implement bpf_arch_text_copy, and which execmem types come from an arch's ROX cache."
        )

        @Option(help: "Output format: text or json.")
        var format: TraceFormat = .text

        @Option(help: "A kernel tree to read the APIs it has from.")
        var tree: String?

        func run() throws {
            var read: (root: String, capabilities: TreeCapabilities)?
            if let tree {
                let kernel = try KernelTree(path: tree)
                read = (kernel.root.path, TreeCapabilitiesReader.read(tree: kernel.root, version: kernel.version))
            }
            switch format {
            case .text: try emit(text(read?.capabilities, root: read?.root), to: nil)
            case .json: try emit(json(read?.capabilities), to: nil)
            }
        }

        func text(_ tree: TreeCapabilities?, root: String?) -> String {
            var out = "layer: D exported, DG exported GPL, C core/arch only, M mm only\n"
            if let tree, let root { out += "tree: \(root) (Linux \(tree.version)): 'yes' when it has the API\n" }
            out += "\n"
            let w = ModelAPI.all.map(\.name.count).max() ?? 20
            func column(_ s: String, _ width: Int) -> String { s.padding(toLength: width, withPad: " ", startingAt: 0) + "  " }
            out += column("API", w) + (tree == nil ? "" : column("tree", 4)) + column("versions", 13) + column("layer", 5)
                + column("role", 10) + column("arches", 12) + "pairs with / note\n"
            for a in ModelAPI.all {
                let arches = a.arches.map { $0.map(\.rawValue).sorted().joined(separator: ",") } ?? "all"
                let pair = a.pairedFree.isEmpty ? "" : "free: \(a.pairedFree.joined(separator: "/")); "
                var line = column(a.name, w)
                if let tree { line += column(tree.has(a.name) ? "yes" : "no", 4) }
                line += column(a.versions, 13) + column(a.layer.rawValue, 5) + column(a.role.rawValue, 10) + column(arches, 12)
                out += line + pair + a.note + "\n"
            }
            if let tree { out += "\nwhat the tree has: \(tree)\n" }
            out += "\nreplacements (6.1 -> 6.12):\n"
            for r in Replacement.all { out += "  \(r.deprecated)\n    -> \(r.replacement)  [\(r.since); \(r.evidence)]\n" }
            return out
        }

        func json(_ tree: TreeCapabilities?) throws -> String {
            let items: [[String: Any]] = ModelAPI.all.map { a in
                var item: [String: Any] = ["name": a.name, "versions": a.versions, "layer": a.layer.rawValue,
                                           "role": a.role.rawValue, "arches": a.arches.map { $0.map(\.rawValue).sorted() } ?? ["all"],
                                           "pairedFree": a.pairedFree, "note": a.note]
                if let since = a.since { item["since"] = since.series }
                if let until = a.until { item["until"] = until.series }
                if let tree { item["inTree"] = tree.has(a.name) }
                return item
            }
            let repl: [[String: String]] = Replacement.all.map {
                ["deprecated": $0.deprecated, "replacement": $0.replacement, "evidence": $0.evidence, "since": $0.since]
            }
            var top: [String: Any] = ["apis": items, "replacements": repl]
            if let tree { top["tree"] = try JSONSerialization.jsonObject(with: JSONEncoder().encode(tree)) }
            let data = try JSONSerialization.data(withJSONObject: top, options: [.prettyPrinted, .sortedKeys])
            return String(decoding: data, as: UTF8.self) + "\n"
        }
    }
}
