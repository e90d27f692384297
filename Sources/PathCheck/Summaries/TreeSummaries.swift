import Foundation
import KernelModel
import KPolicyFiles
import Extract

/// The summaries of the tree's functions a checked file calls, per arch:
/// for each name, the IR of the definition that arch links (its override
/// under arch/<a>/, else the common or `__weak` one), which the path
/// checker runs from the caller's state at the call, like a same-file
/// helper's. A summary is the function's own IR: applied at each call from
/// the caller's state (memoised per call and state), not a closed-form
/// transfer function.
public struct ResolvedSummaries: Sendable {
    /// Per model arch, per function name: the IR to run there.
    public var byArch: [Arch: [String: FunctionIR]] = [:]
    /// Per model arch, per function name: which definition it is.
    public var basis: [Arch: [String: TreeFunctions.Definition]] = [:]
    /// The tree's allocator/free pairs whose free this file defines.
    public var pairs: [TreeFunctions.Pair] = []
    /// Functions of the file only arch code calls, and the arches of the
    /// checked ones that do (`TreeFunctions.callingArches`): checked there only.
    public var callingArches: [String: [Arch]] = [:]
    /// Per model arch: the file's own `__weak` functions that arch replaces
    /// with an override the tree has no summary of (it does not handle
    /// executable memory): a call to one is not followed there, its result
    /// unknown, rather than running the default's body (6.1's
    /// `arch_prepare_bpf_trampoline()`, -ENOTSUPP by default, built by x86's
    /// and arm64's JITs).
    public var replaced: [Arch: Set<String>] = [:]
    /// Files the summaries were read from (a cached result depends on them).
    public var files: [String] = []
    /// Functions a summary was wanted for and not made (the defining file
    /// did not parse, or the function had no IR), with why.
    public var missing: [String] = []

    public init() {}

    public var isEmpty: Bool { byArch.values.allSatisfy(\.isEmpty) && pairs.isEmpty && callingArches.isEmpty && replaced.isEmpty }

    /// The arches `ir` is checked on, of `arches`.
    public func arches(for ir: FunctionIR, among arches: [Arch]) -> [Arch] {
        callingArches[ir.name].map { only in arches.filter { only.contains($0) } } ?? arches
    }
}

/// Makes `ResolvedSummaries` for one checked file: which definitions its
/// calls reach on each arch (from `TreeFunctions`), their IRs (from
/// `irOf`: a parse of the defining file, or a corpus case's), and their own
/// calls into the tree, `PathChecker.maxHelperDepth` levels deep.
public struct SummaryResolver {
    public var functions: TreeFunctions
    /// The IR of one definition, with its same-file helpers; nil when it
    /// cannot be made.
    public var irOf: (TreeFunctions.Definition) -> FunctionIR?

    public init(functions: TreeFunctions, irOf: @escaping (TreeFunctions.Definition) -> FunctionIR?) {
        self.functions = functions
        self.irOf = irOf
    }

    /// The summaries the functions `irs` of the file at `path` need on `arches`.
    public func resolve(for irs: [FunctionIR], path: String, arches: [Arch]) -> ResolvedSummaries {
        var out = ResolvedSummaries()
        var memo: [TreeFunctions.Definition: FunctionIR?] = [:]
        func ir(_ d: TreeFunctions.Definition) -> FunctionIR? {
            if let known = memo[d] { return known }
            let made = irOf(d)
            memo[d] = made
            if made == nil { out.missing.append("\(d.described): no IR") }
            return made
        }
        let defined = Set(irs.map(\.name)).union(irs.flatMap { $0.helpers.keys })
        for arch in arches {
            var frontier = Set(irs.flatMap { f in ([f] + f.helpers.values).flatMap { $0.events.filter { $0.kind == .helper }.map(\.callee) } })
            // A same-file `__weak` default the arch overrides elsewhere.
            frontier.formUnion(defined.filter { functions.isOverridden($0, in: path, on: arch) })
            var seen: Set<String> = []
            for _ in 0..<PathChecker.maxHelperDepth {
                var next: Set<String> = []
                for name in frontier where seen.insert(name).inserted {
                    guard let d = functions.definition(of: name, on: arch, from: path) else { continue }
                    if defined.contains(name) && d.kernelArch == nil { continue }
                    guard let f = ir(d) else { continue }
                    out.byArch[arch, default: [:]][name] = f
                    out.basis[arch, default: [:]][name] = d
                    next.formUnion(([f] + f.helpers.values).flatMap { $0.events.filter { $0.kind == .helper }.map(\.callee) })
                }
                frontier = next.subtracting(seen)
            }
        }
        if !path.hasPrefix("arch/") {
            for arch in arches {
                let replaced = defined.filter { functions.isWeakReplaced($0, on: arch) && out.byArch[arch]?[$0] == nil }
                if !replaced.isEmpty { out.replaced[arch] = replaced }
            }
        }
        out.pairs = functions.pairs.filter { defined.contains($0.free) }
        // The allocators of those pairs, where the file does not define them.
        for arch in arches {
            for p in out.pairs where out.byArch[arch]?[p.allocator] == nil {
                guard let d = functions.definition(of: p.allocator, on: arch, from: path), let f = ir(d) else { continue }
                if defined.contains(p.allocator) && d.kernelArch == nil { continue }
                out.byArch[arch, default: [:]][p.allocator] = f
                out.basis[arch, default: [:]][p.allocator] = d
            }
        }
        if !path.hasPrefix("arch/") {
            for f in irs where (functions.definitions[f.name] ?? []).contains(where: { $0.path == path && !$0.isStatic }) {
                if let only = functions.callingArches(of: f.name, among: arches) { out.callingArches[f.name] = only }
            }
        }
        out.files = Array(Set(out.basis.values.flatMap { $0.values.map(\.path) })).sorted()
        out.missing = Array(Set(out.missing)).sorted()
        return out
    }
}

/// IRs of tree definitions, made once per run and shared by the workers:
/// the defining file parsed (as its own arch) by the asking worker's parser,
/// or offered by the worker that checks that file anyway.
public final class SummaryStore: @unchecked Sendable {
    private var made: [String: FunctionIR?] = [:]
    /// Files workers are parsing and will offer IRs of, with how many do.
    private var offering: [String: Int] = [:]
    private let lock = NSCondition()

    public init() {}

    /// The IR of `definition`, made by `make` the first time. While a
    /// worker that will offer the defining file's IRs is parsing it, waits
    /// for that instead of parsing the file a second time. (It cannot wait
    /// on itself or in a cycle: between `willOffer` and `settled` a worker
    /// asks for no summary.)
    public func ir(of definition: TreeFunctions.Definition, variant: String = "",
                   make: () -> [String: FunctionIR]) -> FunctionIR? {
        let key = SummaryStore.key(definition.path, definition.name, variant)
        lock.lock()
        while variant.isEmpty, made[key] == nil, offering[definition.path] != nil { lock.wait() }
        if let known = made[key] { lock.unlock(); return known }
        lock.unlock()
        let all = make()
        lock.lock()
        defer { lock.unlock() }
        // The other functions of the same file made with it, for later asks.
        for (name, ir) in all where made[SummaryStore.key(definition.path, name, variant)] == nil {
            made[SummaryStore.key(definition.path, name, variant)] = .some(ir)
        }
        made[key] = .some(all[definition.name])
        return made[key] ?? nil
    }

    /// A worker starts parsing `path` and will `offer` its IRs; it calls
    /// `settled` once it has (or has failed to).
    public func willOffer(_ path: String) {
        lock.lock()
        offering[path, default: 0] += 1
        lock.unlock()
    }

    /// The worker that said `willOffer(path)` is done offering.
    public func settled(_ path: String) {
        lock.lock()
        if let n = offering[path] { offering[path] = n > 1 ? n - 1 : nil }
        lock.broadcast()
        lock.unlock()
    }

    /// Takes the IRs of `path`'s functions a run has built anyway (the
    /// file checked as a candidate, parsed as the summaries would parse
    /// it), so that no caller parses the file again for them. Of `names`
    /// (the functions asked for), those without an IR are known to have
    /// none: over the IR bound, or not in this parse (an `#ifdef` arm the
    /// text derivation read), as a caller's own parse would find.
    public func offer(_ irs: [FunctionIR], of path: String, names: Set<String> = []) {
        lock.lock()
        defer { lock.unlock() }
        for ir in irs where made[SummaryStore.key(path, ir.name, "")] == nil { made[SummaryStore.key(path, ir.name, "")] = .some(ir) }
        for name in names where made[SummaryStore.key(path, name, "")] == nil { made[SummaryStore.key(path, name, "")] = .some(nil) }
    }

    private static func key(_ path: String, _ name: String, _ variant: String) -> String { path + "\u{0}" + name + "\u{0}" + variant }
}
