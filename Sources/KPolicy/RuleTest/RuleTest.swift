import Foundation
import KernelModel
import KPolicyFiles
import PatchInput
import Analysis

/// Examples as tests, for anyone's rules (`kpolicy rules test`, like
/// `semgrep --test`): every C case of a directory is run through the rules
/// under the path and kernel its header declares (docs/corpus.md), and its
/// annotations are held to what the rules report.
///
/// - `// ruleid: <id>` before a line: it must be reported by `<id>`;
/// - `// ok: <id>`: it must not be;
/// - `// todoruleid:` / `// todook:`: known gaps, counted, never failing;
/// - a finding of a rule the file is about (named in an annotation or by
///   the file's stem) on a line with no annotation is a failure too.
public enum RuleTest {
    public struct Annotation: Sendable, Equatable {
        public enum Kind: String, Sendable { case ruleid, ok, todoruleid, todook }
        public var kind: Kind
        public var rule: String
        /// The line the annotation is about: the next line that is not
        /// itself an annotation.
        public var target: Int
    }

    public struct Counts: Sendable, Equatable {
        public var ruleid = 0, ok = 0, todo = 0
        public init() {}
    }

    /// What one case file gave: each problem as `file:line: what`, and the
    /// annotations per rule.
    public struct Outcome: Sendable {
        public var file: String
        public var problems: [String] = []
        public var counts: [String: Counts] = [:]
        public var passed: Bool { problems.isEmpty }
    }

    public static func annotations(in text: String) -> [Annotation] {
        var out: [Annotation] = []
        var pending: [(Annotation.Kind, String)] = []
        for (i, line) in text.components(separatedBy: "\n").enumerated() {
            let t = line.trimmingCharacters(in: .whitespaces)
            if let kind = [Annotation.Kind.todoruleid, .todook, .ruleid, .ok].first(where: { t.hasPrefix("// \($0.rawValue):") }) {
                let ids = t.dropFirst("// \(kind.rawValue):".count).split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init)
                pending += ids.map { (kind, $0) }
            } else if !pending.isEmpty {
                out += pending.map { Annotation(kind: $0.0, rule: $0.1, target: i + 1) }
                pending = []
            }
        }
        return out
    }

    /// The C cases under `directory`, sorted: `*.c` in it and in its
    /// subdirectories, except `include/` (the headers the cases parse over)
    /// and `model/` (model scenarios).
    public static func cases(in directory: URL) throws -> [URL] {
        let fm = FileManager.default
        var out: [URL] = []
        func walk(_ dir: URL, depth: Int) throws {
            for name in try fm.contentsOfDirectory(atPath: dir.path).sorted() {
                let url = dir.appendingPathComponent(name)
                var isDirectory: ObjCBool = false
                guard fm.fileExists(atPath: url.path, isDirectory: &isDirectory) else { continue }
                if isDirectory.boolValue {
                    if depth < 4 && !(depth == 0 && ["include", "model"].contains(name)) { try walk(url, depth: depth + 1) }
                } else if name.hasSuffix(".c") {
                    out.append(url)
                }
            }
        }
        try walk(directory, depth: 0)
        return out
    }

    /// What the cases themselves say is internal, for trees-free runs: the
    /// static functions of the cases that pretend to be an internal-exposure
    /// rule's defining file (mm/vmalloc.c), and the functions cases
    /// pretending to be its internal header declare that those define.
    public static func internals(for rules: RuleSet, cases: [URL], runner: CorpusRunner) throws -> [String: DerivedInternals] {
        var out: [String: DerivedInternals] = [:]
        for rule in rules.rules {
            guard let m = rule.match as? InternalExposureMatcher else { continue }
            var statics: Set<String> = [], defined: Set<String> = [], declared: Set<String> = []
            for file in cases {
                let text = try String(contentsOf: file, encoding: .utf8)
                guard let header = try? CorpusRunner.header(of: text, file: file.path),
                      header.path == m.definedIn || header.path == m.internalHeader else { continue }
                let facts = try runner.facts(text: text, path: header.path, kernel: header.kernel)
                for f in facts.functions where f.position.file == header.path {
                    if header.path == m.definedIn, f.isDefinition {
                        defined.insert(f.name)
                        if f.storage == .static { statics.insert(f.name) }
                    }
                    if header.path == m.internalHeader { declared.insert(f.name) }
                }
            }
            out[rule.id] = DerivedInternals(staticFunctions: statics, internalHeaderDeclarations: declared.intersection(defined))
        }
        return out
    }

    /// Runs the case `file` (relative name `name` in messages).
    public static func run(_ file: URL, name: String, runner: CorpusRunner) throws -> Outcome {
        var outcome = Outcome(file: name)
        let text = try String(contentsOf: file, encoding: .utf8)
        let header: CorpusRunner.Header
        do { header = try CorpusRunner.header(of: text, file: name) } catch {
            outcome.problems.append("\(name):1: \(error)")
            return outcome
        }
        let ruleIDs = Set(runner.engine.rules.rules.map(\.id))
        let (findings, errors) = try runner.run(text: text, path: header.path, kernel: header.kernel)
        outcome.problems += errors.map { "\(name):\($0): the case does not compile" }
        let notes = annotations(in: text)
        let stem = String(file.lastPathComponent.split(separator: ".").first ?? "")
        let about = Set(notes.map(\.rule)).union(ruleIDs.contains(stem) ? [stem] : [])
        for n in notes where !ruleIDs.contains(n.rule) { outcome.problems.append("\(name):\(n.target - 1): unknown rule \(n.rule)") }
        for n in notes {
            var c = outcome.counts[n.rule] ?? Counts()
            switch n.kind {
            case .ruleid: c.ruleid += 1
            case .ok: c.ok += 1
            case .todoruleid, .todook: c.todo += 1
            }
            outcome.counts[n.rule] = c
            let hit = findings.first { $0.rule == n.rule && $0.position.line == n.target }
            switch (n.kind, hit) {
            case (.ruleid, nil): outcome.problems.append("\(name):\(n.target): missing \(n.rule) finding")
            case (.ok, let f?): outcome.problems.append("\(name):\(n.target): extra \(n.rule) finding on an ok line: \(f.message)")
            default: break
            }
        }
        // ruleid and todook lines expect a finding; ok lines were judged above.
        let accounted = Set(notes.filter { $0.kind != .todoruleid }.map { "\($0.rule):\($0.target)" })
        let todo = Set(notes.filter { $0.kind == .todoruleid }.map { "\($0.rule):\($0.target)" })
        for f in findings where about.contains(f.rule) && !accounted.contains("\(f.rule):\(f.position.line)") {
            let key = "\(f.rule):\(f.position.line)"
            outcome.problems.append("\(name):\(f.position.line): " + (todo.contains(key)
                ? "\(f.rule) now reports this todoruleid line: make it ruleid" : "unannotated \(f.rule) finding: \(f.message)"))
        }
        return outcome
    }
}
