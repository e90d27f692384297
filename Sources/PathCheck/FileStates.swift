import KernelModel
import KPolicyFiles
import PatchInput
import Extract

/// Memory kept across calls: the states the functions of one file leave it
/// in, as the entry states of the others.
///
/// A place that outlives a call — a file-scope or static variable, or a
/// member of a named struct type (`struct bpf_tramp_image.image`, whatever
/// the expression that reaches it) — is an `IRArgument.slot`. Each
/// function's paths record, per model area, the steps that made the area
/// what it is (`Recipe`: its allocation and every later call on it, in the
/// functions that ran them). Where a path returns with a place bound to a
/// live area it allocated (in this function or, replayed, in another), that
/// recipe is a state the place can be in when any function of the file
/// runs. A function that uses the place before binding it then starts it,
/// besides the RW data seed every unknown memory gets, in each such state:
/// the recipe is replayed through the model (the one transfer function)
/// under the function's name for it.
///
/// The states are computed as a fixpoint over the file's functions, per
/// arch: round 0 checks every function with no carried state; each further
/// round re-checks the functions that use a place whose states grew, with
/// the states the previous round's exits left. It stops when no place
/// gains a state, after `maxFileRounds` rounds, or with at most
/// `maxCarriedPerPlace` states per place (states compared by what the
/// replayed area is: allocator, flags, permissions of the mapping and of
/// the alias, purpose, history bits). Freed memory and NULL are not carried
/// (the IR does not see the pointer dropped or reset), nor memory that is
/// only the seed (its allocator and flags are not known).
extension PathChecker {
    /// Rounds of the file fixpoint after the first (a chain allocated in A,
    /// protected in B, freed in C needs two).
    public static let maxFileRounds = 3
    /// States kept per place; later ones are dropped (first found first).
    public static let maxCarriedPerPlace = 8

    /// One call that made kept memory what it is.
    struct RecipeStep: Sendable {
        var event: IREvent
        /// The name the event used for the memory.
        var name: String
        /// The function the event is in.
        var function: String
    }

    /// The steps, allocation first, that made one area what it is.
    struct Recipe: Sendable {
        var steps: [RecipeStep]

        /// "bpf_tramp_image_alloc() line 396, bpf_trampoline_update() line 482".
        func sources(besides function: String? = nil) -> [(function: String, line: Int)] {
            var out: [(String, Int)] = []
            for s in steps where s.function != function && !out.contains(where: { $0.0 == s.function && $0.1 == s.event.position.line }) {
                out.append((s.function, s.event.position.line))
            }
            return out
        }

        var functions: [String] {
            var seen: Set<String> = []
            return steps.map(\.function).filter { seen.insert($0).inserted }
        }
    }

    /// What each place may hold when a function starts: its recipes.
    struct CarriedStates {
        var byPlace: [String: [Recipe]] = [:]
        /// The replayed shape of each recipe (`shape`), to tell new states from known ones.
        var shapes: [String: Set<String>] = [:]

        /// Adds a recipe found at an exit; false when its state is known or
        /// the place is full.
        mutating func add(_ recipe: Recipe, place: String, config: ModelConfig) -> Bool {
            guard let shape = PathChecker.shape(of: recipe, config: config) else { return false }
            guard !(shapes[place]?.contains(shape) ?? false), (byPlace[place]?.count ?? 0) < PathChecker.maxCarriedPerPlace else { return false }
            shapes[place, default: []].insert(shape)
            byPlace[place, default: []].append(recipe)
            return true
        }
    }

    /// Checks the functions of one file: each function's paths on `arches`,
    /// memory kept across calls starting in the states the file's functions
    /// leave it in. One result per IR, in order.
    /// A function of common code only arch code calls runs on those arches
    /// only (`summaries.arches(for:among:)`); calls into other files run
    /// the arch's summaries.
    public static func checkFile(_ irs: [FunctionIR], arches: [Arch], tree: TreeCapabilities, summaries: ResolvedSummaries? = nil) -> [Result] {
        let places = irs.map(\.keptPlaces)
        let archesOf = irs.map { summaries?.arches(for: $0, among: arches) ?? arches }
        guard places.contains(where: { !$0.isEmpty }) else {
            return irs.indices.map { check(irs[$0], arches: archesOf[$0], tree: tree, summaries: summaries) }
        }
        var totals = irs.map { _ in Result() }
        for arch in arches {
            let config = ModelConfig(arch: arch, tree: tree)
            var carried = CarriedStates()
            var results: [Result?] = irs.map { _ in nil }
            /// The states of its places each function was last checked with.
            var seen: [[String: Int]] = irs.map { _ in [:] }
            for _ in 0...maxFileRounds {
                var grown = false
                var next = carried
                for (i, ir) in irs.enumerated() where archesOf[i].contains(arch) {
                    let view = places[i].reduce(into: [String: Int]()) { $0[$1] = carried.byPlace[$1]?.count ?? 0 }
                    if results[i] != nil && view == seen[i] { continue }
                    seen[i] = view
                    let run = check(ir, config: config, carried: places[i].isEmpty ? nil : carried, summaries: summaries)
                    results[i] = run.result
                    for (place, recipe) in run.exits where next.add(recipe, place: place, config: config) { grown = true }
                }
                carried = next
                if !grown { break }
            }
            for i in irs.indices {
                guard let r = results[i] else { continue }
                if totals[i].witness == nil { totals[i].witness = r.witness }
                totals[i].findings += r.findings
                totals[i].paths += r.paths
                totals[i].states += r.states
                totals[i].bounded = totals[i].bounded || r.bounded
                totals[i].helperStates += r.helperStates
                totals[i].helpersNotFollowed += r.helpersNotFollowed
            }
        }
        return totals
    }

    /// One function on one configuration, starting kept memory in the
    /// `carried` states; also the recipes its exits leave in each place.
    static func check(_ ir: FunctionIR, config: ModelConfig, carried: CarriedStates?, summaries: ResolvedSummaries?)
        -> (result: Result, exits: [(String, Recipe)]) {
        var ctx = Context(config: config, witness: (nil, nil), helpers: ir.helpers)
        ctx.use(summaries)
        ctx.carried = carried
        let result = check(ir, config: config, context: &ctx)
        return (result, ctx.exitStates)
    }

    /// What a replayed recipe leaves: the area's allocator, flags,
    /// permissions (mapping and alias) and history, as a string; nil when
    /// the recipe leaves no live area.
    static func shape(of recipe: Recipe, config: ModelConfig) -> String? {
        var probe = Item(block: 0, state: ModelState(config: config), trace: [], disowned: [], length: 0)
        _ = Executor.run(.setCaller(.core), on: &probe.state)
        guard let v = replay(recipe, as: "$probe", on: probe, config: config),
              let a = v.state.area(named: "$probe") else { return nil }
        let alias = a.pfns.map { $0 >= 0 ? v.state.pages[Int($0)].alias.description : "-" }
        return "\(a.allocator.rawValue)|\(a.flags)|\(a.size)|\(a.pageOrder)|\(a.map.map(\.description))|\(alias)|\(a.purpose.rawValue)|"
            + "\(a.execmemType.map { "\($0)" } ?? "-")|\(a.hasVmStruct)|\(a.everX)|\(a.permsChanged)|\(a.fromROXCache)|\(a.awaitingROX)|\(a.codeWritten)"
    }

    /// `recipe` run through the model on `item`'s state, the memory bound to
    /// `name`: nil when it leaves no live area there.
    static func replay(_ recipe: Recipe, as name: String, on item: Item, config: ModelConfig) -> Item? {
        var v = item
        for step in recipe.steps {
            var e = step.event
            func rename(_ o: String?) -> String? { o.map { $0 == step.name ? name : "$carried::" + $0 } }
            e.result = rename(e.result)
            for a in e.arguments.indices { e.arguments[a].object = rename(e.arguments[a].object) }
            for call in lower(e, state: v.state, config: config) { _ = Executor.run(call, on: &v.state) }
        }
        for key in v.state.bindings.keys where key.hasPrefix("$carried::") { v.state.unbind(key) }
        guard let a = v.state.area(named: name), a.state == .live else { return nil }
        _ = Executor.run(.markPersistent(.sym(name)), on: &v.state)
        v.recipes[a.id] = recipe
        return v
    }

    /// The paths that start `object` (unbound, kept in `place`) in a state
    /// the file's functions leave it in.
    static func carriedSeeds(_ item: Item, _ object: String, place: String, ctx: Context) -> [Item] {
        guard let recipes = ctx.carried?.byPlace[place], !item.fresh.contains(object) else { return [] }
        return recipes.compactMap { recipe -> Item? in
            guard var v = replay(recipe, as: object, on: item, config: ctx.config) else { return nil }
            v.carried[object] = recipe
            let from = recipe.sources(besides: nil).map { "\($0.function)() line \($0.line)" }.joined(separator: ", ")
            let now = v.state.pagePermissions(.sym(object))
            var step = TraceStep(line: 0, call: "\(object): kept across calls (\(place)), state left by \(from)",
                                 mapping: now?.map.description ?? "-", alias: now?.alias?.description ?? "-", invariants: [])
            step.stateFrom = recipe.functions
            v.trace.append(step)
            return v
        }
    }

    /// After `event` took `before` to `after`: the area it allocated starts
    /// a recipe, and a call on an area that has one extends it.
    static func record(_ event: IREvent, function: String, before: Item, after: inout Item) {
        guard event.kind == .call || event.kind == .cleanup || event.kind == .store else { return }
        if let r = event.result, let a = after.state.area(named: r), a.id >= before.state.areas.count, a.state == .live,
           !after.seeded.contains(r), after.carried[r] == nil {
            after.recipes[a.id] = Recipe(steps: [RecipeStep(event: event, name: r, function: function)])
            return
        }
        guard let o = event.arguments.first?.object, actedObject(event) == o, let a = after.state.area(named: o),
              after.recipes[a.id] != nil else { return }
        after.recipes[a.id]?.steps.append(RecipeStep(event: event, name: o, function: function))
    }

    /// Whether carried memory is still plain data where a step acts on it:
    /// never executable, permissions never changed, from no code allocator.
    /// That is what the RW seed assumes already, so a finding there does not
    /// count as memory the file allocated (a `kvfree()` of an array one
    /// function of the file vmallocs and another frees).
    static func isPlainData(_ a: Area) -> Bool {
        !a.everX && !a.permsChanged && !a.purpose.isCode && !a.fromROXCache
            && ![.moduleAlloc, .execmemAlloc, .bpfJitAllocExec, .bpfProgPack].contains(a.allocator)
    }

    /// At a return of the checked function: each place bound to a live area
    /// with a recipe. A path that returns a failure (NULL, a negative errno,
    /// `ERR_PTR()`) leaves nothing: its caller discards what it built.
    static func collectExit(_ item: Item, returned: String?, ctx: inout Context) {
        guard ctx.carried != nil, returned != FunctionIR.null, returned != FunctionIR.failure else { return }
        for (name, place) in ctx.placeNames.sorted(by: { $0.key < $1.key }) {
            guard let a = item.state.area(named: name), a.state == .live, let recipe = item.recipes[a.id] else { continue }
            ctx.exitStates.append((place, recipe))
        }
    }

    /// Notes the places an event names (for `collectExit`).
    static func notePlaces(_ event: IREvent, ctx: inout Context) {
        guard ctx.carried != nil else { return }
        if let r = event.result, let s = event.resultSlot { ctx.placeNames[r] = s }
        for a in event.arguments { if let o = a.object, let s = a.slot { ctx.placeNames[o] = s } }
    }
}
