import ClangKit
import KernelModel
import KPolicyFiles
import PatchInput

/// Builds the control-flow IR (`FunctionIR`) of each function that has an
/// executable-memory event, from the unit index the fact stage used and the
/// facts it produced (argument resolution is shared: an event's argument
/// identifiers are those of the `CallFact` at the same place).
///
/// What it follows: statements in order; if/else (with `&&`, `||`, `!` and
/// `unlikely()` in the condition split into branches, and `p`, `!p`,
/// `p == NULL`, `p != NULL`, `IS_ERR_OR_NULL(p)` as NULL tests); switch with
/// fall-through, `break` and `default`; while/for/do loops unrolled
/// `loopUnrolling` times; goto and labels; return; and the scope-exit
/// cleanups of `__free(name)` variables, which `no_free_ptr()` and
/// `return_ptr()` disarm. Control flow inside expressions is followed
/// too: `?:` whose arms call something branches like an if/else, and a
/// GNU statement expression's statements are statements. A test of a
/// status (`if (err)`, `if (set_memory_ro(...))`, `err < 0`) is a
/// `.failed` condition the path checker follows after `set_memory_*()`.
///
/// Same-file helpers a function calls get IRs of their own (helpers of
/// helpers down to `maxHelperDepth` levels), attached to the caller's IR:
/// the path checker applies them as summaries. A call through a member
/// function pointer the file fills (`FunctionPointerTable`: `c->alloc()`
/// with `.alloc = alloc_insn_page`) is a call of each function it may hold,
/// one branch each. Arguments naming memory kept across calls carry its
/// place (`IRArgument.slot`), and the functions that call an event on a
/// place the wanted ones use get IRs too (`keptPlacePartners`).
public struct IRBuilder {
    /// Iterations each loop is unrolled to: paths through 0, 1 and 2 iterations.
    public static let loopUnrolling = 2
    /// Above this many blocks a function's loops are taken at most once.
    public static let maxBlocks = 4000
    /// Statements and expressions one function's IR may lower, copies made
    /// by unrolling included (a subtree that can give no event counts once
    /// and is not walked). A function over it gets no IR: it is
    /// listed in the report (`CheckReport.uncheckedFunctions`) instead of
    /// being checked on part of its paths.
    public static let defaultMaxWork = 200_000

    /// Calls that make a function worth an IR: the ones that allocate, free,
    /// protect or patch executable memory. A function that only kmallocs and
    /// memcpys gets none.
    public static var anchors: Set<String> { KernelSignature.executableMemoryAnchors }

    /// Model APIs a C call can be lowered from (the page-set APIs take
    /// `struct page` arrays the IR does not follow).
    static let pageSetAPIs: Set<String> = ["alloc_pages", "__free_pages", "vmap", "vm_map_ram", "vm_unmap_ram", "vm_area_map_pages",
                                           "vm_area_unmap_pages", "vmap_pages_range", "check_wx", "run_work", "inject_failure", "ioremap",
                                           "bpf_jit_binary_pack_alloc", "bpf_jit_binary_pack_finalize", "bpf_jit_binary_pack_free"]

    /// This builder's bound (`defaultMaxWork` unless a test sets another).
    public let maxWork: Int
    /// Functions of the tree defined in other files whose summaries the
    /// path checker applies (`TreeFunctions.summarised`): a call to one is
    /// a `helper` event, and its caller gets an IR.
    public let external: Set<String>
    /// Functions that get an IR whatever they call (the frees of the
    /// tree's allocator/free pairs: a pair's free is checked against its
    /// allocator even when it no longer calls an executable-memory API).
    public let wanting: Set<String>

    public init(maxWork: Int = IRBuilder.defaultMaxWork, external: Set<String> = [], wanting: Set<String> = []) {
        self.maxWork = maxWork
        self.external = external
        self.wanting = wanting
    }

    /// Whether a call to `name` (resolved or spelled) is an event.
    public static func isEvent(_ name: String) -> Bool {
        let n = KernelCall.canonicalName(name)
        return KernelSignature.named(n) != nil && !pageSetAPIs.contains(n)
    }

    package static func isAnchor(_ name: String) -> Bool { anchors.contains(KernelCall.canonicalName(name)) }

    /// IRs of the functions defined in the unit that call an anchor. Call on
    /// a large stack (`LargeStack.run`).
    public func functions(of index: UnitIndex, facts: FileFacts) -> [FunctionIR] {
        build(of: index, facts: facts).functions
    }

    /// A function whose IR was not built: it went over `maxWork`.
    public struct Unbuilt: Sendable, Equatable {
        public var name: String
        public var position: Position
        /// Statements and expressions lowered when the build stopped.
        public var work: Int
    }

    /// The IRs, and the functions (callers or same-file helpers) left
    /// without one because they went over `maxWork`: such a function is not
    /// checked, and a call to such a helper is a call the IR does not follow.
    /// `memo`: IRs already lowered from the same unit by a builder with the
    /// same `maxWork` and `external` (a function's IR does not depend on
    /// `wanting` or `only`, which only choose the functions).
    public func build(of index: UnitIndex, facts: FileFacts, only: Set<String>? = nil, memo: Memo? = nil)
        -> (functions: [FunctionIR], unbuilt: [Unbuilt]) {
        let memo = memo ?? Memo()
        var wanted: Set<String> = []
        if let only {
            // Just these (a summary another file needs), with their helpers.
            return build(wanted: Set(index.definitions.map(\.spelling)).intersection(only), index: index, facts: facts,
                         pointers: memo.pointers(index, facts), partners: false, memo: memo)
        }
        for c in facts.calls where !c.isReference {
            if let f = c.function, IRBuilder.isAnchor(c.callee) || IRBuilder.isAnchor(c.spelled) || external.contains(c.callee) { wanted.insert(f) }
        }
        wanted.formUnion(index.definitions.map(\.spelling).filter { wanting.contains($0) })
        // The member pointers the file fills can only add a caller of an
        // anchor the file names (`.alloc = module_alloc`) or of a wanted
        // function: without either, nothing is built and the file's
        // bodies are not walked for them (most candidates of drivers/).
        guard !wanted.isEmpty || facts.calls.contains(where: { $0.isReference && IRBuilder.isAnchor($0.callee) }) else { return ([], []) }
        let pointers = memo.pointers(index, facts)
        // A call through a member pointer the file fills with an anchor
        // (`c->alloc()`, `.alloc = alloc_insn_page`) is a call of it.
        wanted.formUnion(pointers.callers { IRBuilder.isAnchor($0) || wanted.contains($0) })
        guard !wanted.isEmpty else { return ([], []) }
        // A caller of a function that has an anchor is wanted too (its
        // summary acts at the call), up to the helper depth.
        let definedNames = Set(index.definitions.map(\.spelling))
        for _ in 0..<IRBuilder.maxHelperDepth {
            var more: Set<String> = []
            for c in facts.calls where !c.isReference && wanted.contains(c.callee) && definedNames.contains(c.callee) {
                if let f = c.function, !wanted.contains(f) { more.insert(f) }
            }
            if more.isEmpty { break }
            wanted.formUnion(more)
        }
        return build(wanted: wanted, index: index, facts: facts, pointers: pointers, partners: true, memo: memo)
    }

    /// The IRs lowered from one unit, for the builds of it that follow
    /// (a file checked as a candidate, then built again for the summaries
    /// it offers: the arch JITs' largest functions lowered once).
    public final class Memo {
        var irs: [String: FunctionIR] = [:]
        private var table: FunctionPointerTable?

        public init() {}

        func pointers(_ index: UnitIndex, _ facts: FileFacts) -> FunctionPointerTable {
            if let table { return table }
            let made = FunctionPointerTable.of(index: index, facts: facts)
            table = made
            return made
        }
    }

    /// `partners`: also the functions that allocate, free or protect the
    /// kept places the wanted ones use (`keptPlacePartners`).
    func build(wanted: Set<String>, index: UnitIndex, facts: FileFacts, pointers: FunctionPointerTable, partners: Bool, memo: Memo)
        -> (functions: [FunctionIR], unbuilt: [Unbuilt]) {
        let definedNames = Set(index.definitions.map(\.spelling))
        var callsAt: [Position: CallFact] = [:]
        for c in facts.calls where !c.isReference { callsAt[c.position] = c }
        let defined = definedNames
        var definitions: [String: Cursor] = [:]
        for def in index.definitions where definitions[def.spelling] == nil { definitions[def.spelling] = def }
        var built: [String: FunctionIR] = [:]
        func ir(_ name: String) -> FunctionIR? {
            if let known = built[name] { return known }
            if let known = memo.irs[name] { built[name] = known; return known }
            guard let def = definitions[name] else { return nil }
            var b = FunctionBuilder(index: index, path: facts.path, callsAt: callsAt, helpers: defined.union(external).subtracting([name]), maxWork: maxWork)
            b.pointers = pointers
            let made = b.build(def)
            built[name] = made
            memo.irs[name] = made
            return made
        }
        var out: [FunctionIR] = []
        func withHelpers(_ name: String) -> FunctionIR? {
            guard var f = ir(name), f.unbuilt == nil else { return nil }
            var frontier = Set(f.events.filter { $0.kind == .helper }.map(\.callee))
            for _ in 0..<IRBuilder.maxHelperDepth {
                var next: Set<String> = []
                for h in frontier where f.helpers[h] == nil {
                    guard let g = ir(h), g.unbuilt == nil else { continue }
                    f.helpers[h] = g
                    next.formUnion(g.events.filter { $0.kind == .helper }.map(\.callee))
                }
                frontier = next
            }
            return f
        }
        for def in index.definitions where wanted.contains(def.spelling) {
            if let f = withHelpers(def.spelling) { out.append(f) }
        }
        if partners { out += keptPlacePartners(of: out, index: index, facts: facts, build: withHelpers) }
        let unbuilt = built.values.compactMap { f in f.unbuilt.map { Unbuilt(name: f.name, position: f.position, work: $0) } }
        return (out, unbuilt.sorted { ($0.position.line, $0.name) < ($1.position.line, $1.name) })
    }

    /// How many levels of same-file helpers get IRs, and so how deep the
    /// path checker's summaries of them nest (`PathChecker.maxHelperDepth`).
    public static let maxHelperDepth = 2
}

/// Lowers one function definition.
private struct FunctionBuilder {
    let index: UnitIndex
    let path: String
    let callsAt: [Position: CallFact]
    let helpers: Set<String>
    /// Member function pointers the file fills (`FunctionPointerTable`).
    var pointers = FunctionPointerTable()

    var blocks: [IRBlock] = [IRBlock()]
    var current = 0
    var labels: [String: Int] = [:]
    var breakTargets: [Int] = []
    var continueTargets: [Int] = []
    /// `__free` variables per open compound statement: (object, free function).
    var scopes: [[(object: String, free: String)]] = []
    var objects: [String: ObjectOrigin] = [:]
    /// Objects kept across calls, by the file-wide place they are kept in
    /// (`IRArgument.slot`): file-scope and static variables, members of
    /// named struct types.
    var slots: [String: String] = [:]
    var functionName = ""
    /// Flow-insensitive aliases: a local assigned only from one object is that object.
    var alias: [String: String] = [:]
    var unrolling = IRBuilder.loopUnrolling
    var truncated = false
    /// Offsets of no_free_ptr/return_ptr expansions already turned into events.
    var disowned: Set<Int> = []
    let disownMacros: [(offset: Int, end: Int, object: String)]
    /// What is read from a cursor once and asked again on every unrolled
    /// copy of a loop: operators, loop locals, whether a subtree matters.
    let memo = CursorMemo()
    /// Statements and expressions lowered so far (copies made by unrolling
    /// count again); past `maxWork` the build stops.
    let maxWork: Int
    var work = 0
    var overBudget = false

    init(index: UnitIndex, path: String, callsAt: [Position: CallFact], helpers: Set<String>, maxWork: Int) {
        self.maxWork = maxWork
        self.index = index
        self.path = path
        self.callsAt = callsAt
        self.helpers = helpers
        var d: [(Int, Int, String)] = []
        for m in index.macroExpansions where m.name == "no_free_ptr" || m.name == "return_ptr" {
            let tokens = m.cursor.tokens
            if let open = tokens.firstIndex(where: { $0.spelling == "(" }),
               let name = tokens[(open + 1)...].first(where: { $0.kind == .identifier }) {
                d.append((m.offset, m.cursor.extent.end.offset, name.spelling))
            }
        }
        disownMacros = d
    }

    mutating func build(_ def: Cursor) -> FunctionIR {
        functionName = def.spelling
        let body = def.children.last { $0.kind == .compoundStmt }
        if let body { collectAliases(body) }
        if let body { stmt(body) }
        blocks[current].exit = .return(nil)
        let parameters = def.children.filter { $0.kind == .parmDecl }.map(\.spelling)
        for p in parameters where objects[p] == nil { objects[p] = .parameter }
        var ir = FunctionIR(name: def.spelling, position: position(def.location), blocks: blocks, objects: objects, truncated: truncated,
                            parameters: parameters)
        if overBudget {
            // Not checked at all rather than checked on part of its paths.
            ir.blocks = [IRBlock()]
            ir.unbuilt = work
            return ir
        }
        annotateSlots(&ir)
        // Stores matter only to objects the calls act on.
        let acted = Set(ir.blocks.flatMap { $0.events.filter { $0.kind != .store && $0.kind != .rebind }.flatMap { e in e.arguments.compactMap(\.object) + [e.result].compactMap { $0 } } })
        for i in ir.blocks.indices {
            ir.blocks[i].events.removeAll { $0.kind == .store && !acted.contains($0.arguments.first?.object ?? "") }
        }
        return ir
    }

    func position(_ loc: SourceLocation) -> Position { Position(file: path, line: loc.line, column: loc.column) }

    // MARK: blocks

    mutating func newBlock() -> Int {
        blocks.append(IRBlock())
        if blocks.count > IRBuilder.maxBlocks, unrolling > 1 { unrolling = 1; truncated = true }
        return blocks.count - 1
    }

    mutating func jump(to b: Int) {
        blocks[current].exit = .goto(b)
        current = b
    }

    mutating func label(_ name: String) -> Int {
        if let b = labels[name] { return b }
        let b = newBlock()
        labels[name] = b
        return b
    }

    mutating func emit(_ e: IREvent) { blocks[current].events.append(e) }

    // MARK: statements

    /// Counts one statement or expression against `IRBuilder.defaultMaxWork`;
    /// false once the function is over it (the build then unwinds).
    mutating func spend() -> Bool {
        if overBudget { return false }
        work += 1
        if work > maxWork { overBudget = true; return false }
        return true
    }

    mutating func stmt(_ c: Cursor) {
        guard spend() else { return }
        switch c.kind {
        case .compoundStmt:
            scopes.append([])
            for child in c.children { stmt(child) }
            let scope = scopes.removeLast()
            emitCleanups([scope], at: c.extent.end)
        case .ifStmt:
            let parts = c.children
            guard parts.count >= 2 else { return }
            let thenB = newBlock(), after = newBlock()
            let elseB = parts.count >= 3 ? newBlock() : after
            condition(parts[0], then: thenB, else: elseB)
            current = thenB
            stmt(parts[1])
            blocks[current].exit = .goto(after)
            if parts.count >= 3 {
                current = elseB
                stmt(parts[2])
                blocks[current].exit = .goto(after)
            }
            current = after
        case .switchStmt:
            let parts = c.children
            guard parts.count >= 2 else { return }
            expression(parts[0], result: nil)
            let head = current, after = newBlock()
            var cases: [Int] = []
            var hasDefault = false
            current = newBlock()   // code before the first label is unreachable
            breakTargets.append(after)
            switchBody(parts[parts.count - 1], cases: &cases, hasDefault: &hasDefault)
            breakTargets.removeLast()
            blocks[current].exit = .goto(after)
            blocks[head].exit = .any(cases + (hasDefault ? [] : [after]))
            current = after
        case .caseStmt, .defaultStmt:
            // Outside switchBody (a label nested in a block): treated as a plain statement.
            if let body = c.children.last { stmt(body) }
        case .whileStmt:
            let parts = c.children
            guard parts.count == 2 else { return }
            loop(cond: parts[0], body: parts[1], inc: nil, bodyFirst: false)
        case .doStmt:
            let parts = c.children
            guard parts.count == 2 else { return }
            if FunctionBuilder.isZero(parts[1]) {
                // `do { ... } while (0)`, the macro idiom: the body runs once.
                let after = newBlock(), next = newBlock()
                breakTargets.append(after)
                continueTargets.append(next)
                stmt(parts[0])
                breakTargets.removeLast()
                continueTargets.removeLast()
                jump(to: next)
                jump(to: after)
                return
            }
            loop(cond: parts[1], body: parts[0], inc: nil, bodyFirst: true)
        case .forStmt:
            let (initial, cond, inc, body) = forParts(c)
            if let initial { stmt(initial) }
            guard let body else { return }
            loop(cond: cond, body: body, inc: inc, bodyFirst: false)
        case .gotoStmt:
            let name = c.children.first { $0.kind == .labelRef }?.spelling ?? c.tokens.dropFirst().first?.spelling ?? ""
            blocks[current].exit = .goto(label(name))
            current = newBlock()
        case .labelStmt:
            let b = label(c.spelling)
            jump(to: b)
            if let body = c.children.last { stmt(body) }
        case .returnStmt:
            var returned: String?
            if let value = c.children.first {
                // `return call(...)`: the call's result is what is returned.
                let direct = FunctionBuilder.strip(value).kind == .callExpr && disownedObject(in: value) == nil
                    ? "$return@\(c.location.line)" : nil
                expression(value, result: direct)
                returned = direct ?? object(of: value)?.name
                if returned == nil, FunctionBuilder.isNullConstant(value), FunctionBuilder.isPointer(value) { returned = FunctionIR.null }
                if returned == nil, let d = disownedObject(in: value) { returned = d }
                let called = FunctionBuilder.strip(value)
                if called.kind == .callExpr, ["ERR_PTR", "ERR_CAST"].contains(called.referenced?.spelling ?? "") { returned = FunctionIR.failure }
                if returned == nil, !FunctionBuilder.isPointer(value) {
                    switch value.evaluate() {
                    case .integer(let v)?: returned = v == 0 ? FunctionIR.zero : v < 0 ? FunctionIR.failure : FunctionIR.nonZero
                    case .unsigned(let v)?: returned = v == 0 ? FunctionIR.zero : FunctionIR.nonZero
                    default: break
                    }
                }
            }
            emitCleanups(scopes.reversed(), at: c.extent.start, except: returned)
            blocks[current].exit = .return(returned)
            current = newBlock()
        case .breakStmt:
            if let t = breakTargets.last { blocks[current].exit = .goto(t) }
            current = newBlock()
        case .continueStmt:
            if let t = continueTargets.last { blocks[current].exit = .goto(t) }
            current = newBlock()
        case .declStmt:
            for v in c.children where v.kind == .varDecl { declaration(v) }
        case .nullStmt:
            break
        default:
            if c.kind.isExpression || c.kind == .unexposedStmt { expression(c, result: nil) }
            else { for child in c.children { stmt(child) } }
        }
    }

    mutating func switchBody(_ c: Cursor, cases: inout [Int], hasDefault: inout Bool) {
        let items = c.kind == .compoundStmt ? c.children : [c]
        for item in items {
            var s = item
            // `case 1: case 2: stmt` nests the labels.
            while s.kind == .caseStmt || s.kind == .defaultStmt {
                if s.kind == .defaultStmt { hasDefault = true }
                let b = newBlock()
                jump(to: b)
                cases.append(b)
                guard let body = s.children.last else { break }
                s = body
            }
            stmt(s)
        }
    }

    /// The parts of a `for`: libclang lists only those present, so they are
    /// told apart by where they sit relative to the header's semicolons.
    func forParts(_ c: Cursor) -> (Cursor?, Cursor?, Cursor?, Cursor?) {
        let parts = c.children
        guard let body = parts.last else { return (nil, nil, nil, nil) }
        let header = Array(parts.dropLast())
        var semis: [Int] = []
        var depth = 0
        for t in c.tokens {
            if t.spelling == "(" { depth += 1 } else if t.spelling == ")" { depth -= 1; if depth == 0 { break } }
            else if t.spelling == ";", depth == 1 { semis.append(t.location.offset) }
        }
        // A loop written by a macro (`list_for_each_entry_safe`) shows no
        // semicolons: with all three parts present, the last is the
        // increment (the loop is still entered at least once, as before).
        guard semis.count == 2 else { return (nil, nil, header.count == 3 ? header[2] : nil, body) }
        var initial: Cursor?, cond: Cursor?, inc: Cursor?
        for p in header {
            let o = p.extent.start.offset
            if o < semis[0] { initial = p } else if o < semis[1] { cond = p } else { inc = p }
        }
        return (initial, cond, inc, body)
    }

    /// `loopUnrolling` copies of the body, each behind the condition.
    mutating func loop(cond: Cursor?, body: Cursor, inc: Cursor?, bodyFirst: Bool) {
        let after = newBlock()
        for i in 0..<unrolling {
            let bodyB = newBlock(), next = newBlock()
            if i == 0 && bodyFirst {
                jump(to: bodyB)
            } else if let cond {
                condition(cond, then: bodyB, else: after)
            } else {
                jump(to: bodyB)
            }
            current = bodyB
            if i > 0 {
                // The body's locals, and a variable the increment assigns
                // (`kip = next` of list_for_each_entry_safe): the next element.
                for name in loopLocals(body) + (inc.map(incrementedLocals) ?? []) {
                    let obj = canonical(name)
                    emit(IREvent(kind: .rebind, callee: "rebind", spelled: "rebind", position: position(body.location),
                                 arguments: [IRArgument(text: name, object: obj, offset: 0, value: nil, identifiers: [])],
                                 result: nil, text: "\(name): next iteration"))
                }
            }
            breakTargets.append(after)
            continueTargets.append(next)
            stmt(body)
            breakTargets.removeLast()
            continueTargets.removeLast()
            jump(to: next)
            if let inc { expression(inc, result: nil) }
        }
        // Past the bound the loop is taken to end.
        if let cond { expression(cond, result: nil) }
        jump(to: after)
    }

    mutating func declaration(_ v: Cursor) {
        let name = v.spelling
        objects[name] = v.storageClass == .static ? .global : .local
        let tokens = v.tokens
        // `void *page __free(execmem)`: the attribute follows the name (a
        // declaration in a macro's body has tokens running from the macro's
        // definition to its use, where another variable's `__free` may be).
        if let i = tokens.firstIndex(where: { $0.spelling == "__free" }), i > 0, tokens[i - 1].spelling == name, i + 2 < tokens.count,
           tokens[i + 1].spelling == "(" {
            let kind = tokens[i + 2].spelling
            if !scopes.isEmpty { scopes[scopes.count - 1].append((name, FunctionBuilder.freeFunction(forCleanup: kind))) }
        }
        if let value = v.children.last(where: { $0.kind.isExpression }) {
            expression(value, result: canonical(name))
        }
    }

    /// The free a `__free(name)` cleanup calls: DEFINE_FREE(kfree...),
    /// DEFINE_FREE(vfree...) and DEFINE_FREE(execmem, ..., execmem_free(_T))
    /// name their function directly or as `<name>_free`.
    static func freeFunction(forCleanup kind: String) -> String {
        if KernelSignature.named(kind) != nil { return kind }
        return kind + "_free"
    }

    mutating func emitCleanups(_ scopes: [[(object: String, free: String)]], at loc: SourceLocation, except: String? = nil) {
        for scope in scopes {
            for entry in scope.reversed() where canonical(entry.object) != except {
                let obj = canonical(entry.object)
                emit(IREvent(kind: .cleanup, callee: entry.free, spelled: entry.free, position: position(loc),
                             arguments: [IRArgument(text: entry.object, object: obj, offset: 0, value: nil, identifiers: [entry.object])],
                             result: nil, text: "\(entry.free)(\(entry.object)) at scope exit (__free)"))
            }
        }
    }

    // MARK: conditions

    mutating func condition(_ c: Cursor, then: Int, else elseB: Int) {
        let s = FunctionBuilder.strip(c)
        if s.kind == .callExpr {
            let callee = s.referenced?.spelling ?? s.spelling
            let written = index.source.identifier(atOffset: s.location.offset)
            if ["__builtin_expect", "likely", "unlikely"].contains(callee) || ["likely", "unlikely"].contains(written),
               var first = s.arguments.first {
                // unlikely(x) is __builtin_expect(!!(x), 0): drop the `!!`.
                for _ in 0..<2 {
                    let u = FunctionBuilder.strip(first)
                    guard u.kind == .unaryOperator, memo.operatorSpelling(u) ?? "!" == "!", let inner = u.children.first else { break }
                    first = inner
                }
                return condition(first, then: then, else: elseB)
            }
            // A same-file helper (or member pointer holding only such) as
            // the condition: its path's constant return decides the branch.
            let viaPointer = s.referenced?.kind == .functionDecl ? nil : pointers.targets(ofCall: s)
            if KernelSignature.returnsStatus(callee) || helpers.contains(callee)
                || (viaPointer.map { !$0.isEmpty && $0.allSatisfy(helpers.contains) } ?? false) {
                let status = "$status@\(s.location.line):\(s.location.column)"
                expression(s, result: status)
                blocks[current].exit = .branch(.failed(status), then: then, else: elseB)
                return
            }
            if KernelCall.canonicalName(callee) == "execmem_is_rox", let first = s.arguments.first,
               let type = first.tokenSlice.map(\.spelling).first(where: { KernelNames.execmemType($0) != nil }) {
                blocks[current].exit = .branch(.execmemIsROX(type), then: then, else: elseB)
                return
            }
            if callee == "IS_ERR_OR_NULL", let first = s.arguments.first, let o = object(of: first) {
                expression(first, result: nil)
                blocks[current].exit = .branch(.isNull(o.name), then: then, else: elseB)
                return
            }
        }
        if s.kind == .unaryOperator, memo.operatorSpelling(s) == "!", let inner = s.children.first {
            return condition(inner, then: elseB, else: then)
        }
        if s.kind == .binaryOperator, let op = memo.operatorSpelling(s), op == "<" || op == "==" || op == "!=",
           s.children.count == 2, FunctionBuilder.isNullConstant(s.children[1]), let status = statusVariable(s.children[0]) {
            expression(s.children[0], result: nil)
            blocks[current].exit = op == "==" ? .branch(.failed(status), then: elseB, else: then) : .branch(.failed(status), then: then, else: elseB)
            return
        }
        if s.kind == .binaryOperator, let op = memo.operatorSpelling(s), op == "&&" || op == "||" || op == "==" || op == "!=" {
            let parts = s.children
            if parts.count == 2 {
                if op == "&&" || op == "||" {
                    let mid = newBlock()
                    if op == "&&" { condition(parts[0], then: mid, else: elseB) } else { condition(parts[0], then: then, else: mid) }
                    current = mid
                    return condition(parts[1], then: then, else: elseB)
                }
                for (a, b) in [(parts[0], parts[1]), (parts[1], parts[0])] where FunctionBuilder.isNullConstant(b) {
                    if let o = object(of: a) {
                        expression(a, result: nil)
                        blocks[current].exit = .branch(op == "==" ? .isNull(o.name) : .nonNull(o.name), then: then, else: elseB)
                        return
                    }
                }
            }
        }
        expression(c, result: nil)
        if let o = object(of: s), s.kind == .declRefExpr || s.kind == .memberRefExpr || (s.kind == .binaryOperator && memo.operatorSpelling(s) == "="),
           FunctionBuilder.isPointer(s) {
            blocks[current].exit = .branch(.nonNull(o.name), then: then, else: elseB)
        } else if let status = statusVariable(s) {
            blocks[current].exit = .branch(.failed(status), then: then, else: elseB)
        } else {
            blocks[current].exit = .branch(.unknown, then: then, else: elseB)
        }
    }

    /// A local integer variable a condition tests as a status (`err`).
    func statusVariable(_ c: Cursor) -> String? {
        let s = FunctionBuilder.strip(c)
        guard s.kind == .declRefExpr, let t = s.referenced, t.kind == .varDecl, t.semanticParent?.kind != .translationUnit,
              t.storageClass != .static, !FunctionBuilder.isPointer(s), alias[t.spelling] == nil else { return nil }
        let type = s.canonicalTypeSpelling
        return type == "int" || type == "long" ? t.spelling : nil
    }

    /// A condition the compiler computes as 0 (`while (0)`).
    static func isZero(_ c: Cursor) -> Bool {
        switch c.evaluate() {
        case .integer(0)?, .unsigned(0)?: return true
        default: return false
        }
    }

    static func isNullConstant(_ c: Cursor) -> Bool {
        let s = strip(c)
        if s.kind == .integerLiteral || s.kind == .cStyleCastExpr || s.kind == .parenExpr || s.kind == .unexposedExpr {
            for e in [c, s] {
                if case .integer(0)? = e.evaluate() { return true }
                if case .unsigned(0)? = e.evaluate() { return true }
            }
        }
        return s.tokenSlice.map(\.spelling) == ["NULL"]
    }

    static func isPointer(_ c: Cursor) -> Bool {
        let t = c.canonicalTypeSpelling
        return t.hasSuffix("*") || t.contains("(*)")
    }

    // MARK: expressions

    /// Emits the events of `c` in evaluation order. `result`: the object the
    /// value of `c` is stored into (an initialiser, the right side of `=`).
    mutating func expression(_ c: Cursor, result: String?) {
        guard spend() else { return }
        // A subtree that can give no event (no call the IR follows, no
        // assignment, no statement expression) is not walked, however
        // often unrolling copies it.
        if result == nil, inert(c) { return }
        if let d = disownMacros.first(where: { $0.offset == c.location.offset && c.isInMainFile }), !disowned.contains(d.offset) {
            disowned.insert(d.offset)
            for child in c.children { expression(child, result: nil) }
            let obj = canonical(d.object)
            emit(IREvent(kind: .disown, callee: "no_free_ptr", spelled: "no_free_ptr", position: position(c.location),
                         arguments: [IRArgument(text: d.object, object: obj, offset: 0, value: nil, identifiers: [d.object])],
                         result: nil, text: "no_free_ptr(\(d.object))"))
            return
        }
        switch c.kind {
        case .callExpr:
            for a in c.arguments { expression(a, result: nil) }
            call(c, result: result)
        case .binaryOperator, .compoundAssignOperator:
            let parts = c.children
            guard parts.count == 2 else { return }
            let op = memo.operatorSpelling(c)
            if op == "=" || c.kind == .compoundAssignOperator {
                let lhs = object(of: parts[0])
                expression(parts[1], result: op == "=" ? lhs?.name : nil)
                store(parts[0])
                // A status assigned something other than a call's result no longer holds that call's.
                if let status = statusVariable(parts[0]), FunctionBuilder.strip(parts[1]).kind != .callExpr {
                    emit(IREvent(kind: .rebind, callee: "rebind", spelled: "rebind", position: position(c.location),
                                 arguments: [IRArgument(text: status, object: status, offset: 0, value: nil, identifiers: [])],
                                 result: nil, text: "\(status) = <value>"))
                }
            } else {
                expression(parts[0], result: nil)
                expression(parts[1], result: nil)
            }
        case .unaryOperator:
            if let op = memo.operatorSpelling(c), op == "++" || op == "--" || op == "post++" || op == "post--", let inner = c.children.first {
                store(inner)
            }
            for child in c.children { expression(child, result: nil) }
        case .stmtExpr:
            for child in c.children { stmt(child) }
        case .conditionalOperator where c.isInMainFile && c.children.count == 3 && (hasEvent(c.children[1]) || hasEvent(c.children[2])):
            // `cond ? a : b` whose arms call something: two branches.
            let parts = c.children
            let thenB = newBlock(), elseB = newBlock(), after = newBlock()
            condition(parts[0], then: thenB, else: elseB)
            current = thenB
            expression(parts[1], result: result)
            blocks[current].exit = .goto(after)
            current = elseB
            expression(parts[2], result: result)
            blocks[current].exit = .goto(after)
            current = after
        case .parenExpr, .cStyleCastExpr, .unexposedExpr:
            for child in c.children { expression(child, result: result) }
        default:
            for child in c.children { expression(child, result: nil) }
        }
    }

    /// Whether lowering `c` (its value not stored anywhere) can emit
    /// nothing: no call to an event or a same-file helper, no assignment,
    /// `++`/`--`, statement expression or `no_free_ptr()` in it. Each node
    /// is asked once per function.
    func inert(_ c: Cursor) -> Bool {
        if let known = memo.inert[c] { return known }
        var result: Bool
        switch c.kind {
        case .compoundAssignOperator, .stmtExpr:
            result = false
        case .binaryOperator:
            result = memo.operatorSpelling(c) != "="
        case .unaryOperator:
            let op = memo.operatorSpelling(c)
            result = !(op == "++" || op == "--" || op == "post++" || op == "post--")
        case .callExpr:
            result = !callMatters(c)
        default:
            result = true
        }
        if result, !disownMacros.isEmpty {
            let start = c.extent.start.offset, end = c.extent.end.offset
            if disownMacros.contains(where: { $0.offset >= start && $0.offset < end }) { result = false }
        }
        if result {
            for child in c.children where !inert(child) { result = false; break }
        }
        memo.inert[c] = result
        return result
    }

    /// Whether a call is one the IR lowers: an event or a same-file helper.
    func callMatters(_ node: Cursor) -> Bool {
        guard node.kind == .callExpr else { return false }
        guard let target = node.referenced, target.kind == .functionDecl else {
            return pointers.targets(ofCall: node)?.contains { IRBuilder.isEvent($0) || helpers.contains($0) } ?? false
        }
        return IRBuilder.isEvent(target.spelling) || helpers.contains(target.spelling)
            || IRBuilder.isEvent(index.source.identifier(atOffset: node.location.offset))
    }

    /// Whether `c` calls an event or a same-file helper (an arm of `?:`
    /// worth a branch; other arms are read through).
    func hasEvent(_ c: Cursor) -> Bool {
        if let known = memo.hasEvent[c] { return known }
        let found = scanForEvent(c)
        memo.hasEvent[c] = found
        return found
    }

    func scanForEvent(_ c: Cursor) -> Bool {
        func matters(_ node: Cursor) -> Bool { callMatters(node) }
        if matters(c) { return true }
        var found = false
        c.visitChildren { node, _ in
            if matters(node) { found = true; return .break }
            return .recurse
        }
        return found
    }

    /// A store through a pointer, when the target is one (`*p`, `p[i]`, `p->f`).
    mutating func store(_ target: Cursor) {
        let s = FunctionBuilder.strip(target)
        var base: Cursor?
        switch s.kind {
        case .unaryOperator where memo.operatorSpelling(s) == "*": base = s.children.first
        case .arraySubscriptExpr: base = s.children.first
        case .memberRefExpr:
            if s.tokenSlice.contains(where: { $0.spelling == "->" }) { base = s.children.first }
        default: break
        }
        guard let base, let o = object(of: base) else { return }
        let text = s.tokenSlice.map(\.spelling).joined(separator: " ")
        emit(IREvent(kind: .store, callee: "store", spelled: "store", position: position(s.location),
                     arguments: [IRArgument(text: text, object: o.name, offset: o.offset, value: nil, identifiers: [])],
                     result: nil, text: "\(text) = ..."))
    }

    mutating func call(_ c: Cursor, result: String?) {
        guard let target = c.referenced, target.kind == .functionDecl else {
            if let targets = pointers.targets(ofCall: c) { pointerCall(c, targets: targets, result: result) }
            return
        }
        emitCall(c, callee: target.spelling, spelled: index.source.identifier(atOffset: c.location.offset), result: result)
    }

    /// A call through a member pointer the file fills: a call of each
    /// function it may hold, one branch each (`.any`).
    mutating func pointerCall(_ c: Cursor, targets: [String], result: String?) {
        guard c.isInMainFile, targets.contains(where: { IRBuilder.isEvent($0) || helpers.contains($0) }) else {
            if let result, c.isInMainFile { rebind(result, at: c) }
            return
        }
        let via = FunctionBuilder.strip(c.children.first ?? c).tokenSlice.map(\.spelling).joined()
        guard targets.count > 1 else { emitCall(c, callee: targets[0], spelled: targets[0], result: result, via: via); return }
        let head = current, after = newBlock()
        var arms: [Int] = []
        for t in targets {
            let b = newBlock()
            arms.append(b)
            current = b
            emitCall(c, callee: t, spelled: t, result: result, via: via)
            blocks[current].exit = .goto(after)
        }
        blocks[head].exit = .any(arms)
        current = after
    }

    /// The event (or helper call) of a call to `callee`; `via`: the member
    /// pointer it was called through, for traces.
    mutating func emitCall(_ c: Cursor, callee: String, spelled: String, result: String?, via: String? = nil) {
        let isEvent = IRBuilder.isEvent(callee) || (!spelled.isEmpty && IRBuilder.isEvent(spelled))
        let isHelper = !isEvent && helpers.contains(callee)
        if !isEvent && !isHelper {
            // The result of a call the IR does not follow is other memory.
            if let result, c.isInMainFile { rebind(result, at: c) }
            return
        }
        guard c.isInMainFile else { return }
        let pos = position(c.location)
        let fact = callsAt[pos]
        let args = c.arguments.enumerated().map { i, a -> IRArgument in
            let o = object(of: a)
            var value: Int64?
            switch a.evaluate() {
            case .integer(let v)?: value = v
            case .unsigned(let v)?: value = Int64(bitPattern: v)
            default: break
            }
            let text = fact.flatMap { i < $0.arguments.count ? $0.arguments[i].text : nil } ?? a.tokenSlice.map(\.spelling).joined(separator: " ")
            let identifiers = fact.flatMap { i < $0.arguments.count ? Array($0.arguments[i].identifiers).sorted() : nil }
                ?? a.tokenSlice.filter { $0.kind == .identifier }.map(\.spelling)
            return IRArgument(text: text, object: o?.name, offset: o?.offset, value: value, identifiers: identifiers)
        }
        let name = spelled.isEmpty ? callee : spelled
        emit(IREvent(kind: isHelper ? .helper : .call, callee: callee, spelled: name, position: pos, arguments: args, result: result,
                     text: "\(result.map { "\($0) = " } ?? "")\(via.map { "\($0) → " } ?? "")\(name)(\(args.map(\.text).joined(separator: ", ")))"))
    }

    mutating func rebind(_ object: String, at c: Cursor) {
        emit(IREvent(kind: .rebind, callee: "rebind", spelled: "rebind", position: position(c.location),
                     arguments: [IRArgument(text: object, object: object, offset: 0, value: nil, identifiers: [])],
                     result: nil, text: "\(object) = <other memory>"))
    }

    /// Locals declared or assigned in a loop body: each iteration's are new.
    func loopLocals(_ body: Cursor) -> [String] {
        if let known = memo.loopLocals[body] { return known }
        let names = scanLoopLocals(body)
        memo.loopLocals[body] = names
        return names
    }

    func scanLoopLocals(_ body: Cursor) -> [String] {
        var names: [String] = []
        body.visitChildren { node, _ in
            if node.kind == .varDecl { names.append(node.spelling) }
            if node.kind == .binaryOperator, memo.operatorSpelling(node) == "=", let lhs = node.children.first {
                let s = FunctionBuilder.strip(lhs)
                if s.kind == .declRefExpr, let t = s.referenced, t.kind == .varDecl, t.semanticParent?.kind != .translationUnit,
                   t.storageClass != .static {
                    names.append(t.spelling)
                }
            }
            return .recurse
        }
        var seen: Set<String> = []
        return names.filter { seen.insert($0).inserted }
    }

    /// Pointer locals a loop's increment assigns (`p = next`, `kip = n, n = ...`).
    func incrementedLocals(_ inc: Cursor) -> [String] {
        var names: [String] = []
        var nodes = [inc]
        inc.visitChildren { node, _ in nodes.append(node); return .recurse }
        // In a macro's body the operator is not read reliably from the
        // written tokens: there a pointer-typed operation on a local pointer
        // other than `+`/`-` is taken for an assignment of it.
        for node in nodes where node.kind == .binaryOperator {
            let op = memo.operatorSpelling(node)
            guard op == "=" || (op != "+" && op != "-" && FunctionBuilder.isPointer(node)) else { continue }
            guard let lhs = node.children.first else { continue }
            let s = FunctionBuilder.strip(lhs)
            if s.kind == .declRefExpr, let t = s.referenced, t.kind == .varDecl, t.semanticParent?.kind == .functionDecl,
               t.storageClass != .static, FunctionBuilder.isPointer(s), !names.contains(t.spelling) {
                names.append(t.spelling)
            }
        }
        return names
    }

    /// An object named inside a no_free_ptr()/return_ptr() in `c`, if any.
    func disownedObject(in c: Cursor) -> String? {
        let start = c.extent.start.offset, end = c.extent.end.offset
        return disownMacros.first { $0.offset >= start && $0.offset < end }.map { canonical($0.object) }
    }

    // MARK: objects

    static func strip(_ c: Cursor) -> Cursor {
        var c = c
        while [CursorKind.unexposedExpr, .parenExpr, .cStyleCastExpr].contains(c.kind), let inner = c.children.last { c = inner }
        return c
    }

    func canonical(_ name: String) -> String {
        var n = name
        var seen: Set<String> = [n]
        while let next = alias[n], seen.insert(next).inserted { n = next }
        return n
    }

    /// The object an expression points into, and the byte offset when known.
    mutating func object(of c: Cursor) -> (name: String, offset: Int?)? {
        guard let raw = rawObject(of: c) else { return nil }
        return (canonical(raw.name), raw.offset)
    }

    mutating func rawObject(of c: Cursor) -> (name: String, offset: Int?)? {
        let s = FunctionBuilder.strip(c)
        switch s.kind {
        case .declRefExpr:
            guard let target = s.referenced, target.kind == .varDecl || target.kind == .parmDecl else { return nil }
            let name = target.spelling
            if target.kind == .varDecl, slots[name] == nil {
                if target.storageClass == .static, target.semanticParent?.kind == .functionDecl { slots[name] = functionName + "::" + name }
                else if target.semanticParent?.kind != .functionDecl { slots[name] = name }
            }
            if objects[name] == nil {
                if target.kind == .parmDecl { objects[name] = .parameter }
                else if target.semanticParent?.kind == .translationUnit || target.storageClass == .static { objects[name] = .global }
                else { objects[name] = .local }
            }
            return (name, 0)
        case .memberRefExpr:
            guard let base = s.children.first else { return nil }
            // A member of an array element: one object per constant index;
            // with an index known only at run time (`mod->mem[type].base`)
            // the IR cannot tell the elements apart and follows none.
            let element = FunctionBuilder.strip(base)
            if element.kind == .arraySubscriptExpr {
                let parts = element.children
                guard parts.count == 2, let array = rawObject(of: parts[0]) else { return nil }
                let index: Int64
                switch parts[1].evaluate() {
                case .integer(let v)?: index = v
                case .unsigned(let v)? where v < UInt64(Int64.max): index = Int64(v)
                default: return nil
                }
                let name = canonical(array.name) + "[\(index)]." + s.spelling
                if objects[name] == nil { objects[name] = objects[canonical(array.name)] == .global ? .global : .parameter }
                return (name, 0)
            }
            guard let b = rawObject(of: base) else { return nil }
            let arrow = s.tokenSlice.contains { $0.spelling == "->" }
            let name = canonical(b.name) + (arrow ? "->" : ".") + s.spelling
            if slots[name] == nil, let type = IRBuilder.structType(of: base) { slots[name] = type + "." + s.spelling }
            if objects[name] == nil { objects[name] = objects[canonical(b.name)] == .local ? .parameter : (objects[canonical(b.name)] ?? .parameter) }
            return (name, 0)
        case .arraySubscriptExpr:
            guard let base = s.children.first else { return nil }
            // An element that is itself a pointer (`aux->func[i]` of a
            // `struct bpf_prog **`) is other memory, one object per
            // constant index; with an index known only at run time the
            // elements cannot be told apart and none is followed. An
            // element that is data is a place in the array's own memory.
            if FunctionBuilder.isPointer(s) {
                let parts = s.children
                guard parts.count == 2, let array = rawObject(of: parts[0]) else { return nil }
                switch parts[1].evaluate() {
                case .integer(let v)?:
                    let name = canonical(array.name) + "[\(v)]"
                    if objects[name] == nil { objects[name] = objects[canonical(array.name)] == .global ? .global : .parameter }
                    return (name, 0)
                default: return nil
                }
            }
            guard let b = rawObject(of: base) else { return nil }
            return (b.name, nil)
        case .binaryOperator:
            guard let op = memo.operatorSpelling(s), op == "+" || op == "-" else { return nil }
            let parts = s.children
            guard parts.count == 2, let b = rawObject(of: parts[0]) else { return nil }
            var delta: Int?
            if case .integer(let v)? = parts[1].evaluate() { delta = Int(v) }
            if case .unsigned(let v)? = parts[1].evaluate(), v < UInt64(Int.max) { delta = Int(v) }
            // Byte arithmetic only: integers, void * and char-sized pointers.
            let t = FunctionBuilder.strip(parts[0]).canonicalTypeSpelling
            let bytes = !t.contains("*") || t.hasPrefix("void") || t.hasPrefix("char") || t.hasPrefix("unsigned char")
                || t.hasPrefix("u8") || t.hasPrefix("const void") || t.hasPrefix("const char")
            guard let d = delta, bytes, let base = b.offset else { return (b.name, nil) }
            return (b.name, op == "+" ? base + d : base - d)
        default:
            return nil
        }
    }

    /// Marks each event argument (and result) that names memory kept across
    /// calls with its place (`IRArgument.slot`). Array elements with an
    /// index known only at run time share their array's object and get no
    /// place of their own.
    func annotateSlots(_ ir: inout FunctionIR) {
        guard !slots.isEmpty else { return }
        var byObject: [String: String] = [:]
        for (raw, slot) in slots { byObject[canonical(raw)] = slot }
        for b in ir.blocks.indices {
            for e in ir.blocks[b].events.indices {
                if let r = ir.blocks[b].events[e].result { ir.blocks[b].events[e].resultSlot = byObject[r] }
                for a in ir.blocks[b].events[e].arguments.indices {
                    if let o = ir.blocks[b].events[e].arguments[a].object { ir.blocks[b].events[e].arguments[a].slot = byObject[o] }
                }
            }
        }
    }

    /// Locals assigned from exactly one object are that object (`addr =
    /// (unsigned long)p`), and a member assigned a local holding an
    /// allocation is that allocation (`pack->ptr = ptr`).
    mutating func collectAliases(_ body: Cursor) {
        var sources: [String: Set<String>] = [:]
        var localNames: Set<String> = []
        var pairs: [(String, String)] = []
        body.visitChildren { node, _ in
            if node.kind == .varDecl {
                localNames.insert(node.spelling)
                if let value = node.children.last(where: { $0.kind.isExpression }) {
                    if let o = rawObject(of: value), o.offset == 0 { sources[node.spelling, default: []].insert(o.name) }
                    else { sources[node.spelling, default: []].insert("<value>") }
                }
            } else if node.kind == .binaryOperator, memo.operatorSpelling(node) == "=" {
                let parts = node.children
                // `a = b = call()`: `a` gets what `b` holds.
                var value = parts.count == 2 ? parts[1] : node
                let inner = FunctionBuilder.strip(value)
                if inner.kind == .binaryOperator, memo.operatorSpelling(inner) == "=", let target = inner.children.first { value = target }
                if parts.count == 2, let l = rawObject(of: parts[0]), l.offset == 0 {
                    if let r = rawObject(of: value), r.offset == 0 { sources[l.name, default: []].insert(r.name); pairs.append((l.name, r.name)) }
                    else { sources[l.name, default: []].insert("<value>") }
                }
            } else if node.kind == .compoundAssignOperator {
                let parts = node.children
                if let first = parts.first, let l = rawObject(of: first) { sources[l.name, default: []].insert("<value>") }
            }
            return .recurse
        }
        // A local with one object source is that object.
        for (name, srcs) in sources where localNames.contains(name) && srcs.count == 1 {
            if let only = srcs.first, only != "<value>", only != name { alias[name] = only }
        }
        // A member (or global) assigned from a local that holds a call's
        // result: the local stands for the member's memory.
        for (l, r) in pairs where !localNames.contains(l) && localNames.contains(r) && alias[r] == nil {
            if sources[l]?.count == 1 { alias[r] = l }
        }
    }
}

/// Answers about cursors a function's build asks more than once (loop
/// bodies are lowered once per unrolled iteration): a class, so the
/// builder's non-mutating helpers can fill it.
private final class CursorMemo {
    var inert: [Cursor: Bool] = [:]
    var hasEvent: [Cursor: Bool] = [:]
    var loopLocals: [Cursor: [String]] = [:]
    private var operators: [Cursor: String?] = [:]

    func operatorSpelling(_ c: Cursor) -> String? {
        if let known = operators[c] { return known }
        let op = c.operatorSpelling
        operators[c] = op
        return op
    }
}
