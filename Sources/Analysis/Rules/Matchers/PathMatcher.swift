import KernelModel
import KPolicyFiles
import PatchInput
import Extract
import PathCheck
import Suggest

public struct PathMatcher: Sendable {
    /// Model invariants (`INV-ORDER`, `INV-WRITE`...) whose violation is a finding.
    public var invariants: [String]
    /// The kinds of event the violation must happen at: `set-memory`,
    /// `write`, `free`, `allocation`, `text-patch`, `flag` (empty: any).
    public var at: [String]
    /// `read-only`: the written page was present and read-only just before
    /// the step (not NULL, not unmapped, not past the end); `perms-changed`:
    /// set_memory_*() changed the object's permissions before the step;
    /// `any` otherwise.
    public var target: String
    /// Model severities that count (`error` by default: an advisory, such
    /// as W+X allowed by the configuration, is not a finding).
    public var severities: [String]
    /// `allocated`: only memory the function allocated on the path (its
    /// allocator and flags are known); `evident`: also memory it received
    /// when the function itself shows it writable (it writes to it or makes
    /// it writable before, or makes it read-only somewhere); `any`: all.
    public var memory: String
}

extension PathMatcher: RuleMatcher {
    public static let kind = "path"
    public static let summary = "a path of a function's control-flow IR (Sources/Extract/IRBuilder.swift) on which the reference model, run as the transfer function (Sources/PathCheck/), reports one of `invariants` at such an event. One finding per event, naming every arch it happens on. Path rules read the IR, not the facts; the IR is built only for files a path rule applies to"
    public static let fields = [
        MatcherField("invariants", "model invariant ids (`INV-ORDER`, `INV-WRITE`...)"),
        MatcherField("at", "event kinds the violation must happen at: \(PathMatcher.eventClasses.map { "`\($0)`" }.joined(separator: ", ")) (empty: any)"),
        MatcherField("target", "`any`, `read-only` (the written page was present and read-only just before the step) or `perms-changed` (set_memory_*() changed the object's permissions before the step)"),
        MatcherField("severities", "model severities that count: `error` by default, `advisory` too where the model's advisory cases count"),
        MatcherField("memory", "`any`, `allocated` (only memory the function allocated on the path) or `evident` (also memory it received and itself shows writable)"),
    ]

    public init(reading m: FieldReader) throws {
        let invariants = try m.strings("invariants", nonEmpty: true)
        for (i, inv) in invariants.enumerated() where !PathMatcher.knownInvariants.contains(inv) {
            throw m.error("invariants[\(i)]", "\"\(inv)\" is not a model invariant (\(PathMatcher.knownInvariants.sorted().joined(separator: ", ")))")
        }
        let at = try m.optionalStrings("at")
        for (i, a) in at.enumerated() where !PathMatcher.eventClasses.contains(a) {
            throw m.error("at[\(i)]", "\"\(a)\" is not an event kind (\(PathMatcher.eventClasses.joined(separator: ", ")))")
        }
        let target = try m.optionalString("target") ?? "any"
        guard target == "any" || MemoryCondition(rawValue: target) != nil else { throw m.error("target", "must be any, read-only or perms-changed") }
        let severities = try m.optionalStrings("severities")
        for (i, s) in severities.enumerated() where s != "error" && s != "advisory" {
            throw m.error("severities[\(i)]", "must be error or advisory")
        }
        let memory = try m.optionalString("memory") ?? "any"
        guard ["any", "allocated", "evident"].contains(memory) else { throw m.error("memory", "must be any, allocated or evident") }
        self.init(invariants: invariants, at: at, target: target, severities: severities.isEmpty ? ["error"] : severities, memory: memory)
    }

    public var matchDescription: String {
        let at = self.at.isEmpty ? "any step" : "a \(self.at.map { "`\($0)`" }.joined(separator: " or ")) step"
        let target = self.target == "read-only" ? ", on a page that was present and read-only just before it"
            : self.target == "perms-changed" ? ", on memory whose permissions set_memory_*() changed before it" : ""
        let memory = self.memory == "allocated" ? ", on memory the function allocated on that path"
            : self.memory == "evident" ? ", on memory the function allocated, or received and itself shows writable (a write or set_memory_rw() before the step, or a set_memory_ro() of it anywhere in the function)" : ""
        return "Every path of each function that allocates, protects, patches or frees executable memory is run through the reference model (`kpolicy model`) on every arch the tree has a model profile for (only the file's own arch under `arch/`), allocation failure included; a finding is a path on which the model reports \(codeList(invariants)) (severity \(severities.joined(separator: " or "))) at \(at)\(target)\(memory). Paths that reach the same place in the same state are explored once; loops are unrolled \(IRBuilder.loopUnrolling) times (`do { ... } while (0)` runs once); at most \(PathChecker.maxStates) states per function and arch. A function whose IR takes more than \(IRBuilder.defaultMaxWork) statements and expressions to build (unrolled copies counted) is not checked at all; the report lists it (`uncheckedFunctions`). Memory the function did not allocate starts as RW data. Memory kept across calls (a file-scope or static variable, or a member of a named struct type, whatever the expression that reaches it) also starts in each state the file's functions leave it in at their returns: its allocation and every later call on it, replayed through the model, found as a fixpoint over the file's functions (at most \(PathChecker.maxFileRounds) rounds after the first and \(PathChecker.maxCarriedPerPlace) states per place; freed memory, NULL and what a path returning a failure leaves are not carried); a finding on such a state counts as memory the file allocated (unless it is still plain data there) and names the functions that left it (`state left by ...`), and `kpolicy patch` reports it when one of them is touched. Without such a state, a file-scope pointer made writable again also starts read-only and executable. A call through a member function pointer the file fills (`.alloc = alloc_insn_page` in a designated initializer, `ops->free = f;`) is a call of each function the file puts there, one path each; a member the file does not fill is not followed. A `set_memory_*()` whose result the function tests forks into success and failure (permissions unchanged on failure). A call to a helper defined in the same file runs the helper's own paths from the caller's state (\(PathChecker.maxHelperDepth) levels of helpers deep, recursion not followed); a violation on memory the caller handed it is reported at the call. A call to a function the tree defines in another file (kernel/, mm/ and arch/, read as text: `TreeFunctions`) runs that function's own paths the same way, from a parse of its file; on each arch the definition that arch links is run (its `arch/<a>/` override, else the common or `__weak` one), so a finding names the arches it holds on and the definitions it rests on. An allocator and the function the code frees its memory with (the `.alloc`/`.free` members of one initializer, or the free called on the allocator's result in the same file) are a pair: the free's paths are run on the allocator's memory on every arch, so a free that does not match what the allocator returns on some arch is a finding there. A function of common code that only arch code calls (no caller in common code among the files read) is checked only on the arches whose code calls it."
    }

    public func matches(in file: MatchInput, rule: Rule) -> [Match] {
        matches(in: file.paths).map { m in
            var m = m
            m.pathSite?.summaries = file.context.summaries
            return m
        }
    }

    /// The calls that can lead to a violation this rule reports
    /// (`Invariant.leadingCalls`: its invariants, at steps of its `at`
    /// kinds, on memory in its `target` state) that the path checker
    /// follows (`KernelSignature.executableMemoryAnchors`): a function
    /// calling none of the anchors gets no IR. `memory` does not narrow
    /// them: memory the function allocated may come from an allocator the
    /// IR follows that is no anchor (vmalloc() in a function that calls
    /// set_memory_ro()). Calls into the tree's own executable-memory
    /// functions (TreeFunctions) are triggers of every path rule, added
    /// per tree by the run.
    public var derivedTriggers: [String]? {
        let kinds = Set(at.compactMap(StepKind.init(rawValue:)))
        let condition = MemoryCondition(rawValue: target)
        var calls: Set<String> = []
        for invariant in invariants.compactMap(Invariant.init(rawValue:)) {
            calls.formUnion(invariant.leadingCalls(at: kinds, on: condition))
        }
        return calls.filter(IRBuilder.isAnchor).sorted()
    }
}

extension PathMatcher {
    /// The definitions of other files a finding rests on, one entry per
    /// arch: `x86_64: alloc_insn_page() arch/x86/kernel/kprobes/core.c:494 (x86 override)`;
    /// nil when it rests on none.
    static func through(_ fs: [PathChecker.Finding]) -> [String]? {
        var byArch: [String: [String]] = [:]
        for f in fs where !f.basis.isEmpty && byArch[f.arch.rawValue] == nil { byArch[f.arch.rawValue] = f.basis }
        guard !byArch.isEmpty else { return nil }
        return byArch.sorted { $0.key < $1.key }.map { "\($0.key): " + $0.value.joined(separator: " → ") }
    }

    static let knownInvariants = Set(Invariant.allCases.map(\.rawValue))
    static let eventClasses = StepKind.allCases.map(\.rawValue)

    /// One match per event the violation happens at, naming every arch
    /// (and the paths' first witness) it happens on.
    func matches(in results: [(ir: FunctionIR, result: PathChecker.Result)]) -> [Match] {
        var out: [Match] = []
        for (ir, result) in results {
            var byPlace: [Position: [PathChecker.Finding]] = [:]
            for f in result.findings where invariants.contains(f.invariant.rawValue) && severities.contains(f.severity.rawValue) {
                if !at.isEmpty && !at.contains(f.eventClass) { continue }
                if target == "read-only" && !f.targetReadOnly { continue }
                if target == "perms-changed" && !f.permissionsChanged { continue }
                if memory == "allocated" && f.seededObject { continue }
                if memory == "evident" && !f.evidentlyWritable { continue }
                byPlace[f.event.position, default: []].append(f)
            }
            for (position, fs) in byPlace.sorted(by: { $0.key < $1.key }) {
                let first = fs[0]
                let arches = Array(Set(fs.map(\.arch.rawValue))).sorted()
                var values: [String: String] = [
                    "subject": first.event.spelled,
                    "object": first.event.arguments.first?.text ?? "",
                    "result": first.event.result.map { $0.hasPrefix("$") ? "the result" : $0 } ?? "",
                    "arches": arches.joined(separator: ", "),
                    "invariant": first.invariant.rawValue,
                    "model": first.message,
                    "kernel-generation": first.tree.version.series,
                ]
                // How this tree makes code read-only and executable on each arch of the finding.
                var restore: [String: [String]] = [:]
                for a in Arch.allCases where arches.contains(a.rawValue) {
                    restore[first.tree.restoreROX(on: a) ?? "set_memory_ro() then set_memory_x()", default: []].append(a.rawValue)
                }
                values["restore"] = restore.count == 1 ? restore.keys.first! + "()"
                    : restore.sorted { $0.key < $1.key }.map { "\($0.key)() on \($0.value.joined(separator: ", "))" }.joined(separator: ", ")
                values["lines"] = first.trace.filter { $0.line > 0 }.map { "\($0.line)" }.joined(separator: " → ")
                out.append(Match(position: position, function: ir.name, values: values, call: nil,
                                 trace: first.trace.isEmpty ? nil : first.trace.map { step in
                                     var s = step
                                     s.arch = first.arch.rawValue
                                     return s
                                 },
                                 // A pair's path is not the free's own: its rewrite would go
                                 // inside the free, per arch (not validated).
                                 pathSite: PairCheck.isPairPath(ir) ? nil : PathSite(ir: ir, event: position, object: first.event.arguments.first?.object ?? (first.eventClass == "allocation" || first.eventClass == "return" ? first.event.result : nil) ?? "",
                                                    arches: Arch.allCases.filter { arches.contains($0.rawValue) }, tree: first.tree),
                                 through: PathMatcher.through(fs)))
            }
        }
        return out
    }
}
