import Foundation
import KernelModel

/// Renders scenario runs for people (text) and tools (JSON).
public enum TraceRenderer {
    public static func text(_ run: ScenarioRun, verbose: Bool = true) -> String {
        var out = "scenario \(run.scenario) — \(run.arch) / \(run.kernel) (\(run.settings))\n"
        out += "  file: \(run.file)\n"
        if verbose {
            for st in run.steps {
                let label = st.label.map { " [\($0)]" } ?? ""
                let res = st.result.isEmpty ? "" : "  -> \(st.result)"
                out += String(format: "%3d", st.index) + "  \(st.call)\(label)\(res)\n"
                if st.context != "process,core" { out += "       context: \(st.context)\n" }
                if !st.areas.isEmpty { out += table(st.areas) }
                for v in st.violations { out += violation(v) }
            }
        }
        out += "  end: deferred frees run, W+X checkpoint, leak check\n"
        for v in run.end { out += violation(v) }
        if !run.hasExpectation {
            out += run.allViolations.isEmpty ? "outcome: no violations (no expectation given)\n" : "outcome: \(run.allViolations.count) violation(s) (no expectation given)\n"
        } else if run.passed {
            out += "outcome: as expected (\(run.expected.isEmpty ? "safe" : run.expected.joined(separator: ", ")))\n"
        } else {
            out += "outcome: DIFFERS from the expectation\n"
            for m in run.missing { out += "  missing:    \(m)\n" }
            for u in run.unexpected { out += "  unexpected: \(u)\n" }
        }
        return out
    }

    static func table(_ areas: [AreaSnapshot]) -> String {
        let header = ["area", "start", "size", "flags", "provenance", "state", "map", "alias"]
        let rows = areas.map { a in
            [("#\(a.id) \(a.name)"), a.start, sizeText(a.size) + (a.pageOrder > 0 ? " (PMD)" : ""), a.flags, a.provenance, a.state, a.map, a.alias]
        }
        var widths = header.map(\.count)
        for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
        func line(_ cells: [String]) -> String {
            "       " + cells.enumerated().map { i, c in c.padding(toLength: widths[i], withPad: " ", startingAt: 0) }.joined(separator: "  ") + "\n"
        }
        return line(header) + rows.map(line).joined()
    }

    static func sizeText(_ n: Int) -> String {
        if n % (1024 * 1024) == 0 { return "\(n / 1024 / 1024)M" }
        if n % 1024 == 0 { return "\(n / 1024)K" }
        return "\(n)"
    }

    static func violation(_ v: ViolationRecord) -> String {
        let mark = v.severity == "error" ? "✗" : "!"
        return "     \(mark) \(v.invariant) [\(v.severity)] on \(v.object): \(v.message)\n" +
            "         why: \(v.rationale)\n" +
            "         instead: \(v.instead)\n"
    }

    public static func json(_ runs: [ScenarioRun]) -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        struct Report: Encodable { var format = "kpolicy-model/1"; var runs: [ScenarioRun]; var passed: Bool }
        let data = (try? enc.encode(Report(runs: runs, passed: runs.allSatisfy(\.passed)))) ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
