import Foundation
import KPolicyFiles
import PatchInput
import Analysis
import Extract

/// The fidelity gate of the precompiled headers: every candidate analysed
/// with the PCH of its arch and the full way, facts and results compared.
public struct PrecompiledHeaderFidelity: Sendable {
    public struct Row: Sendable {
        public var file: String
        /// Parsed with the PCH (else the full way, for `misfit`).
        public var usedPCH: Bool
        public var misfit: String?
        /// What differs between the two analyses (empty: equal).
        public var differences: [String]
    }
    public var rows: [Row]
    public var notes: [String]

    public var differing: [Row] { rows.filter { !$0.differences.isEmpty } }

    /// Facts with `__COUNTER__` numbering taken out: `__UNIQUE_ID_x_527`
    /// becomes `__UNIQUE_ID_x_#`, `__UNIQUE_ID_rcu1096` `__UNIQUE_ID_rcu#`. The PCH holds more headers than a file
    /// includes, so the counter stands elsewhere when the file's own macros
    /// expand; no rule reads these names.
    static func normalized(_ facts: FileFacts) -> FileFacts {
        func strip(_ s: Set<String>) -> Set<String> {
            Set(s.map { id in
                // __UNIQUE_ID_x_527, __UNIQUE_ID_rcu1096: the trailing counter goes.
                guard id.hasPrefix("__UNIQUE_ID_"), id.last?.isNumber == true else { return id }
                return String(id.reversed().drop(while: \.isNumber).reversed()) + "#"
            })
        }
        var f = facts
        for i in f.calls.indices {
            for j in f.calls[i].arguments.indices { f.calls[i].arguments[j].identifiers = strip(f.calls[i].arguments[j].identifiers) }
        }
        for i in f.macroUses.indices { f.macroUses[i].expandsTo = strip(f.macroUses[i].expandsTo) }
        return f
    }

    /// A text report: one line per file that differs or did not fit, then
    /// counts.
    public var text: String {
        var lines: [String] = notes
        for row in rows.sorted(by: { $0.file < $1.file }) {
            if !row.differences.isEmpty {
                lines.append("DIFFERS \(row.file) (\(row.usedPCH ? "with the PCH" : "full")): \(row.differences.joined(separator: "; "))")
            } else if let misfit = row.misfit {
                lines.append("full    \(row.file): \(misfit)")
            }
        }
        var reasons: [String: Int] = [:]
        for row in rows { if let m = row.misfit { reasons[m.hasPrefix("defines ") ? "defines a macro before its first #include" : m.hasPrefix("built with CONFIG_") ? "gated on an option the headers test" : m, default: 0] += 1 } }
        lines.append("\(rows.count) candidates: \(rows.filter(\.usedPCH).count) parsed with a precompiled header, "
                     + "\(rows.filter { !$0.usedPCH }.count) the full way; \(differing.count) differ from the full parse")
        for (reason, n) in reasons.sorted(by: { $0.value > $1.value }) { lines.append("  full way: \(n) \(reason)") }
        return lines.joined(separator: "\n") + "\n"
    }
}

extension CheckRun {
    /// Runs the gate over the candidates under `paths`.
    public func precompiledHeaderFidelity(paths: [String], jobs: Int) throws -> PrecompiledHeaderFidelity {
        let archSupport = ArchSupport()
        let plan = try plan(paths: paths, archSupport: archSupport)
        let full = FileAnalyzer.Context(workspace: workspace, engine: engine, tree: plan.tree, archSupport: archSupport)
        var pchContext = full
        let saved = precompiledHeaderMinimum
        precompiledHeaderMinimum = 1
        pchContext.precompiled = precompiledHeaders(candidates: plan.candidates, toParse: plan.candidates, archSupport: archSupport)
        precompiledHeaderMinimum = saved
        let withPCH = pchContext
        let progress = self.progress
        let done = Counter()
        let total = plan.candidates.count
        let rows = ParallelMap.run(plan.candidates, jobs: jobs) { file -> PrecompiledHeaderFidelity.Row in
            defer {
                done.increment()
                progress?(done.value, total, file)
            }
            let target = AnalysisTarget(path: file)
            guard let a = try? FileAnalyzer(context: withPCH), let b = try? FileAnalyzer(context: full) else {
                return .init(file: file, usedPCH: false, misfit: "no analyzer", differences: ["libclang index unavailable"])
            }
            let fast = a.analysis(target)
            let slow = b.analysis(target)
            var differences: [String] = []
            if fast.result != slow.result {
                if fast.result.findings != slow.result.findings { differences.append("findings \(fast.result.findings.count) vs \(slow.result.findings.count)") }
                if fast.result.functions != slow.result.functions { differences.append("function spans") }
                if case .checked(_, let e1, _) = fast.result.outcome, case .checked(_, let e2, _) = slow.result.outcome, e1 != e2 {
                    differences.append("first error \(e1 ?? "none") vs \(e2 ?? "none")")
                }
                if differences.isEmpty { differences.append("outcome") }
            }
            if let f = fast.facts.map(PrecompiledHeaderFidelity.normalized), let s = slow.facts.map(PrecompiledHeaderFidelity.normalized), f != s {
                if f.calls != s.calls {
                    var note = "calls \(f.calls.count) vs \(s.calls.count)"
                    if let i = f.calls.indices.first(where: { $0 < s.calls.count && f.calls[$0] != s.calls[$0] }) {
                        let (x, y) = (f.calls[i], s.calls[i])
                        note += " (first at \(x.position.line):\(x.position.column) \(x.spelled)"
                        if x.callee != y.callee { note += ", callee \(x.callee) vs \(y.callee)" }
                        if let j = x.arguments.indices.first(where: { $0 < y.arguments.count && x.arguments[$0] != y.arguments[$0] }) {
                            note += ", argument \(j + 1): \(x.arguments[j]) vs \(y.arguments[j])"
                        }
                        note += ")"
                    }
                    differences.append(note)
                }
                if f.macroUses != s.macroUses { differences.append("macro uses \(f.macroUses.count) vs \(s.macroUses.count)") }
                if f.functions != s.functions { differences.append("functions \(f.functions.count) vs \(s.functions.count)") }
                if f.exports != s.exports { differences.append("exports \(f.exports.count) vs \(s.exports.count)") }
            }
            return .init(file: file, usedPCH: fast.precompiledHeader != nil,
                         misfit: fast.precompiledHeader == nil ? (fast.precompiledHeaderMisfit ?? "no precompiled header for its arch") : nil,
                         differences: differences)
        }
        return PrecompiledHeaderFidelity(rows: rows, notes: notes)
    }
}
