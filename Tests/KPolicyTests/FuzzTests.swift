import Foundation
@testable import KPolicy
import ModelScenarios
import XCTest

/// Mutation fuzzing of the parsers kpolicy owns, from the committed seed
/// corpus in Tests/Fuzz/: every mutant must parse or be refused with the
/// parser's typed error, quickly; a trap or a hang fails (a trap takes the
/// test process down). The run is deterministic (a fixed seed); set
/// KPOLICY_FUZZ_ITERATIONS for a longer one (docs/robustness.md).
final class FuzzTests: XCTestCase {
    static let seeds = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fuzz")
    static var iterations: Int { Int(ProcessInfo.processInfo.environment["KPOLICY_FUZZ_ITERATIONS"] ?? "") ?? 250 }
    /// No single input may take longer than this.
    static let perInputLimit = 2.0

    /// SplitMix64: small, fast, reproducible.
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9e3779b97f4a7c15
            var z = state
            z = (z ^ (z >> 30)) &* 0xbf58476d1ce4e5b9
            z = (z ^ (z >> 27)) &* 0x94d049bb133111eb
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { n <= 0 ? 0 : Int(next() % UInt64(n)) }
    }

    /// Pieces that tend to break parsers: structure, huge numbers, deep
    /// nesting, aliases, encodings, control characters.
    static let tokens: [[UInt8]] = [
        "\0", "\n", "\r\n", "\t", "{", "}", "[", "]", ":", "- ", "&a ", "*a", "<<: *a", "'", "\"", "\\", "%", "#",
        "99999999999999999999", "-1", "0x7fffffffffffffff", "@@ -1,99999999 +1,1 @@\n", "@@ -0,0 +1 @@\n", "diff --git a/ b/\n",
        "From \n", "=?utf-8?B?////?=", "=?utf-8?Q?=FF=?=", "Content-Transfer-Encoding: base64\n", "\u{202E}", "\u{FEFF}",
        String(repeating: "[", count: 300), String(repeating: "- ", count: 200), "!!binary AAAA", "? ", "|\n", ">-\n",
    ].map { Array($0.utf8) }

    static func mutate(_ seed: [UInt8], _ r: inout Random) -> [UInt8] {
        var b = seed
        for _ in 0..<(1 + r.below(4)) {
            switch r.below(6) {
            case 0 where !b.isEmpty: b[r.below(b.count)] = UInt8(truncatingIfNeeded: r.next())
            case 1 where !b.isEmpty:
                let at = r.below(b.count)
                b.removeSubrange(at..<min(b.count, at + 1 + r.below(64)))
            case 2 where !b.isEmpty:
                let at = r.below(b.count), len = min(b.count - at, 1 + r.below(200))
                b.insert(contentsOf: b[at..<(at + len)], at: r.below(b.count))
            case 3: b.insert(contentsOf: tokens[r.below(tokens.count)], at: r.below(b.count + 1))
            case 4 where !b.isEmpty: b = Array(b.prefix(r.below(b.count)))
            default:
                let at = r.below(b.count + 1)
                b.insert(contentsOf: tokens[r.below(tokens.count)] + tokens[r.below(tokens.count)], at: at)
            }
        }
        return b
    }

    /// Runs `body` on `iterations` mutants of the seed file; `body` returns
    /// normally or throws one of the accepted error types.
    func fuzz(_ seedName: String, accepts: @escaping (Error) -> Bool, _ body: ([UInt8]) throws -> Void) throws {
        let seed = [UInt8](try Data(contentsOf: Self.seeds.appendingPathComponent(seedName)))
        XCTAssertNoThrow(try body(seed), "the seed \(seedName) itself must parse")
        var r = Random(state: 0x6b706f6c696379 ^ seedName.utf8.reduce(UInt64(0)) { $0 &* 31 &+ UInt64($1) })
        var refused = 0
        for i in 0..<Self.iterations {
            let input = Self.mutate(seed, &r)
            let start = Date()
            do { try body(input) } catch {
                refused += 1
                if !accepts(error) {
                    XCTFail("\(seedName) mutant \(i): unexpected error type \(type(of: error)): \(error)")
                    return
                }
            }
            let seconds = Date().timeIntervalSince(start)
            XCTAssertLessThan(seconds, Self.perInputLimit, "\(seedName) mutant \(i) took \(seconds) s")
        }
        // Mutants are not all accepted: the parser does check its input.
        XCTAssertGreaterThan(refused, 0, "\(seedName): no mutant was refused")
    }

    static func text(_ b: [UInt8]) -> String { String(decoding: b, as: UTF8.self) }

    func testRuleFiles() throws {
        try fuzz("rule.yaml", accepts: { $0 is KPolicyError }) { b in
            _ = try RuleLoader.load(yaml: Self.text(b), file: "fuzz.yaml", id: "module-alloc-misuse", category: "exec-memory")
        }
    }

    func testScenarioFiles() throws {
        try fuzz("scenario.yaml", accepts: { $0 is ScenarioError }) { b in
            _ = try ScenarioLoader.parse(yaml: Self.text(b), file: "fuzz.yaml")
        }
    }

    func testPatchMails() throws {
        try fuzz("series.patch", accepts: { $0 is InputError || $0 is KPolicyError }) { b in
            _ = try PatchInput.read([(source: "fuzz.patch", bytes: b)])
        }
    }

    func testBaselines() throws {
        try fuzz("baseline.json", accepts: { $0 is KPolicyError }) { b in
            _ = try Baseline.decode(Data(b), path: "fuzz.json")
        }
    }

    func testCompileCommands() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("kpolicy-fuzz-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: file) }
        try fuzz("compile_commands.json", accepts: { $0 is KPolicyError }) { b in
            try Data(b).write(to: file)
            _ = try CompileCommands(url: file)
        }
    }

    /// .config reading never refuses (unknown lines are skipped), so this
    /// one checks the output instead: one #define per line, nothing that
    /// could break out of the header.
    func testDotConfig() throws {
        let seed = [UInt8](try Data(contentsOf: Self.seeds.appendingPathComponent("dot-config")))
        var r = Random(state: 42)
        for _ in 0..<Self.iterations {
            let header = GeneratedHeaders.autoconf(fromDotConfig: Self.text(Self.mutate(seed, &r)))
            for line in header.split(separator: "\n", omittingEmptySubsequences: false).dropFirst() where !line.isEmpty {
                XCTAssert(line.hasPrefix("#define CONFIG_"), "not a define: \(line.debugDescription)")
            }
        }
    }

    /// Path globs from mutated rule patterns: matching stays fast.
    func testGlobs() throws {
        var r = Random(state: 7)
        let seeds = ["arch/*/kernel/kprobes*.c", "**/*.c", "kernel/module/**", "a?c/**/d*e*f*g.h"]
        for _ in 0..<Self.iterations {
            let pattern = Self.text(Self.mutate(Array(seeds[r.below(seeds.count)].utf8), &r))
            let path = Self.text(Self.mutate(Array("arch/x86/kernel/kprobes/core.c".utf8), &r))
            let start = Date()
            _ = PathGlob(pattern).matches(path)
            XCTAssertLessThan(Date().timeIntervalSince(start), 0.5, "\(pattern.debugDescription) against \(path.debugDescription)")
        }
    }

    /// Inputs fuzzing found that once trapped (Tests/Fuzz/found/): a YAML
    /// mapping key that is a sequence or a mapping made Yams trap; now
    /// refused with the line named.
    func testInputsFuzzingFound() throws {
        let dir = Self.seeds.appendingPathComponent("found")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        XCTAssertFalse(names.isEmpty)
        for name in names {
            let text = try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
            if name.hasPrefix("rule-") {
                XCTAssertThrowsError(try RuleLoader.load(yaml: text, file: name, id: "x", category: "c")) { error in
                    XCTAssert("\(error)".contains("mapping key must be a plain value"), "\(error)")
                }
            } else if name.hasPrefix("scenario-") {
                XCTAssertThrowsError(try ScenarioLoader.parse(yaml: text, file: name)) { error in
                    XCTAssert("\(error)".contains("mapping key must be a plain value"), "\(error)")
                }
            }
        }
    }
}
