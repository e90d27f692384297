import Foundation
import KPolicy
import XCTest
import Analysis
import Parse

/// Rules/ is the single source of truth: the rules built into the binary
/// and docs/rules/ must be what it says, and bad rule files must be refused
/// with the file and field named.
final class RuleFileTests: XCTestCase {
    static let repo = CorpusTests.repo

    func testBuiltInRulesMatchRulesDirectory() throws {
        let files = try RuleSet.files(in: Self.repo.appendingPathComponent("Rules"))
        let onDisk = try Dictionary(uniqueKeysWithValues: files.map { ($0.0, try String(contentsOf: $0.1, encoding: .utf8)) })
        let embedded = try RuleSet.builtInFiles()
        XCTAssertEqual(Set(onDisk.keys), Set(embedded.keys), "Rules/ and the built-in rules list different files: run scripts/generate-rules")
        for (path, text) in onDisk {
            XCTAssertEqual(embedded[path]?.trimmed, text.trimmed, "Rules/\(path) changed since it was built in: run scripts/generate-rules")
        }
        let loaded = try RuleSet.load(directory: Self.repo.appendingPathComponent("Rules"))
        XCTAssertEqual(loaded.rules.map(\.id), try RuleSet.builtIn().rules.map(\.id))
        // Every rule file is a rule named by its stem, and every rule has its
        // corpus and its page: derived from Rules/, no list kept by hand.
        let stems = files.map { URL(fileURLWithPath: $0.0).deletingPathExtension().lastPathComponent }
        XCTAssertEqual(loaded.rules.map(\.id).sorted(), stems.sorted())
        let corpus = try RuleTest.cases(in: Self.repo.appendingPathComponent("Corpus")).map { String($0.lastPathComponent.split(separator: ".")[0]) }
        let patches = try FileManager.default.subpathsOfDirectory(atPath: Self.repo.appendingPathComponent("Corpus").path)
            .filter { $0.hasSuffix(".patch") }.map { String(URL(fileURLWithPath: $0).lastPathComponent.split(separator: ".")[0]) }
        for id in loaded.rules.map(\.id) { XCTAssertTrue(corpus.contains(id) || patches.contains(id), "\(id) has no case under Corpus/") }
    }

    func testRuleDocsAreCurrent() throws {
        let docs = Self.repo.appendingPathComponent("docs/rules")
        let rules = try RuleSet.builtIn()
        for rule in rules.rules {
            let file = docs.appendingPathComponent("\(rule.id).md")
            let onDisk = try? String(contentsOf: file, encoding: .utf8)
            XCTAssertEqual(onDisk, RuleDoc.markdown(rule), "docs/rules/\(rule.id).md is stale: run scripts/generate-rules --docs")
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: docs.path).filter { $0.hasSuffix(".md") }
        XCTAssertEqual(Set(names), Set(rules.rules.map { "\($0.id).md" }), "docs/rules/ has pages for rules that no longer exist")
    }

    /// docs/rules-schema.md is what the matcher kinds and the loader's
    /// field tables say.
    func testRuleSchemaPageIsCurrent() throws {
        let onDisk = try String(contentsOf: Self.repo.appendingPathComponent("docs/rules-schema.md"), encoding: .utf8)
        XCTAssertEqual(onDisk, RuleSchema.markdown(), "docs/rules-schema.md is stale: run scripts/generate-rules --docs")
        for kind in MatcherKinds.all { XCTAssertTrue(onDisk.contains("### `\(kind.kind)`"), kind.kind) }
    }

    /// A path rule's triggers are derived from its match (the model's
    /// `Invariant.leadingCalls`, among the calls the IR follows); the file
    /// may not list them.
    func testPathRuleTriggersAreDerivedNotListed() throws {
        let good = try String(contentsOf: Self.repo.appendingPathComponent("Rules/exec-memory/wx-window.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "id: wx-window", with: "id: bad-rule")
        XCTAssertNil(load(good))
        let listed = good.replacingOccurrences(of: "match:\n  kind: path", with: "triggers: [set_memory_x, set_memory_rw]\nmatch:\n  kind: path")
        XCTAssertNotEqual(listed, good)
        XCTAssertTrue(load(listed)?.contains("field 'triggers' is derived for a path rule from its match (set_memory_rw, set_memory_x): remove it") ?? false,
                      load(listed) ?? "loaded")
        // A match no call can lead to: text patches are never free steps.
        let never = good.replacingOccurrences(of: "invariants: [INV-ORDER, INV-WX]", with: "invariants: [INV-POKE]")
            .replacingOccurrences(of: "at: [set-memory]", with: "at: [free]")
        XCTAssertNotEqual(never, good)
        XCTAssertTrue(load(never)?.contains("field 'match' leads to no call the path checker follows") ?? false, load(never) ?? "loaded")
    }

    /// What the derivation gives each rule of Rules/ (the sets once written
    /// by hand are subsets of these; docs/ARCHITECTURE.md says why each
    /// differs). A change here changes which files a run parses.
    func testDerivedPathRuleTriggers() throws {
        let rules = try RuleSet.builtIn()
        let derived = Dictionary(uniqueKeysWithValues: rules.rules.filter { $0.match is PathMatcher }.map { ($0.id, $0.triggers) })
        XCTAssertEqual(derived, [
            "exec-free-mismatch": ["__vmalloc_node_range", "bpf_jit_alloc_exec", "bpf_jit_free_exec", "bpf_prog_pack_alloc", "bpf_prog_pack_free",
                                   "execmem_alloc", "execmem_alloc_rw", "execmem_free", "module_alloc", "module_memfree"],
            "exec-use-after-free": ["bpf_jit_free_exec", "bpf_prog_pack_free", "execmem_free", "module_memfree"],
            "execmem-rox-not-restored": ["execmem_alloc_rw", "execmem_restore_rox"],
            "missing-perms-reset": ["execmem_alloc_rw", "execmem_restore_rox", "set_memory_nx", "set_memory_ro", "set_memory_rox", "set_memory_rw", "set_memory_x"],
            "write-to-readonly-text": ["__vmalloc_node_range", "bpf_jit_alloc_exec", "bpf_prog_pack_alloc", "execmem_alloc", "execmem_restore_rox",
                                       "set_memory_ro", "set_memory_rox"],
            "wx-window": ["set_memory_rw", "set_memory_x"],
        ])
    }

    /// Derivation must not drop a call a path rule's cases need: each
    /// example's `bad` snippet, and each corpus file with a `ruleid` case of
    /// the rule, mentions one of the rule's own triggers (the prefilter's
    /// test, on that rule's triggers alone), or it would never be parsed.
    /// A corpus case may instead call a function the corpus, read as a
    /// tree, defines (as a run adds the tree's functions to the triggers).
    func testPathRuleExamplesMentionTheirTriggers() throws {
        let rules = try RuleSet.builtIn()
        let corpus = try RuleTest.cases(in: Self.repo.appendingPathComponent("Corpus"))
        let runner = try CorpusRunner(rules: rules, includeDirectory: Self.repo.appendingPathComponent("Corpus/include"))
        try runner.useAsTree(corpus)
        for rule in rules.rules where rule.match is PathMatcher {
            let prefilter = Prefilter(identifiers: Set(rule.triggers))
            for e in rule.examples {
                XCTAssertTrue(prefilter.mentionsAny(Data(e.bad.utf8)), "\(rule.id): example \"\(e.name)\" calls none of \(rule.triggers)")
            }
            var files = 0
            for file in corpus {
                let text = try String(contentsOf: file, encoding: .utf8)
                guard text.contains("ruleid: \(rule.id)\n") || text.contains("ruleid: \(rule.id) ") else { continue }
                files += 1
                let series = try CorpusRunner.header(of: text, file: file.path).kernel.series
                let withTree = Prefilter(identifiers: Set(rule.triggers).union(runner.tree[series]?.functions.names ?? []))
                XCTAssertTrue(withTree.mentionsAny(Data(text.utf8)), "\(rule.id): \(file.lastPathComponent) calls none of \(rule.triggers)")
            }
            XCTAssertGreaterThan(files, 0, "\(rule.id) has no corpus file with a ruleid case")
        }
    }

    func load(_ yaml: String) -> String? {
        do {
            _ = try RuleLoader.load(yaml: yaml, file: "Rules/x/bad-rule.yaml", id: "bad-rule", category: "x")
            return nil
        } catch {
            return "\(error)"
        }
    }

    func testBadRuleFilesNameFileAndField() throws {
        let good = try String(contentsOf: Self.repo.appendingPathComponent("Rules/vmalloc/flush-reset-perms-outside-core.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "id: flush-reset-perms-outside-core", with: "id: bad-rule")
        XCTAssertNil(load(good))
        let cases: [(String, String)] = [
            (good.replacingOccurrences(of: "severity: warning", with: "severity: fatal"), "field 'severity' must be one of info, warning, error"),
            (good.replacingOccurrences(of: "id: bad-rule", with: "id: other"), "field 'id' is \"other\""),
            (good.replacingOccurrences(of: "  kind: symbol-use", with: "  kind: regex"), "field 'match.kind' unknown matcher kind"),
            (good.replacingOccurrences(of: "  macros: [VM_FLUSH_RESET_PERMS]", with: "  macro: [VM_FLUSH_RESET_PERMS]"), "field 'match.macro' is not a known field"),
            (good.replacingOccurrences(of: "triggers: [VM_FLUSH_RESET_PERMS, set_vm_flush_reset_perms]", with: "triggers: []"), "field 'triggers' must not be empty"),
            (good + "kernel:\n  since: 6.10\n", "field 'kernel.since' must be quoted"),
            ("id: [", "not valid YAML"),
        ]
        for (yaml, expected) in cases {
            let message = load(yaml)
            XCTAssertNotNil(message, "accepted a bad rule file (expected: \(expected))")
            XCTAssert(message?.contains("Rules/x/bad-rule.yaml") == true, "message does not name the file: \(message ?? "")")
            XCTAssert(message?.contains(expected) == true, "got \(message ?? "nil"), expected \(expected)")
        }
    }

    func testPathGlobs() {
        XCTAssert(PathGlob("arch/*/kernel/module.c").matches("arch/arm64/kernel/module.c"))
        XCTAssertFalse(PathGlob("arch/*/kernel/module.c").matches("arch/arm64/kernel/sub/module.c"))
        XCTAssert(PathGlob("kernel/module/**").matches("kernel/module/main.c"))
        XCTAssertFalse(PathGlob("kernel/module/**").matches("kernel/modules.c"))
        XCTAssert(PathGlob("**/*.c").matches("drivers/misc/sram-exec.c"))
        XCTAssertFalse(PathGlob("**/*.c").matches("drivers/misc/sram.h"))
        XCTAssert(PathGlob("arch/*/kernel/kprobes*.c").matches("arch/riscv/kernel/kprobes_trampoline.c"))
    }
}

extension String {
    var trimmed: String { trimmingCharacters(in: .whitespacesAndNewlines) }
}
