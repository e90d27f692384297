import KernelModel
import KPolicyFiles
import PatchInput
import Extract
import PathCheck

/// Where a path-rule finding is: the function's IR, the event, and the
/// configurations it was found on. Suggestions are applied there.
public struct PathSite: Sendable {
    public var ir: FunctionIR
    public var event: Position
    public var object: String
    public var arches: [Arch]
    /// The tree the changed function runs in (`execmemWorld` for a move to
    /// execmem).
    public var tree: TreeCapabilities
    /// The tree's own capabilities, where the unchanged function runs, when
    /// they differ from `tree`.
    public var originalTree: TreeCapabilities? = nil
    /// The summaries of other files' functions the paths run through.
    public var summaries: ResolvedSummaries? = nil

    package init(ir: FunctionIR, event: Position, object: String, arches: [Arch], tree: TreeCapabilities,
                 originalTree: TreeCapabilities? = nil, summaries: ResolvedSummaries? = nil) {
        self.ir = ir
        self.event = event
        self.object = object
        self.arches = arches
        self.tree = tree
        self.originalTree = originalTree
        self.summaries = summaries
    }
}

/// A suggestion proven on the function's own paths: the rule's rewrite is
/// applied to the function's events (`rewrite`), every path of the result
/// is run through the model on every arch the finding names, and the
/// suggestion is `validated` only when no path rule finds anything on any
/// of them. Otherwise the validation names the invariant, the path (its
/// source lines) and the arch that fail.
public enum PathSuggestion {
    /// The rewrites a rule's `suggestion.rewrite` may name.
    public enum Rewrite: String, CaseIterable, Sendable {
        /// set_memory_x → set_memory_rox (6.2+) or set_memory_ro + set_memory_x;
        /// set_memory_rw on code → set_memory_nx + set_memory_rw.
        case readOnlyFirst = "read-only-first"
        /// A plain write → the arch's text-patching helper.
        case textPatch = "text-patch"
        /// A free → the allocator's own free, on the start pointer.
        case pairedFree = "paired-free"
        /// set_vm_flush_reset_perms() right after the allocation.
        case flushResetPerms = "flush-reset-perms"
        /// execmem_alloc_rw() memory handed back with code in it → made
        /// read-only and executable before each return of it (the arch's
        /// way: `TreeCapabilities.restoreROX`); an execmem_restore_rox()
        /// whose result is dropped → its result kept and tested.
        case restoreROX = "restore-rox"
        /// module_alloc() / an executable __vmalloc_node_range() →
        /// execmem_alloc(type), and their frees → execmem_free(), for the
        /// object the finding is about (Linux 6.10+).
        case execmem
    }

    struct RewriteRefusal: Error { var why: String }

    /// The function's IR with `rewrite` applied at the site on `arch`, or
    /// nil when it does not apply (with why).
    static func apply(_ rewrite: Rewrite, at site: PathSite, arch: Arch, execmemType: ExecmemType = .moduleText)
        -> Swift.Result<FunctionIR, RewriteRefusal> {
        var ir = site.ir
        if rewrite == .execmem { return .success(toExecmem(ir, object: site.object, type: execmemType)) }
        // Every copy of the event (loops are unrolled), last first so that
        // inserting does not move the ones still to do.
        var places: [(Int, Int)] = []
        for b in ir.blocks.indices {
            for i in ir.blocks[b].events.indices where ir.blocks[b].events[i].position == site.event { places.append((b, i)) }
        }
        guard !places.isEmpty else { return .failure(RewriteRefusal(why: "the event is not in the function's IR")) }
        func call(_ name: String, _ e: IREvent, args: [IRArgument]? = nil) -> IREvent {
            var n = e
            n.kind = .call
            n.callee = name
            n.spelled = name
            if let args { n.arguments = args }
            n.text = "\(name)(\(n.arguments.map(\.text).joined(separator: ", ")))"
            return n
        }
        if rewrite == .restoreROX { return restoreROX(ir, at: site, places: places, arch: arch) }
        if rewrite == .flushResetPerms {
            let object = ir.blocks[places[0].0].events[places[0].1].arguments.first?.object ?? site.object
            var allocs: [(Int, Int)] = []
            for b in ir.blocks.indices {
                for i in ir.blocks[b].events.indices where ir.blocks[b].events[i].result == object && ir.blocks[b].events[i].kind == .call {
                    allocs.append((b, i))
                }
            }
            guard !allocs.isEmpty else { return .failure(RewriteRefusal(why: "the function does not show where \(object) is allocated")) }
            for (ab, ai) in allocs.reversed() {
                let alloc = ir.blocks[ab].events[ai]
                let flag = IREvent(kind: .call, callee: "set_vm_flush_reset_perms", spelled: "set_vm_flush_reset_perms",
                                   position: alloc.position, arguments: [IRArgument(text: object, object: object, offset: 0, value: nil, identifiers: [])],
                                   result: nil, text: "set_vm_flush_reset_perms(\(object))")
                ir.blocks[ab].events.insert(flag, at: ai + 1)
            }
            return .success(ir)
        }
        for (b, i) in places.reversed() {
            let e = ir.blocks[b].events[i]
            let object = e.arguments.first?.object ?? site.object
            switch rewrite {
            case .readOnlyFirst:
                let name = KernelCall.canonicalName(e.callee)
                if name == "set_memory_x" {
                    let replacement = site.tree.hasSetMemoryROX
                        ? [call("set_memory_rox", e)] : [call("set_memory_ro", e), call("set_memory_x", e)]
                    ir.blocks[b].events.replaceSubrange(i...i, with: replacement)
                } else if name == "set_memory_rw" {
                    ir.blocks[b].events.replaceSubrange(i...i, with: [call("set_memory_nx", e), call("set_memory_rw", e)])
                } else {
                    return .failure(RewriteRefusal(why: "\(e.spelled) is not set_memory_x or set_memory_rw"))
                }
            case .textPatch:
                guard let api = site.tree.codeWriter(on: arch) else {
                    return .failure(RewriteRefusal(why: "\(arch.rawValue) in \(site.tree.version.series) has no text-patching helper the model carries"))
                }
                var args = e.arguments
                if e.kind == .store {
                    args = [e.arguments[0], IRArgument(text: "src", object: nil, offset: nil, value: nil, identifiers: []),
                            IRArgument(text: "4", object: nil, offset: nil, value: 4, identifiers: [])]
                }
                ir.blocks[b].events[i] = call(api.rawValue, e, args: args)
            case .pairedFree:
                guard let alloc = ir.events.first(where: { $0.result == object && $0.kind == .call }),
                      let free = ModelAPI.pairedFree(ofAllocator: alloc.callee) ?? ModelAPI.pairedFree(ofAllocator: alloc.spelled) else {
                    return .failure(RewriteRefusal(why: "the function does not show how \(object) was allocated"))
                }
                var args = e.arguments
                if !args.isEmpty { args[0].offset = 0; args[0].text = object }
                ir.blocks[b].events[i] = call(free, e, args: args)
            case .flushResetPerms, .execmem, .restoreROX:
                break
            }
        }
        return .success(ir)
    }

    /// `restore-rox`: at an allocation, the tree's ROX restore appended to
    /// every block that returns the object; at a restore whose result is
    /// dropped, the result kept (the caller tests it).
    static func restoreROX(_ ir: FunctionIR, at site: PathSite, places: [(Int, Int)], arch: Arch) -> Swift.Result<FunctionIR, RewriteRefusal> {
        var ir = ir
        let e = ir.blocks[places[0].0].events[places[0].1]
        if e.kind == .call, KernelCall.canonicalName(e.callee) == "execmem_restore_rox" {
            for (b, i) in places { ir.blocks[b].events[i].result = "$restore@\(e.position.line):\(e.position.column)" }
            return .success(ir)
        }
        guard let object = e.result, let restore = site.tree.restoreROX(on: arch) else {
            return .failure(RewriteRefusal(why: "\(arch.rawValue) in \(site.tree.version.series) has neither execmem_restore_rox() for this memory nor set_memory_rox()"))
        }
        var changed = false
        for b in ir.blocks.indices {
            guard case .return(let returned) = ir.blocks[b].exit, returned == object else { continue }
            let size = e.arguments.count > 1 ? e.arguments[1] : IRArgument(text: "PAGE_SIZE", object: nil, offset: nil, value: 4096, identifiers: [])
            let pages = size.value.map { v -> IRArgument in
                let n = Int64(Size.pages(Int(v)))
                return IRArgument(text: "\(n)", object: nil, offset: nil, value: n, identifiers: [])
            } ?? IRArgument(text: "PAGE_ALIGN(\(size.text)) >> PAGE_SHIFT", object: nil, offset: nil, value: nil, identifiers: [])
            let target = IRArgument(text: object, object: object, offset: 0, value: nil, identifiers: [])
            let args = restore == "execmem_restore_rox" ? [target, size] : [target, pages]
            ir.blocks[b].events.append(IREvent(kind: .call, callee: restore, spelled: restore, position: e.position, arguments: args,
                                               result: "$restore@\(e.position.line):\(e.position.column)",
                                               text: "err = \(restore)(\(args.map(\.text).joined(separator: ", ")))"))
            changed = true
        }
        return changed ? .success(ir) : .failure(RewriteRefusal(why: "the function does not return \(object)"))
    }

    /// Every allocation of `object` by module_alloc() or __vmalloc_node_range()
    /// becomes execmem_alloc(type, size), every free of it execmem_free().
    static func toExecmem(_ ir: FunctionIR, object: String, type: ExecmemType) -> FunctionIR {
        var ir = ir
        let allocators: Set<String> = ["module_alloc", "module_alloc_huge", "__vmalloc_node_range", "vmalloc_exec"]
        let frees: Set<String> = ["module_memfree", "vfree", "vfree_atomic", "kvfree"]
        for b in ir.blocks.indices {
            for i in ir.blocks[b].events.indices {
                var e = ir.blocks[b].events[i]
                guard e.kind == .call || e.kind == .cleanup else { continue }
                let name = KernelCall.canonicalName(e.callee)
                if allocators.contains(name), e.result == object {
                    let size = e.arguments.first ?? IRArgument(text: "PAGE_SIZE", object: nil, offset: nil, value: 4096, identifiers: [])
                    let t = "EXECMEM_" + type.rawValue
                    e.arguments = [IRArgument(text: t, object: nil, offset: nil, value: nil, identifiers: [t]), size]
                    e.callee = "execmem_alloc"; e.spelled = "execmem_alloc"
                    e.text = "\(object) = execmem_alloc(\(t), \(size.text))"
                    ir.blocks[b].events[i] = e
                } else if frees.contains(name), e.arguments.first?.object == object {
                    e.callee = "execmem_free"; e.spelled = "execmem_free"
                    e.text = "execmem_free(\(e.arguments.first?.text ?? object))"
                    ir.blocks[b].events[i] = e
                }
            }
        }
        return ir
    }

    /// The rewrite as source changes, when it can be written for every arch
    /// of the site alike (the text-patch helper differs per arch: only a
    /// site on one arch gets a change).
    package static func changes(_ rewrite: Rewrite, at site: PathSite) -> [SourceChange]? {
        guard let e = site.ir.events.first(where: { $0.position == site.event }) else { return nil }
        let file = e.position.file
        func rename(_ to: String) -> SourceChange {
            SourceChange(kind: .rename, file: file, line: e.position.line, column: e.position.column, old: e.spelled, text: to)
        }
        let args = e.arguments.map(\.text).joined(separator: ", ")
        switch rewrite {
        case .readOnlyFirst:
            guard e.kind == .call else { return nil }
            switch KernelCall.canonicalName(e.callee) {
            case "set_memory_x":
                if site.tree.hasSetMemoryROX { return [rename("set_memory_rox")] }
                return [SourceChange(kind: .insertBefore, file: file, line: e.position.line, column: e.position.column, old: "",
                                     text: "set_memory_ro(\(args));")]
            case "set_memory_rw":
                return [SourceChange(kind: .insertBefore, file: file, line: e.position.line, column: e.position.column, old: "",
                                     text: "set_memory_nx(\(args));")]
            default: return nil
            }
        case .textPatch:
            guard e.kind == .call, site.arches.count == 1, let api = site.tree.codeWriter(on: site.arches[0]) else { return nil }
            let name = KernelCall.canonicalName(e.callee)
            guard name == "write", e.spelled == "memcpy" || (e.spelled == "memset" && api == .textPokeCopy) else { return nil }
            return [rename(e.spelled == "memset" ? TextPatchAPI.textPokeSet.rawValue : api.rawValue)]
        case .pairedFree:
            guard e.kind == .call, e.arguments.first?.offset == 0,
                  let alloc = site.ir.events.first(where: { $0.result == site.object && $0.kind == .call }),
                  let free = ModelAPI.pairedFree(ofAllocator: alloc.callee) ?? ModelAPI.pairedFree(ofAllocator: alloc.spelled) else { return nil }
            return [rename(free)]
        case .execmem:
            return nil   // the call rules write their own one-line replacement (`Suggestion.edit`)
        case .restoreROX:
            return nil   // a restore before each return, with its error path: written in words
        case .flushResetPerms:
            guard let alloc = site.ir.events.first(where: { $0.result == site.object && $0.kind == .call }) else { return nil }
            return [SourceChange(kind: .insertAfter, file: file, line: alloc.position.line, column: alloc.position.column, old: "",
                                 text: "set_vm_flush_reset_perms(\(site.object));")]
        }
    }

    /// What a path rule finds on a function's checked paths: where, its
    /// values (`invariant`, `lines`, `model`) and the path.
    public struct RuleMatch: Sendable {
        public var position: Position
        public var values: [String: String]
        public var trace: [PathChecker.TraceStep]?

        public init(position: Position, values: [String: String], trace: [PathChecker.TraceStep]?) {
            self.position = position
            self.values = values
            self.trace = trace
        }
    }

    /// The path rules in force, run on functions and the checks of their
    /// paths (the rules live above this stage: RuleEngine passes them).
    public typealias PathRules = ([(ir: FunctionIR, result: PathChecker.Result)]) -> [RuleMatch]

    /// Applies the rewrite and runs every path on every arch of the site.
    /// `pathRules`: the path rules. A path passes when none of them finds
    /// anything at the changed step, and nothing elsewhere that the
    /// unchanged function does not already have (those are findings of
    /// their own; a suggestion is not blamed for them).
    package static func validate(_ rewrite: Rewrite, at site: PathSite, pathRules: PathRules, original: [PathChecker.TraceStep]?,
                         execmemType: ExecmemType = .moduleText)
        -> (validated: Bool, validation: ModelValidation, trace: [PathChecker.TraceStep]?) {
        var failures: [String] = []
        var replacementTrace: [PathChecker.TraceStep]?
        var replacementCalls: [String] = []
        var witness: [PathChecker.TraceStep]?
        var originalViolations: [String] = []
        for arch in site.arches {
            switch apply(rewrite, at: site, arch: arch, execmemType: execmemType) {
            case .failure(let refusal):
                failures.append("\(arch.rawValue): \(refusal.why)")
            case .success(let ir):
                let r = PathChecker.check(ir, arches: [arch], tree: site.tree, summaries: site.summaries, witnessAt: site.event)
                if r.bounded { failures.append("\(arch.rawValue): not every path was explored (bounded at \(PathChecker.maxStates) states)") }
                let before = PathChecker.check(site.ir, arches: [arch], tree: site.tree, summaries: site.summaries)
                // What the unchanged function does in the tree's own world.
                let own = site.originalTree.map { PathChecker.check(site.ir, arches: [arch], tree: $0, summaries: site.summaries) } ?? before
                for f in own.findings where original == nil {
                    let text = "\(f.invariant.rawValue)\(f.severity == .advisory ? " (advisory)" : "") at line \(f.event.position.line) on \(arch.rawValue): \(f.message)"
                    if !originalViolations.contains(text) { originalViolations.append(text) }
                }
                func key(_ m: RuleMatch) -> String { "\(m.values["invariant"] ?? "")|\(m.position.line):\(m.position.column)" }
                let existing = Set(pathRules([(site.ir, before)]).filter { $0.position != site.event }.map(key))
                let bad = pathRules([(ir, r)]).filter { $0.position == site.event || !existing.contains(key($0)) }
                for m in bad {
                    let lines = m.values["lines"] ?? ""
                    failures.append("\(m.values["invariant"] ?? "?") at line \(m.position.line) on \(arch.rawValue), path through lines \(lines): \(m.values["model"] ?? "")")
                    if replacementTrace == nil { replacementTrace = m.trace }
                }
                if replacementCalls.isEmpty { replacementCalls = ir.events.filter { $0.kind != .disown }.map(\.text) }
                if replacementTrace == nil, bad.isEmpty { witness = witness ?? r.witness }
            }
        }
        let configuration = "every path of \(site.ir.name) on \(site.arches.map(\.rawValue).joined(separator: ", ")) (\(site.tree.version.series) model)"
        let validation = ModelValidation(configuration: configuration,
                                         original: original?.map(\.call) ?? site.ir.events.filter { $0.kind != .disown && $0.kind != .rebind }.map(\.text),
                                         originalViolations: originalViolations,
                                         replacement: replacementCalls, replacementViolations: failures)
        return (failures.isEmpty, validation, replacementTrace ?? witness)
    }
}
