import Foundation
import KernelModel

/// One area as a trace shows it after a step.
public struct AreaSnapshot: Codable, Hashable, Sendable {
    public var id: Int
    public var name: String
    public var start: String
    public var size: Int
    public var flags: String
    public var provenance: String
    public var state: String
    public var pageOrder: Int
    /// Run-length permissions of the vmalloc mapping: `RW-x3 R-Xx1`.
    public var map: String
    /// Run-length permissions of the direct-map alias of the same pages.
    public var alias: String

    init(_ a: Area, _ s: ModelState) {
        id = a.id; name = a.name
        start = "0x" + String(a.start, radix: 16)
        size = a.size
        flags = a.flags.description
        var prov = a.allocator.rawValue
        if let t = a.execmemType { prov += "(\(t.rawValue))" } else if a.purpose != .data { prov += "/\(a.purpose.rawValue)" }
        provenance = prov
        state = a.persistent && a.state == .live ? "live,persistent" : a.state.rawValue
        pageOrder = a.pageOrder
        map = AreaSnapshot.runs(a.map.map(\.description))
        alias = a.pfns.isEmpty ? "-" : AreaSnapshot.runs(a.pfns.map { $0 < 0 ? "·" : s.pages[Int($0)].alias.description })
    }

    static func runs(_ items: [String]) -> String {
        var out: [String] = []
        var i = 0
        while i < items.count {
            var j = i
            while j < items.count && items[j] == items[i] { j += 1 }
            out.append("\(items[i])x\(j - i)")
            i = j
        }
        return out.isEmpty ? "-" : out.joined(separator: " ")
    }
}

/// A violation as traces and reports carry it.
public struct ViolationRecord: Codable, Hashable, Sendable {
    public var invariant: String
    public var severity: String
    public var step: Int
    public var object: String
    public var message: String
    public var rationale: String
    public var instead: String
    init(_ v: Violation) {
        invariant = v.invariant.id; severity = v.severity.rawValue; step = v.stepIndex
        object = v.object.description; message = v.message; rationale = v.rationale; instead = v.instead
    }
}

public struct StepRecord: Codable, Sendable {
    public var index: Int
    public var label: String?
    public var line: Int
    public var call: String
    public var context: String
    public var result: String
    public var areas: [AreaSnapshot]
    public var violations: [ViolationRecord]
}

/// The outcome of one scenario on one configuration.
public struct ScenarioRun: Codable, Sendable {
    public var scenario: String
    public var file: String
    public var arch: String
    public var kernel: String
    public var settings: String
    public var steps: [StepRecord]
    public var end: [ViolationRecord]
    /// Whether the scenario gave an expectation for this configuration.
    public var hasExpectation: Bool
    public var expected: [String]
    public var missing: [String]
    public var unexpected: [String]
    public var allViolations: [ViolationRecord] { steps.flatMap(\.violations) + end }
    /// True when the outcome is what the scenario says (or, without an
    /// expectation, when nothing fired).
    public var passed: Bool { missing.isEmpty && unexpected.isEmpty }
}

public enum ScenarioRunner {
    /// The configurations a scenario runs on, optionally narrowed.
    public static func configs(_ sc: Scenario, arch: Arch? = nil, kernel: KernelVersion? = nil) -> [ModelConfig] {
        let arches = arch.map { [$0] } ?? sc.arches
        let kernels = kernel.map { k in sc.kernels.filter { $0.series == k.series } } ?? sc.kernels
        return kernels.flatMap { k in arches.map { sc.config(arch: $0, kernel: k) } }
    }

    public static func run(_ sc: Scenario, config: ModelConfig) -> ScenarioRun {
        var state = ModelState(config: config)
        var records: [StepRecord] = []
        var all: [Violation] = []
        for (i, st) in sc.steps.enumerated() {
            let ctx = state.context
            let vs = Executor.run(st.call, on: &state)
            all += vs
            let result: String
            switch state.lastResult {
            case .none: result = ""
            case .pointer(let p): result = p == 0 ? "NULL" : "0x" + String(p, radix: 16)
            case .status(let s): result = "\(s)"
            }
            let ctxText = "\(ctx.exec.rawValue)\(ctx.textMutexHeld ? ",text_mutex" : ""),\(ctx.caller.rawValue)"
            records.append(StepRecord(index: i + 1, label: st.label, line: st.line, call: st.call.description, context: ctxText, result: result,
                                      areas: state.touched.map { AreaSnapshot(state.areas[$0], state) },
                                      violations: vs.map(ViolationRecord.init)))
        }
        let end = Executor.finish(&state)
        all += end
        var run = ScenarioRun(scenario: sc.name, file: sc.file, arch: config.arch.rawValue, kernel: config.capabilities.version.series,
                              settings: settings(config), steps: records, end: end.map(ViolationRecord.init),
                              hasExpectation: sc.expectations != nil, expected: [], missing: [], unexpected: [])
        let expected = (sc.expectations ?? []).filter { $0.applies(to: config) }
        run.expected = expected.map(\.description)
        for e in expected where !all.contains(where: e.matches) {
            run.missing.append(e.description)
        }
        var seen = Set<String>()
        for v in all where !expected.contains(where: { $0.matches(v) }) {
            let key = "\(v.invariant.id) [\(v.severity.rawValue)] at \(v.stepIndex == 0 ? "end" : "step \(v.stepIndex)")"
            if seen.insert(key).inserted { run.unexpected.append(key + ": " + v.message) }
        }
        return run
    }

    static func settings(_ c: ModelConfig) -> String {
        var parts = ["wx=\(c.wxMode.rawValue)"]
        parts.append(c.strictModuleRWX ? "strict-module-rwx" : "no-strict-module-rwx")
        if c.arch == .arm64 { parts.append(c.rodataFull ? "rodata-full" : "no-rodata-full") }
        if c.kasan { parts.append("kasan") }
        if c.numNodes > 1 { parts.append("nodes=\(c.numNodes)") }
        return parts.joined(separator: ", ")
    }
}
