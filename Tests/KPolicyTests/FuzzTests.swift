import Foundation
@testable import KPolicy
import ModelScenarios
import XCTest
import KPolicyFiles
@testable import PatchInput
@testable import KPolicyCache
@testable import Kbuild
@testable import Analysis
@testable import Report
@testable import Filter

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

    // MARK: Issue 21's classes (docs/robustness.md rows 22-30)

    /// Descriptors of every kind handed to the one input reader: closed,
    /// a directory, write-only, a pipe or a regular file holding random
    /// bytes, /dev/zero, under a random limit. Each gives its bytes exactly
    /// (when within the limit) or one KPolicyError/InputError.
    func testInputStreamsOfEveryKind() throws {
        var r = Random(state: 21)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kpolicy-fuzz-streams-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for i in 0..<Self.iterations {
            let bytes = (0..<r.below(3000)).map { _ in UInt8(truncatingIfNeeded: r.next()) }
            let limit = r.below(4000)
            var expected: [UInt8]? = nil
            let fd: Int32
            switch r.below(6) {
            case 0:
                fd = open("/dev/null", O_RDONLY)
                close(fd)   // closed: EBADF
            case 1: fd = open(dir.path, O_RDONLY | O_DIRECTORY)
            case 2: fd = open(dir.appendingPathComponent("w\(i)").path, O_WRONLY | O_CREAT, 0o600)
            case 3:
                var fds: [Int32] = [0, 0]
                XCTAssertEqual(pipe(&fds), 0)
                bytes.withUnsafeBytes { _ = write(fds[1], $0.baseAddress, bytes.count) }   // below the pipe's buffer
                close(fds[1])
                fd = fds[0]
                expected = bytes
            case 4:
                let file = dir.appendingPathComponent("f\(i)")
                try Data(bytes).write(to: file)
                fd = open(file.path, O_RDONLY)
                expected = bytes
            default: fd = open("/dev/zero", O_RDONLY)
            }
            defer { close(fd) }
            do {
                let read = try InputSource.read(fileDescriptor: fd, source: "fuzz", limit: limit)
                XCTAssertEqual(read, expected, "descriptor kind of input \(i)")
                XCTAssertLessThanOrEqual(read.count, limit)
            } catch let e as InputError {
                guard case .tooLarge = e else { return XCTFail("\(e)") }
                XCTAssert(expected.map { $0.count > limit } ?? true, "\(i): \(e)")
            } catch let e as KPolicyError {
                XCTAssertNil(expected, "\(i): \(e)")
            }
        }
    }

    /// Every integer (and number) option of the command line at the limits
    /// of Int, Int64 and double: a result or a refusal (64), never a trap
    /// (`--cache-size 8796093022208` overflowed, Int.max emptied the cache).
    func testNumberOptionsAtTheirLimits() throws {
        let binary = try KPolicyBinary.binary()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kpolicy-fuzz-options-\(UUID().uuidString)")
        for sub in ["tree/arch/x86/include", "tree/include", "tree/mm"] {
            try FileManager.default.createDirectory(at: dir.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        defer { try? FileManager.default.removeItem(at: dir) }
        let tree = dir.appendingPathComponent("tree").path
        try "VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 0\n".write(toFile: tree + "/Makefile", atomically: true, encoding: .utf8)
        try "void *module_alloc(unsigned long);\nvoid *f(void) { return module_alloc(1); }\n"
            .write(toFile: tree + "/mm/a.c", atomically: true, encoding: .utf8)
        let values = ["0", "-1", "1", "2147483648", "8796093022208", "9223372036854775807", "9223372036854775808",
                      "-9223372036854775808", "1e309", "nan", "inf"]
        let common = ["--tree", tree, "--cache-dir", dir.appendingPathComponent("cache").path]
        let commands: [(String, [String])] = [("--jobs", ["check", "mm"]), ("--cache-size", ["check", "mm"]),
                                              ("--shard", ["check", "mm"]), ("--time-limit", ["parse", "mm/a.c"])]
        for (option, command) in commands {
            for value in values {
                let argument = option == "--shard" ? "\(value)/\(value)" : value
                let run = try KPolicyBinary.execute(binary, command + common + ["\(option)=\(argument)"])
                XCTAssert([0, 1, 64].contains(run.status), "\(option) \(argument): exit \(run.status): \(run.stderr)")
                if run.status == 64 { XCTAssertEqual(run.stderr.split(separator: "\n").count, 1, run.stderr) }
            }
        }
    }

    /// Numbers of a real report (Tests/Fuzz/report.json) set to the limits
    /// of Int, Int64, UInt64 and double: the report is refused with
    /// KPolicyError when read, or merges and renders in every format.
    func testReportNumbersAtTheirLimits() throws {
        let seed = String(decoding: try Data(contentsOf: Self.seeds.appendingPathComponent("report.json")), as: UTF8.self)
        let limits = ["9223372036854775807", "-9223372036854775808", "-1", "1099511627776", "1099511627777", "9007199254740993",
                      "18446744073709551615", "1e308", "0", "2147483648"]
        let numbers = try NSRegularExpression(pattern: "(?<=: )-?[0-9][0-9.e+]*").matches(in: seed, range: NSRange(seed.startIndex..., in: seed))
        XCTAssertGreaterThan(numbers.count, 10)
        let catalogue = RuleCatalogue(rules: try RuleSet.builtIn())
        var r = Random(state: 25)
        var refused = 0
        for i in 0..<Self.iterations {
            var text = seed
            for _ in 0..<(1 + r.below(3)) {
                let range = Range(numbers[r.below(numbers.count)].range, in: seed)!
                let offset = seed.distance(from: seed.startIndex, to: range.lowerBound)
                let start = text.index(text.startIndex, offsetBy: offset)
                let end = text[start...].firstIndex { !"-0123456789.e+".contains($0) } ?? text.endIndex
                text.replaceSubrange(start..<end, with: limits[r.below(limits.count)])
            }
            do {
                var report = try CheckReport.decode(json: Data(text.utf8), source: "fuzz-\(i)")
                var other = try CheckReport.decode(json: Data(seed.utf8), source: "seed")
                report.shard = nil
                other.shard = nil
                for merged in [try CheckReport.merged([("m", report)]), try CheckReport.merged([("seed", other), ("m", report)])] {
                    for format in ReportFormat.allCases {
                        _ = try format.reporter.render(merged, catalogue: catalogue, options: ReportOptions())
                    }
                }
            } catch is KPolicyError {
                refused += 1
            }
        }
        XCTAssertGreaterThan(refused, 0)
    }

    /// File diffs with binary bodies and every mode (gitlink 160000 among
    /// them) in every header line: each parses or is refused with
    /// InputError, and every binary or gitlink change is one PatchRun
    /// names instead of applying.
    func testBinaryDiffsAndGitlinks() throws {
        var r = Random(state: 26)
        let modes = ["100644", "100755", "120000", "160000", "040000", "0", "99999999999999999999"]
        let bodies = ["GIT binary patch\nliteral 5\nMcmZ?b00001\n\nliteral 0\nHcmV?d00001\n\n",
                      "Binary files a/F and b/F differ\n",
                      "--- a/F\n+++ b/F\n@@ -1 +1 @@\n-Subproject commit 1234567890123456789012345678901234567890\n+Subproject commit 2234567890123456789012345678901234567890\n",
                      "--- a/F\n+++ b/F\n@@ -1 +1 @@\n-a\u{0}b\n+a\u{0}c\n"]
        var named = 0
        for _ in 0..<Self.iterations {
            let path = ["kernel/x.c", "drivers/subm", "fw/blob.bin", "a b/c.h"][r.below(4)]
            var text = "diff --git a/\(path) b/\(path)\n"
            for header in ["old mode ", "new mode ", "new file mode ", "deleted file mode "] where r.below(4) == 0 {
                text += header + modes[r.below(modes.count)] + "\n"
            }
            if r.below(2) == 0 { text += "index 1234567..89abcde" + (r.below(2) == 0 ? " " + modes[r.below(modes.count)] : "") + "\n" }
            text += bodies[r.below(bodies.count)].replacingOccurrences(of: "F", with: path)
            let bytes = Self.mutate(Array(text.utf8), &r)
            do {
                for file in try UnifiedDiff.parse(bytes: r.below(3) == 0 ? bytes : Array(text.utf8)).files where file.isBinary || file.isGitlink {
                    XCTAssertNotNil(PatchRun.notAFileToCheck(file))
                    named += 1
                }
            } catch is InputError {}
        }
        XCTAssertGreaterThan(named, 0)
    }

    /// Names built from `..`, `.`, empty and absolute components in every
    /// place a diff names a file: whatever parses names a path inside the
    /// tree (relative, no `..`).
    func testPathsLeavingTheTree() throws {
        var r = Random(state: 28)
        let parts = ["..", ".", "", "kernel", "x.c", "a", "b", "...", "..x", "/"]
        func name() -> String { (0..<(1 + r.below(5))).map { _ in parts[r.below(parts.count)] }.joined(separator: "/") }
        var parsed = 0
        for _ in 0..<Self.iterations {
            let a = name(), b = name()
            let texts = [
                "diff --git a/\(a) b/\(b)\n--- a/\(a)\n+++ b/\(b)\n@@ -1 +1 @@\n-x\n+y\n",
                "diff --git a/\(a) b/\(b)\nsimilarity index 100%\nrename from \(a)\nrename to \(b)\n",
                "diff --git a/\(a) b/\(b)\nsimilarity index 90%\ncopy from \(a)\ncopy to \(b)\n",
                "--- \(a)\n+++ \(b)\n@@ -1 +1 @@\n-x\n+y\n",
                "diff --git \"a/\(a)\" \"b/\(b)\"\nnew file mode 100644\n--- /dev/null\n+++ \"b/\(b)\"\n@@ -0,0 +1 @@\n+y\n",
            ]
            do {
                for file in try UnifiedDiff.parse(texts[r.below(texts.count)]).files {
                    for path in [file.oldPath, file.newPath].compactMap({ $0 }) {
                        let components = path.split(separator: "/", omittingEmptySubsequences: false)
                        XCTAssertFalse(path.hasPrefix("/") || components.contains(".."), "\(path) leaves the tree")
                        parsed += 1
                    }
                }
            } catch is InputError {}
        }
        XCTAssertGreaterThan(parsed, 0)
    }

    /// Configuration files appearing, disappearing and changing between
    /// runs of the result cache (one ResultCache per run): an entry stored
    /// with files present and absent is found exactly while every one of
    /// them is as it was when it was stored.
    func testConfigurationFilesAppearingAndDisappearingUnderTheCache() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kpolicy-fuzz-cache-\(UUID().uuidString)")
        let tree = dir.appendingPathComponent("tree")
        try FileManager.default.createDirectory(at: tree, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let names = ["Kconfig", "Makefile", "Kbuild", "arch/Kconfig"].map { tree.appendingPathComponent($0).path }
        try FileManager.default.createDirectory(at: tree.appendingPathComponent("arch"), withIntermediateDirectories: true)
        var r = Random(state: 30)
        var states: [String: [String: String?]] = [:]   // value stored → the files' contents then (nil: absent)
        var latest: [String: String?]? = nil
        func state() -> [String: String?] {
            Dictionary(uniqueKeysWithValues: names.map { ($0, try? String(contentsOfFile: $0, encoding: .utf8)) })
        }
        var hits = 0
        for i in 0..<min(Self.iterations, 120) {
            for name in names where r.below(3) == 0 {
                switch r.below(3) {
                case 0: try? FileManager.default.removeItem(atPath: name)
                case 1: try "config A\(r.below(3))\n".write(toFile: name, atomically: true, encoding: .utf8)
                default: try "".write(toFile: name, atomically: true, encoding: .utf8)
                }
            }
            let cache = try ResultCache(directory: dir.appendingPathComponent("cache"), warn: { XCTFail($0) })
            let now = state()
            let found = cache.lookup(kind: "kconfig", key: "k").map { String(decoding: $0, as: UTF8.self) }
            // Never stale: what is found was stored under exactly these files.
            if let found { XCTAssertEqual(states[found], now, "run \(i): a stale entry") }
            // Never missed: the latest entry is found while nothing changed.
            if latest == now { XCTAssertNotNil(found, "run \(i): the entry of the same files was not found") }
            if found != nil { hits += 1 }
            if found == nil || r.below(4) == 0 {
                let present = names.filter { now[$0]! != nil }, absent = names.filter { now[$0]! == nil }
                cache.store(kind: "kconfig", key: "k", dependencies: present, absent: absent, value: Data("\(i)".utf8))
                cache.flush()
                states["\(i)"] = now
                latest = now
            }
        }
        XCTAssertGreaterThan(hits, 0)
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
