import KernelModel
import KPolicyFiles
import PatchInput
import Extract

/// Runs every path of a function's IR through the reference model, with
/// the model as the transfer function: each event is lowered by
/// `KernelCall` (KernelModel) and executed by `Executor` on the path's
/// `ModelState`.
///
/// Exploration is depth-first over (block, state). Two paths that reach a
/// block in the same state (`ModelState` is Hashable and ignores step
/// bookkeeping) are merged: the future of a state does not depend on how it
/// was reached, so this loses no violation, only the second witness path.
/// Bounds, per function and configuration: `maxStates` (block, state)
/// pairs and `maxPathLength` blocks per path; a function that hits one is
/// reported `bounded` and its remaining paths are not explored. Loops are
/// already unrolled by the IR (`IRBuilder.loopUnrolling`); only a backward
/// goto can close a cycle, and the state merge or the path bound ends it.
///
/// Branches on `p == NULL` follow the state: after an allocation the path
/// forks into success and failure (the model's `inject_failure`), and a
/// NULL test takes only the branch the state allows. Other conditions take
/// both branches.
///
/// Memory the function did not allocate (a parameter, a member reached
/// through one, a file-scope variable) is seeded at its first use: RW data
/// from the vmalloc family, as callers hand it over. Memory kept across
/// calls (`IRArgument.slot`) also starts in each state the file's functions
/// leave it in (`checkFile`, FileStates.swift). A file-scope pointer for
/// which the file gives no such state and that the function makes writable
/// again (`set_memory_rw`/`_nx` on it) may already be executable: it is also
/// seeded read-only and executable, on a second path.
public enum PathChecker {
    public static let maxStates = 4096
    public static let maxPathLength = 512

    /// One step of a path, as a trace shows it.
    public struct TraceStep: Sendable, Codable, Equatable {
        public var line: Int
        public var call: String
        /// Permissions of the page the step acts on, after the step: the
        /// vmalloc mapping and its direct-map alias ("-" when none).
        public var mapping: String
        public var alias: String
        public var invariants: [String]
        /// The model arch the path was run on (set on a finding's trace).
        public var arch: String? = nil
        /// On the step that starts memory kept across calls in a state other
        /// functions of the file leave it in: those functions (`checkFile`).
        public var stateFrom: [String]? = nil
        /// The function the step runs in, when it is not the checked one:
        /// a helper of the file, or another file's function, on the path.
        public var function: String? = nil
    }

    /// A violation found on some path.
    public struct Finding: Sendable {
        public var invariant: Invariant
        public var severity: Severity
        public var message: String
        public var event: IREvent
        /// What the event is (`set-memory`, `restore`, `write`, `free`, `allocation`, `text-patch`, `flag`), or
        /// `return` for a violation found where the function returns
        /// memory (INV-ROX), reported at the call that produced it.
        public var eventClass: String
        /// For writes: the target page was present and read-only before the step.
        public var targetReadOnly: Bool
        /// The object the event acts on was seeded on this path (memory the
        /// function did not allocate), not allocated by it.
        public var seededObject: Bool
        /// set_memory_* changed the permissions of the object's area before the step.
        public var permissionsChanged: Bool
        /// The function itself shows the memory writable: it allocated it, or
        /// (for memory it did not allocate) wrote to it or made it writable
        /// before the step, makes it read-only somewhere, or the step is
        /// the set_memory_rw itself. A window on seeded memory needs it:
        /// the seed's W is an assumption, not something the code shows.
        public var evidentlyWritable: Bool
        public var arch: Arch
        /// The tree the model ran (its world and capabilities).
        public var tree: TreeCapabilities
        public var trace: [TraceStep]
        /// The definitions of other files whose summaries the path ran
        /// through (`TreeFunctions.Definition.described`), in order.
        public var basis: [String] = []
        /// The object's state was left by other functions of the file (or
        /// earlier calls of this one): those functions (`checkFile`).
        public var stateFrom: [String] = []
    }

    public struct Result: Sendable {
        public var findings: [Finding] = []
        /// Paths that reached a return.
        public var paths = 0
        /// (block, state) pairs explored.
        public var states = 0
        /// A bound was hit: some paths were not explored.
        public var bounded = false
        /// (block, state) pairs explored inside helpers, summed over every
        /// summary computed (held to `maxHelperStatesPerFunction` per arch,
        /// give or take the one summary that crosses it).
        public var helperStates = 0
        /// Helper calls not followed (unknown, too deep, recursive, or past
        /// a bound).
        public var helpersNotFollowed = 0
        /// The first path that reached the `witnessAt` event, if asked for.
        public var witness: [TraceStep]?
    }

    /// Checks `ir` on `arches` of a tree with `tree`'s capabilities; calls
    /// to functions of other files run the arch's definition from `summaries`.
    public static func check(_ ir: FunctionIR, arches: [Arch], tree: TreeCapabilities, summaries: ResolvedSummaries? = nil,
                             witnessAt: Position? = nil) -> Result {
        var total = Result()
        for arch in arches {
            let r = check(ir, config: ModelConfig(arch: arch, tree: tree), summaries: summaries, witnessAt: witnessAt)
            if total.witness == nil { total.witness = r.witness }
            total.findings += r.findings
            total.paths += r.paths
            total.states += r.states
            total.bounded = total.bounded || r.bounded
            total.helperStates += r.helperStates
            total.helpersNotFollowed += r.helpersNotFollowed
        }
        return total
    }

    /// How deep summaries of same-file helpers nest (a helper's helper is
    /// level 2); deeper calls, and a helper already on the call chain
    /// (recursion), are not followed: their result is other memory. The
    /// IR holds helpers that deep (`IRBuilder.maxHelperDepth`).
    public static var maxHelperDepth: Int { IRBuilder.maxHelperDepth }
    /// Bounds of one helper's exploration at one call: (block, state) pairs
    /// and distinct exit states. Past either, the call is not followed.
    public static let maxHelperStates = 1024
    public static let maxHelperExits = 64
    /// Bound of all helper explorations of one function check (one arch):
    /// (block, state) pairs summed over every summary computed. Past it,
    /// further helper calls are not followed (their result is other memory,
    /// as without summaries). Summaries are keyed by the caller's state, so
    /// a function with many states and many helper calls would otherwise
    /// explore its helpers again for each (6.12 kernel/power/snapshot.c,
    /// debug build: 580 s of CPU in the checker without this bound, 18 s
    /// with 8192, 5 s with 2048; its findings the same, none).
    public static let maxHelperStatesPerFunction = 2048

    /// A model state, shared by the items (and visited keys) that hold it
    /// until one of them changes it, with its hash kept until then: the
    /// checker copies items far more often than it steps them, and a model
    /// state is some twenty references.
    final class StateBox {
        var state: ModelState
        var hash: Int?

        init(_ state: ModelState) { self.state = state }

        /// The state's hash, computed once per box.
        var stateHash: Int {
            if let hash { return hash }
            let h = state.hashValue
            hash = h
            return h
        }
    }

    struct Item {
        var block: Int
        private(set) var box: StateBox
        var state: ModelState {
            _read { yield box.state }
            _modify {
                if isKnownUniquelyReferenced(&box) { box.hash = nil } else { box = StateBox(box.state) }
                yield &box.state
            }
        }
        var trace: [TraceStep]
        var disowned: Set<String>
        var length: Int
        var seeded: Set<String> = []
        /// Objects rebound to memory from a call the IR does not follow: seeded RW only.
        var fresh: Set<String> = []
        /// Seeded objects the path wrote to or made writable.
        var shownWritable: Set<String> = []
        /// Statuses of `set_memory_*()` calls on this path: true when the call failed.
        var status: [String: Bool] = [:]
        /// Definitions of other files whose summaries this path ran through.
        var basis: [String] = []
        /// Per model area: the steps that made it what it is, for memory
        /// kept across calls (`FileStates.swift`).
        var recipes: [Int: Recipe] = [:]
        /// Objects started in a state the file's functions leave them in.
        var carried: [String: Recipe] = [:]

        init(block: Int, state: ModelState, trace: [TraceStep], disowned: Set<String>, length: Int) {
            self.block = block
            self.box = StateBox(state)
            self.trace = trace
            self.disowned = disowned
            self.length = length
        }
    }

    /// A (block, state) pair already explored. The hash is computed once:
    /// hashing a model state walks all its areas and pages, and a set
    /// re-hashes every key each time it grows.
    struct VisitKey: Hashable {
        let block: Int
        let state: StateBox
        let disowned: Set<String>
        let status: [String: Bool]
        private let hash: Int

        /// `item` at `block` (its own block when nil).
        init(_ item: Item, block: Int? = nil) {
            self.block = block ?? item.block
            self.state = item.box
            self.disowned = item.disowned
            self.status = item.status
            var h = Hasher()
            h.combine(self.block)
            h.combine(item.box.stateHash)
            h.combine(disowned)
            h.combine(status)
            hash = h.finalize()
        }

        func hash(into hasher: inout Hasher) { hasher.combine(hash) }

        static func == (a: VisitKey, b: VisitKey) -> Bool {
            a.hash == b.hash && a.block == b.block && a.disowned == b.disowned && a.status == b.status
                && (a.state === b.state || a.state.state == b.state.state)
        }
    }

    /// What one function check shares across its helpers' explorations.
    struct Context {
        var config: ModelConfig
        var findings: [String: Finding] = [:]
        var witness: (at: Position?, trace: [TraceStep]?)
        var helpers: [String: FunctionIR]
        /// This arch's summaries of functions defined in other files, and
        /// which definitions they are.
        var tree: [String: FunctionIR] = [:]
        var treeBasis: [String: TreeFunctions.Definition] = [:]
        /// The file's `__weak` functions this arch replaces unsummarised (not followed).
        var replaced: Set<String> = []

        /// Takes this arch's part of `summaries` (the checked file's calls
        /// into other files, and its `__weak` functions the arch replaces).
        mutating func use(_ summaries: ResolvedSummaries?) {
            tree = summaries?.byArch[config.arch] ?? [:]
            treeBasis = summaries?.basis[config.arch] ?? [:]
            replaced = summaries?.replaced[config.arch] ?? []
        }
        /// Helper calls not followed (a bound, recursion or depth).
        var helpersNotFollowed = 0
        /// (block, state) pairs explored inside helpers so far (`maxHelperStatesPerFunction`).
        var helperStates = 0
        /// Summaries already computed: a call (its place and depth) from an
        /// entry state gives the same exits, so each is explored once per
        /// function and arch. Exits keep only the steps the helper added.
        var summaries: [SummaryKey: [Item]?] = [:]
        /// Helpers renamed for a call (`computeSummary`).
        var instances: [InstanceKey: FunctionIR] = [:]
        /// The states memory kept across calls may start in (`checkFile`);
        /// nil when the file's states are not computed.
        var carried: CarriedStates?
        /// Names of kept memory seen on the paths, and their places.
        var placeNames: [String: String] = [:]
        /// What the checked function's returns leave in each place.
        var exitStates: [(String, Recipe)] = []
    }

    /// A helper's summary at one call from one caller state (its hash
    /// computed once, as `VisitKey`'s).
    struct SummaryKey: Hashable {
        struct Fields: Hashable {
            var call: Position
            /// The outermost call (where findings inside the helper are reported).
            var site: Position?
            var depth: Int
            var state: ModelState
            var disowned: Set<String>
            var status: [String: Bool]
            var seeded: Set<String>
            var fresh: Set<String>
            var shownWritable: Set<String>
        }
        let fields: Fields
        private let hash: Int

        init(call: Position, site: Position?, depth: Int, state: ModelState, disowned: Set<String>, status: [String: Bool],
             seeded: Set<String>, fresh: Set<String>, shownWritable: Set<String>) {
            fields = Fields(call: call, site: site, depth: depth, state: state, disowned: disowned, status: status, seeded: seeded,
                            fresh: fresh, shownWritable: shownWritable)
            hash = fields.hashValue
        }

        func hash(into hasher: inout Hasher) { hasher.combine(hash) }
        static func == (a: SummaryKey, b: SummaryKey) -> Bool { a.hash == b.hash && a.fields == b.fields }
    }

    /// A helper at one call, its parameters mapped to the caller's objects.
    struct InstanceKey: Hashable {
        var call: Position
        var helper: String
        var fromTree: Bool
        var mapping: [String]
    }

    /// Where a helper's events run: the caller's call (findings are
    /// reported there) and the helpers on the chain.
    struct Frame {
        var depth = 0
        var chain: [String] = []
        var callSite: IREvent?
        /// The prefix of the helper's own objects (`its_alloc::page`).
        var localPrefix: String?
        /// The caller's objects the helper was handed (its arguments): a
        /// violation on one of them is reported at the call.
        var handed: Set<String> = []
        /// The helpers a call here reaches by name: inside another file's
        /// function, that file's own (nil: the checked file's).
        var scope: [String: FunctionIR]?
        /// Definitions of other files entered on the way here.
        var basis: [String] = []
    }

    static func check(_ ir: FunctionIR, config: ModelConfig, summaries: ResolvedSummaries? = nil, witnessAt: Position? = nil) -> Result {
        var ctx = Context(config: config, witness: (witnessAt, nil), helpers: ir.helpers)
        ctx.use(summaries)
        return check(ir, config: config, context: &ctx)
    }

    static func check(_ ir: FunctionIR, config: ModelConfig, context ctx: inout Context) -> Result {
        var result = Result()
        var start = ModelState(config: config)
        _ = Executor.run(.setCaller(.core), on: &start)
        let run = explore(ir, from: Item(block: 0, state: start, trace: [], disowned: [], length: 0),
                          frame: Frame(chain: [ir.name]), limits: (maxStates, Int.max), ctx: &ctx)
        result.paths = run.exits.count
        result.states = run.states
        result.bounded = run.bounded
        result.helperStates = ctx.helperStates
        result.helpersNotFollowed = ctx.helpersNotFollowed
        result.witness = ctx.witness.trace.map { $0.map { var s = $0; s.arch = config.arch.rawValue; return s } }
        result.findings = ctx.findings.values.sorted { ($0.event.position, $0.invariant.rawValue) < ($1.event.position, $1.invariant.rawValue) }
        return result
    }

    /// Depth-first exploration of `ir` from `item`: the items that reach a
    /// return (with the object returned), the states explored, and whether
    /// a bound (`limits`: states, exits) cut it short.
    static func explore(_ ir: FunctionIR, from first: Item, frame: Frame, limits: (states: Int, exits: Int), ctx: inout Context)
        -> (exits: [(item: Item, returned: String?)], states: Int, bounded: Bool) {
        var exits: [(item: Item, returned: String?)] = []
        var states = 0
        var stack = [first]
        var visited: Set<VisitKey> = []
        let seeds = seedPlan(ir)
        let tested = ir.testedStatuses
        let madeReadOnly = Set(ir.events.filter {
            let n = KernelCall.canonicalName($0.callee)
            return n == "set_memory_ro" || n == "set_memory_rox"
        }.compactMap { $0.arguments.first?.object })
        while let item = stack.popLast() {
            guard visited.insert(VisitKey(item)).inserted else { continue }
            states += 1
            if states > limits.states || item.length > maxPathLength || exits.count > limits.exits { return (exits, states, true) }
            let block = ir.blocks[item.block]
            var variants = [item]
            for event in block.events {
                var next: [Item] = []
                for v in variants {
                    for var out in step(v, event, seeds: seeds, frame: frame, ctx: &ctx, madeReadOnly: madeReadOnly, tested: tested) {
                        record(event, function: ir.name, before: v, after: &out)
                        next.append(out)
                    }
                }
                variants = next
            }
            for var v in variants {
                v.length += 1
                switch block.exit {
                case .goto(let b):
                    v.block = b; stack.append(v)
                case .any(let targets):
                    for b in targets.reversed() { var w = v; w.block = b; stack.append(w) }
                case .branch(let cond, let thenB, let elseB):
                    var takeThen = true, takeElse = true
                    switch cond {
                    case .isNull(let o), .nonNull(let o):
                        if let null = v.state.isNull(o) {
                            let isNullTest: Bool
                            if case .isNull = cond { isNullTest = true } else { isNullTest = false }
                            takeThen = null == isNullTest
                            takeElse = !takeThen
                        }
                    case .failed(let o):
                        if let failed = v.status[o] { takeThen = failed; takeElse = !failed }
                    case .execmemIsROX(let name):
                        if let type = KernelNames.execmemType(name) {
                            takeThen = ctx.config.capabilities.usesROXCache(type, on: ctx.config.arch)
                            takeElse = !takeThen
                        }
                    case .unknown: break
                    }
                    if takeElse { var w = v; w.block = elseB; stack.append(w) }
                    if takeThen { var w = v; w.block = thenB; stack.append(w) }
                case .return(let returned):
                    if frame.callSite == nil, let returned { checkReturn(v, returned: returned, ir: ir, ctx: &ctx) }
                    if frame.callSite == nil { collectExit(v, returned: returned, ctx: &ctx) }
                    exits.append((v, returned))
                }
            }
        }
        return (exits, states, false)
    }

    /// INV-ROX where the checked function returns `execmem_alloc_rw()`
    /// memory it wrote code into without making it ROX again: reported at
    /// the call that gave it the memory (the allocation, or the same-file
    /// helper that made it). Memory returned untouched (a wrapper such as
    /// x86's `alloc_tramp()`) is its caller's to restore, and memory stored
    /// in a member or a file-scope variable is not returned: the restore
    /// may happen elsewhere (the module loader, ITS pages).
    static func checkReturn(_ item: Item, returned: String, ir: FunctionIR, ctx: inout Context) {
        guard returned != FunctionIR.null, let viol = item.state.unrestoredCode(returned),
              let site = ir.events.first(where: { $0.result == returned && ($0.kind == .call || $0.kind == .helper) }) else { return }
        let key = "\(viol.invariant.rawValue)|\(site.position.line):\(site.position.column)|\(ctx.config.arch.rawValue)"
        guard ctx.findings[key] == nil else { return }
        var trace = item.trace
        trace.append(TraceStep(line: 0, call: "return \(returned)", mapping: item.state.pagePermissions(.sym(returned))?.map.description ?? "-",
                               alias: item.state.pagePermissions(.sym(returned))?.alias?.description ?? "-", invariants: [viol.invariant.rawValue]))
        ctx.findings[key] = Finding(invariant: viol.invariant, severity: viol.severity, message: "returned: " + viol.message,
                                    event: site, eventClass: StepKind.return.rawValue, targetReadOnly: false,
                                    seededObject: item.seeded.contains(returned), permissionsChanged: false, evidentlyWritable: true,
                                    arch: ctx.config.arch, tree: ctx.config.capabilities, trace: trace)
    }

    /// Per object not allocated in the function: the pages to seed and
    /// whether it may already be executable.
    struct Seed { var pages: Int; var mayBeExecutable: Bool }

    static func seedPlan(_ ir: FunctionIR) -> [String: Seed] {
        var plan: [String: Seed] = [:]
        for e in ir.events {
            guard e.kind == .call || e.kind == .store || e.kind == .cleanup, let o = actedObject(e) else { continue }
            var s = plan[o] ?? Seed(pages: 1, mayBeExecutable: false)
            let name = KernelCall.canonicalName(e.callee)
            if name.hasPrefix("set_memory_"), e.arguments.count > 1, let n = e.arguments[1].value, n > 0, n <= 512 {
                s.pages = max(s.pages, Int(n))
            }
            if (name == "set_memory_rw" || name == "set_memory_nx"), ir.objects[o] == .global { s.mayBeExecutable = true }
            plan[o] = s
        }
        return plan
    }

    static func eventClass(_ call: APICall) -> String { call.stepKind.rawValue }

    static func isAllocation(_ call: APICall) -> Bool {
        switch call {
        case .vmalloc, .vmallocNodeRange, .moduleAlloc, .execmemAlloc, .execmemAllocRW, .bpfJitAllocExec, .bpfProgPackAlloc, .kvmalloc, .kmalloc: return true
        default: return false
        }
    }

    /// The successors of `item` after `event`: one, or more where an
    /// allocation or a tested `set_memory_*()` may fail, a seed may be
    /// executable, or a helper's summary has several outcomes.
    static func step(_ item: Item, _ event: IREvent, seeds: [String: Seed], frame: Frame, ctx: inout Context,
                     madeReadOnly: Set<String> = [], tested: Set<String> = []) -> [Item] {
        if event.kind == .disown {
            var v = item
            if let o = event.arguments.first?.object { v.disowned.insert(o) }
            return [v]
        }
        if event.kind == .helper, let summary = helperSummary(item, event, frame: frame, ctx: &ctx) { return summary }
        if event.kind == .rebind || (event.kind == .helper && event.result != nil) {
            // A call the IR does not follow: its result is other memory.
            var v = item
            if let o = event.kind == .rebind ? event.arguments.first?.object : event.result {
                v.state.unbind(o)
                v.disowned.remove(o)
                v.fresh.insert(o)
                v.status[o] = nil
            }
            return [v]
        }
        if event.kind == .helper { return [item] }
        if event.kind == .cleanup, let o = event.arguments.first?.object, item.disowned.contains(o) { return [item] }
        notePlaces(event, ctx: &ctx)
        // Seed the memory the event acts on if the path has not seen it.
        var variants = [item]
        if let o = actedObject(event), !item.state.isBound(o), event.result != o {
            let seed = seeds[o] ?? Seed(pages: 1, mayBeExecutable: false)
            variants = [seeded(item, o, pages: seed.pages, prot: .kernel)]
            // Memory kept across calls also starts in each state the file's
            // functions leave it in; without any, a file-scope pointer made
            // writable again may already be read-only and executable.
            let place = o == event.arguments.first?.object ? event.arguments.first?.slot : nil
            let carried = place.map { carriedSeeds(item, o, place: $0, ctx: ctx) } ?? []
            variants += carried
            if carried.isEmpty && seed.mayBeExecutable && !item.fresh.contains(o) {
                variants.append(seeded(item, o, pages: seed.pages, prot: .kernelROX))
            }
        }
        var out: [Item] = []
        for v in variants {
            let calls = lower(event, state: v.state, config: ctx.config)
            guard let call = calls.first else { out.append(v); continue }
            if isAllocation(call) {
                var ok = run(call, event, on: v, failing: false, frame: frame, ctx: &ctx, madeReadOnly: madeReadOnly)
                // A wrapper's other calls run only when its allocation succeeded.
                for more in calls.dropFirst() { ok = run(more, event, on: ok, failing: false, frame: frame, ctx: &ctx, madeReadOnly: madeReadOnly) }
                out.append(ok)
                out.append(run(call, event, on: v, failing: true, frame: frame, ctx: &ctx, madeReadOnly: madeReadOnly))
            } else if call.returnsStatus, let status = event.result, tested.contains(status) {
                var ok = run(call, event, on: v, failing: false, frame: frame, ctx: &ctx, madeReadOnly: madeReadOnly)
                ok.status[status] = false
                out.append(ok)
                // Failed: the permissions stay as they were (-ENOMEM splitting a large page, -EINVAL).
                var failed = v
                failed.status[status] = true
                failed.trace.append(TraceStep(line: event.position.line, call: event.text + "  → fails (-ENOMEM)",
                                              mapping: target(event).flatMap { v.state.pagePermissions($0)?.map.description } ?? "-",
                                              alias: target(event).flatMap { v.state.pagePermissions($0)?.alias?.description } ?? "-",
                                              invariants: []))
                out.append(failed)
            } else {
                var r = run(call, event, on: v, failing: false, frame: frame, ctx: &ctx, madeReadOnly: madeReadOnly)
                for more in calls.dropFirst() { r = run(more, event, on: r, failing: false, frame: frame, ctx: &ctx, madeReadOnly: madeReadOnly) }
                out.append(r)
            }
            if ctx.witness.trace == nil, frame.callSite == nil, event.position == ctx.witness.at, let last = out.last { ctx.witness.trace = last.trace }
        }
        return out
    }

    static func target(_ event: IREvent) -> PtrExpr? {
        actedObject(event).map { PtrExpr.sym($0, event.arguments.first?.offset ?? 0) }
    }

    /// The object an event acts on: its first argument's, or the member of
    /// it the API means (`free_vm_area(area)` acts on `area->addr`).
    static func actedObject(_ event: IREvent) -> String? {
        guard let o = event.arguments.first?.object else { return nil }
        guard event.kind == .call, let sig = KernelSignature.named(KernelCall.canonicalName(event.callee)),
              let member = sig.parameters.first(where: { $0.position == 0 })?.member else { return o }
        return o + "->" + member
    }

    /// The summary of a same-file helper at one call: the helper's own IR,
    /// its parameters replaced by the caller's arguments and its locals
    /// made its own (`helper::name`), run through the model from the
    /// caller's state; the states it returns in are the call's successors,
    /// its returned object bound to the caller's variable. Nil when the
    /// helper is not followed (unknown, too deep, recursive, or past a
    /// bound): then its result is other memory, as for any call the IR does
    /// not follow.
    static func helperSummary(_ item: Item, _ event: IREvent, frame: Frame, ctx: inout Context) -> [Item]? {
        // In the checked file, the tree's definition first (an arch's
        // override of a same-file `__weak` default); inside another file's
        // function, that file's own helpers first.
        let local = frame.scope == nil ? ctx.helpers[event.callee] : frame.scope?[event.callee]
        let fromTree = ctx.tree[event.callee] != nil && (frame.scope == nil || local == nil)
        if frame.scope == nil, !fromTree, ctx.replaced.contains(event.callee) {
            if event.kind == .helper { ctx.helpersNotFollowed += 1 }
            return nil
        }
        guard let helper = fromTree ? ctx.tree[event.callee] : local, frame.depth < maxHelperDepth, !frame.chain.contains(helper.name) else {
            if event.kind == .helper { ctx.helpersNotFollowed += 1 }
            return nil
        }
        let key = SummaryKey(call: event.position, site: frame.callSite?.position, depth: frame.depth, state: item.state, disowned: item.disowned, status: item.status,
                             seeded: item.seeded, fresh: item.fresh, shownWritable: item.shownWritable)
        if let known = ctx.summaries[key] {
            return known.map { exits in
                exits.map { var v = $0; v.trace = item.trace + v.trace; v.length = item.length; v.block = item.block; return v }
            }
        }
        guard ctx.helperStates < maxHelperStatesPerFunction else { ctx.helpersNotFollowed += 1; return nil }
        let computed = computeSummary(item, event, helper: helper, fromTree: fromTree, frame: frame, ctx: &ctx)
        ctx.summaries[key] = computed.map { exits in
            exits.map { var v = $0; v.trace = Array(v.trace.dropFirst(item.trace.count)); return v }
        }
        return computed
    }

    static func computeSummary(_ item: Item, _ event: IREvent, helper: FunctionIR, fromTree: Bool, frame: Frame, ctx: inout Context) -> [Item]? {
        let prefix = helper.name + "::"
        var map: [String: String] = [:]
        for (i, p) in helper.parameters.enumerated() {
            map[p] = i < event.arguments.count ? (event.arguments[i].object ?? prefix + p) : prefix + p
        }
        // The helper with its objects renamed for this call: the same for
        // every caller state, so made once per call and mapping.
        let instanceKey = InstanceKey(call: event.position, helper: helper.name, fromTree: fromTree,
                                      mapping: helper.parameters.map { map[$0] ?? "" })
        let instance: FunctionIR
        if let known = ctx.instances[instanceKey] { instance = known } else {
            instance = helper.renamingObjects { name in
                let root = String(name.prefix { $0 != "-" && $0 != "." })
                if let to = map[root] { return to + name.dropFirst(root.count) }
                if helper.objects[root] == .global { return name }
                return prefix + name
            }
            ctx.instances[instanceKey] = instance
        }
        var entry = item
        entry.block = 0
        entry.length = 0
        let handed = Set(map.values.filter { !$0.hasPrefix(prefix) }).union(frame.callSite == nil ? [] : frame.handed)
        var sub = Frame(depth: frame.depth + 1, chain: frame.chain + [helper.name], callSite: frame.callSite ?? event, localPrefix: prefix,
                        handed: frame.callSite == nil ? handed : frame.handed.intersection(handed), scope: frame.scope, basis: frame.basis)
        if fromTree, let d = ctx.treeBasis[event.callee] {
            // Another file's function: its own helpers, and the definition named.
            sub.scope = helper.helpers
            sub.basis.append(d.described)
        }
        let run = explore(instance, from: entry, frame: sub, limits: (maxHelperStates, maxHelperExits), ctx: &ctx)
        ctx.helperStates += run.states
        guard !run.bounded, !run.exits.isEmpty else { ctx.helpersNotFollowed += 1; return nil }
        let described = fromTree ? ctx.treeBasis[event.callee]?.described : nil
        var out: [Item] = []
        var seen: Set<VisitKey> = []
        for (exit, returned) in run.exits {
            var v = exit
            v.block = item.block
            v.length = item.length
            if let described, !v.basis.contains(described) { v.basis.append(described) }
            if let r = event.result {
                if returned == FunctionIR.null {
                    v.state.bindNull(r)
                    v.seeded.remove(r)
                    v.fresh.remove(r)
                } else if let returned, v.state.isBound(returned) {
                    v.state.alias(r, to: returned)
                    if v.seeded.contains(returned) { v.seeded.insert(r) } else { v.seeded.remove(r) }
                    if v.fresh.contains(returned) { v.fresh.insert(r) } else { v.fresh.remove(r) }
                } else {
                    v.state.unbind(r)
                    v.fresh.insert(r)
                }
                v.disowned.remove(r)
                v.status[r] = nil
                // A helper called as a condition: the branch its path returned.
                if returned == FunctionIR.zero || returned == FunctionIR.nonZero || returned == FunctionIR.failure {
                    v.status[r] = returned != FunctionIR.zero
                }
            }
            // The helper's locals end with it (sets rebuilt only when they
            // hold one: most exits leave none).
            let local = { (name: String) in name.hasPrefix(prefix) }
            for name in v.state.bindings.keys where local(name) { v.state.unbind(name) }
            if v.seeded.contains(where: local) { v.seeded = v.seeded.filter { !local($0) } }
            if v.fresh.contains(where: local) { v.fresh = v.fresh.filter { !local($0) } }
            if v.shownWritable.contains(where: local) { v.shownWritable = v.shownWritable.filter { !local($0) } }
            if v.disowned.contains(where: local) { v.disowned = v.disowned.filter { !local($0) } }
            if v.status.keys.contains(where: local) { v.status = v.status.filter { !local($0.key) } }
            if seen.insert(VisitKey(v, block: 0)).inserted { out.append(v) }
        }
        return out
    }

    static func seeded(_ item: Item, _ object: String, pages: Int, prot: Perm) -> Item {
        var v = item
        v.seeded.insert(object)
        let seed = APICall.vmallocNodeRange(size: pages * Size.page, align: 1, range: .vmalloc, prot: prot, flags: [],
                                            purpose: prot.isExecutable ? .code : .data, bind: object)
        _ = Executor.run(seed, on: &v.state)
        _ = Executor.run(.markPersistent(.sym(object)), on: &v.state)
        v.trace.append(TraceStep(line: 0, call: "\(object): memory from outside the function, seeded \(prot.description)",
                                 mapping: prot.description, alias: "RW-", invariants: []))
        return v
    }

    static func run(_ call: APICall, _ event: IREvent, on item: Item, failing: Bool, frame: Frame, ctx: inout Context,
                    madeReadOnly: Set<String> = []) -> Item {
        let config = ctx.config
        var v = item
        let target = PathChecker.target(event)
        let before = target.flatMap { v.state.pagePermissions($0) }
        let readOnly = before.map { $0.map.isPresent && !$0.map.contains(.write) } ?? false
        let changed = actedObject(event).flatMap { v.state.area(named: $0)?.permsChanged } ?? false
        let object = actedObject(event)
        let plainCarried = object.flatMap { o in v.carried[o] == nil ? nil : v.state.area(named: o).map(isPlainData) } ?? false
        let isSeeded = (object.map { v.seeded.contains($0) } ?? false) || plainCarried
        var evident = !isSeeded || object.map { v.shownWritable.contains($0) || madeReadOnly.contains($0) } ?? false
        if case .setMemory(.rw, _, _, _) = call { evident = true }
        if let object, isSeeded {
            switch call {
            case .write, .setMemory(.rw, _, _, _): v.shownWritable.insert(object)
            default: break
            }
        }
        if failing { _ = Executor.run(.injectFailure, on: &v.state) }
        let violations = Executor.run(call, on: &v.state)
        let after = ((isAllocation(call) ? event.result.map { PtrExpr.sym($0) } : nil) ?? target).flatMap { v.state.pagePermissions($0) }
        var step = TraceStep(line: event.position.line, call: event.text + (failing ? "  → fails (NULL)" : ""),
                             mapping: after.map { $0.map.description } ?? "-", alias: after?.alias.map(\.description) ?? "-",
                             invariants: violations.map(\.invariant.rawValue))
        if frame.localPrefix != nil { step.function = frame.chain.last }
        v.trace.append(step)
        for viol in violations {
            // Inside a helper, a violation on the helper's own memory or on a
            // file-scope variable is the helper's (its own check reports
            // it); one on memory the caller handed it is reported at the
            // caller's call.
            if frame.localPrefix != nil {
                guard let o = object, frame.handed.contains(where: { o == $0 || o.hasPrefix($0 + "->") || o.hasPrefix($0 + ".") }) else { continue }
            }
            let site = frame.callSite ?? event
            let kept = object.flatMap { v.carried[$0] }
            let key = "\(viol.invariant.rawValue)|\(site.position.line):\(site.position.column)|\(config.arch.rawValue)" + (kept == nil ? "" : "|kept")
            if ctx.findings[key] == nil {
                var message = frame.callSite == nil ? viol.message : "in \(frame.chain.last ?? "")() line \(event.position.line): \(viol.message)"
                if let kept {
                    message += " (state left by " + kept.sources().map { "\($0.function)() line \($0.line)" }.joined(separator: ", ") + ")"
                }
                ctx.findings[key] = Finding(invariant: viol.invariant, severity: viol.severity, message: message, event: site,
                                            eventClass: eventClass(call), targetReadOnly: readOnly,
                                            seededObject: (object.map { v.seeded.contains($0) } ?? false) || plainCarried,
                                            permissionsChanged: changed, evidentlyWritable: evident, arch: config.arch,
                                            tree: config.capabilities, trace: v.trace,
                                            basis: v.basis + frame.basis.filter { !v.basis.contains($0) }, stateFrom: kept?.functions ?? [])
            }
        }
        return v
    }

    /// The model step an event is, through the model's one lowering; nil
    /// when the event names nothing the model can follow.
    static func lower(_ event: IREvent, state: ModelState, config: ModelConfig) -> [APICall] {
        return lowerOne(event, state: state).map { [$0] } ?? []
    }

    static func lowerOne(_ event: IREvent, state: ModelState) -> APICall? {
        let name: String
        switch event.kind {
        case .store: name = "write"
        case .cleanup, .call: name = KernelCall.canonicalName(KernelSignature.named(event.callee) != nil ? event.callee : event.spelled)
        case .disown, .helper, .rebind: return nil
        }
        guard let sig = KernelSignature.named(name) else { return nil }
        var values: [String: KernelValue] = [:]
        for p in sig.parameters {
            let arg: IRArgument? = event.kind == .store || event.kind == .cleanup
                ? (p.position == 0 ? event.arguments.first : nil)
                : p.position.flatMap { $0 < event.arguments.count ? event.arguments[$0] : nil }
            switch p.kind {
            case .size, .count, .countWithinPageSet:
                if let v = arg?.value, v >= 0, v <= Int64(ModelLimits.maxBytes) { values[p.key] = .size(Int(v)) }
                else if p.key == "len" { values[p.key] = .size(1) }
                else if p.required { values[p.key] = .size(Size.page) }
            case .signedPageCount:
                if let v = arg?.value, abs(v) <= Int64(ModelLimits.maxPages) { values[p.key] = .size(Int(v)) }
                else if let o = event.arguments.first?.object, let a = state.area(named: o) { values[p.key] = .size(max(1, a.map.count)) }
                else { values[p.key] = .size(1) }
            case .pointer:
                guard let o = arg?.object else { return nil }
                values[p.key] = .pointer(.sym(p.member.map { o + "->" + $0 } ?? o, arg?.offset ?? 0))
            case .prot:
                if let v = arg?.identifiers.lazy.compactMap(KernelNames.prot).first { values[p.key] = .prot(v) }
                else if p.required { values[p.key] = .prot(.kernel) }
            case .flags:
                var f: VMFlags = []
                for id in arg?.identifiers ?? [] { if let x = KernelNames.flag(id) { f.insert(x) } }
                values[p.key] = .flags(f)
            case .range:
                if let r = arg?.identifiers.lazy.compactMap(KernelNames.range).first { values[p.key] = .range(r) }
            case .type:
                values[p.key] = .type(arg?.identifiers.lazy.compactMap(KernelNames.execmemType).first ?? .moduleText)
            case .bind, .bindPages:
                values[p.key] = .bind((event.result ?? "$ret@\(event.position.line)") + (p.member.map { "->" + $0 } ?? ""))
            case .resultUsed:
                values[p.key] = .bool(event.result != nil)
            case .bool, .purpose, .pageSet:
                break
            }
        }
        if case .success(let c) = KernelCall(name, values).lower() { return c }
        return nil
    }
}
