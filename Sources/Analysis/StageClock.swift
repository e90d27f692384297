import ClangKit
import Foundation
import KPolicyFiles
import PatchInput

/// CPU seconds per stage of a check, summed over the files analysed (and
/// over the workers: on two jobs the total may exceed the wall time). In the
/// JSON report as `stats.stages` when `KPOLICY_STAGE_TIMES=1`
/// (docs/report-format.md); docs/benchmarks.md has the figures on the trees.
public struct StageTimes: Sendable, Codable, Equatable {
    /// libclang's parse, every attempt for a file included.
    public var parse = 0.0
    /// The unit index and the facts (FactExtractor).
    public var extract = 0.0
    /// The control-flow IRs (IRBuilder), helpers' included.
    public var ir = 0.0
    /// Path exploration: every IR on every arch (PathChecker).
    public var paths = 0.0
    /// The rules' matchers on the facts.
    public var rules = 0.0
    /// Building findings: suggestions and their validation on the paths.
    public var suggestions = 0.0
    /// Files analysed, and IRs built for them.
    public var files = 0
    public var functions = 0
    /// The files whose IR and path stages cost most (at most five, CPU
    /// seconds of `ir` + `paths` + `suggestions`), to see where the
    /// checker's time goes.
    public var costliest: [FileCost] = []

    public struct FileCost: Sendable, Codable, Equatable {
        public var file: String
        public var seconds: Double

        package init(file: String, seconds: Double) {
            self.file = file
            self.seconds = seconds
        }
    }

    public init() {}

    mutating func add(_ o: StageTimes) {
        parse += o.parse; extract += o.extract; ir += o.ir; paths += o.paths
        rules += o.rules; suggestions += o.suggestions; files += o.files; functions += o.functions
        costliest = Array((costliest + o.costliest).sorted { $0.seconds > $1.seconds }.prefix(5))
    }

    /// The same, rounded to milliseconds (for the report).
    var rounded: StageTimes {
        func r(_ x: Double) -> Double { (x * 1000).rounded() / 1000 }
        var t = self
        t.parse = r(parse); t.extract = r(extract); t.ir = r(ir); t.paths = r(paths); t.rules = r(rules); t.suggestions = r(suggestions)
        t.costliest = costliest.map { FileCost(file: $0.file, seconds: r($0.seconds)) }
        return t
    }

    /// The calling thread's CPU seconds (the clock every stage is read on).
    static func now() -> Double { ThreadCPUTime.now() }

    /// Whether a run records them (`KPOLICY_STAGE_TIMES=1`).
    public static let enabled = ProcessInfo.processInfo.environment["KPOLICY_STAGE_TIMES"] == "1"
}

/// The per-run accumulator the workers add their files' stage times to.
public final class StageClock: @unchecked Sendable {
    private var total = StageTimes()
    private let lock = NSLock()

    public init() {}

    package func add(_ t: StageTimes) {
        lock.lock()
        total.add(t)
        lock.unlock()
    }

    public var times: StageTimes {
        lock.lock()
        defer { lock.unlock() }
        return total.rounded
    }
}
