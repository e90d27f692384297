import KernelModel
import KPolicyFiles
import PatchInput
import Extract

/// The tree's allocator/free pairs checked as paths: for each pair whose
/// free the file defines, a function that takes memory from the allocator
/// (the arch's definition, from the summaries) and hands it to the free.
/// Its paths run like any function's, so a free whose body does not match
/// what the allocator returns on some arch is an `INV-FREE-MATCH` path
/// there, reported at the free's own call.
public enum PairCheck {
    /// The object the allocator's memory is bound to.
    static let memory = "$pair"

    /// One function per pair of `pairs` whose free `irs` (or their helpers) defines.
    public static func functions(for pairs: [TreeFunctions.Pair], in irs: [FunctionIR]) -> [(pair: TreeFunctions.Pair, ir: FunctionIR)] {
        var defined: [String: FunctionIR] = [:]
        for f in irs {
            for (n, h) in f.helpers where defined[n] == nil { defined[n] = h }
        }
        for f in irs { defined[f.name] = f }
        var out: [(TreeFunctions.Pair, FunctionIR)] = []
        for pair in pairs {
            guard let free = defined[pair.free], free.unbuilt == nil else { continue }
            let releasing = free.events.first { $0.kind == .call && isFree(KernelCall.canonicalName($0.callee)) }
                ?? free.events.first { $0.kind == .helper }
            let at = releasing?.position ?? free.position
            let alloc = IREvent(kind: .helper, callee: pair.allocator, spelled: pair.allocator, position: free.position, arguments: [],
                                result: memory, text: "\(memory) = \(pair.allocator)()  [its pair: \(pair.how)]")
            var args = [IRArgument(text: releasing?.arguments.first?.text ?? "\(pair.allocator)() memory", object: memory, offset: 0,
                                   value: nil, identifiers: [])]
            for p in free.parameters.dropFirst() { args.append(IRArgument(text: p, object: nil, offset: nil, value: nil, identifiers: [])) }
            let call = IREvent(kind: .helper, callee: pair.free, spelled: releasing?.spelled ?? pair.free, position: at, arguments: args,
                               result: nil, text: "\(pair.free)(\(args.map(\.text).joined(separator: ", ")))")
            var helpers = free.helpers
            helpers[pair.free] = free
            if let a = defined[pair.allocator] { helpers[pair.allocator] = a }
            // Named for the path it runs (the free's own name would be a
            // recursive call to itself).
            let ir = FunctionIR(name: "\(pair.allocator)() → \(pair.free)()", position: free.position,
                                blocks: [IRBlock(events: [alloc], exit: .branch(.isNull(memory), then: 2, else: 1)),
                                         IRBlock(events: [call], exit: .return(nil)),
                                         IRBlock(events: [], exit: .return(nil))],
                                objects: [memory: .local], truncated: false, parameters: [], helpers: helpers)
            out.append((pair, ir))
        }
        return out
    }

    /// Whether `ir` is a pair's path (made by `functions(for:in:)`).
    public static func isPairPath(_ ir: FunctionIR) -> Bool {
        ir.blocks.first?.events.first?.result == memory && ir.objects.count == 1 && ir.objects[memory] == .local
    }

    static func isFree(_ name: String) -> Bool {
        name.contains("free") || name == "vunmap" || name == "vm_unmap_ram"
    }

    /// The pair's findings: only a free that does not match, with the
    /// allocator and the definitions named.
    public static func findings(of result: PathChecker.Result, pair: TreeFunctions.Pair) -> PathChecker.Result {
        var r = result
        r.findings = result.findings.filter { $0.invariant == .freeMatch && $0.eventClass == "free" }.map { f in
            var f = f
            f.message = "\(pair.free)() frees what \(pair.allocator)() returns (\(pair.how), \(pair.path):\(pair.line)); " + f.message
            return f
        }
        return r
    }
}
