import KernelModel

/// Turns random numbers into API steps, for property tests and the
/// benchmark. Pointers come from a small pool of symbols, so later steps
/// often reuse, free or double-free what earlier steps allocated, and some
/// use symbols that are not bound yet.
public struct RandomSteps: Sendable {
    public static let symbols = ["a", "b", "c", "d"]
    public static let pageSymbols = ["pg0", "pg1"]
    /// When false, no step asks for execute permission (no X pgprot, no
    /// set_memory_x/rox, no allocator whose pgprot can be executable).
    public var allowExec: Bool

    public init(allowExec: Bool = true) { self.allowExec = allowExec }

    /// A deterministic step for `code`.
    public func step(_ code: UInt64) -> APICall {
        var r = code
        func take(_ n: Int) -> Int { let v = Int(r % UInt64(n)); r /= UInt64(n); return v }
        let kind = take(32)
        let sym = Self.symbols[take(Self.symbols.count)]
        let pg = Self.pageSymbols[take(Self.pageSymbols.count)]
        let pages = 1 + take(4)
        let size = [1, 64, 4096, 8192, 16384, 3 * 4096 + 100][take(6)]
        let offset = [0, 0, 0, 4096, 16, 64][take(6)]
        let ptr = PtrExpr.sym(sym, offset)
        let prots: [Perm] = allowExec ? [.kernel, .kernelRO, .kernelExec, .kernelROX] : [.kernel, .kernelRO]
        let flagChoices: [VMFlags] = [[], [.flushResetPerms], [.allowHugeVmap], [.sparse], [.mapPutPages], [.noGuard]]
        let ops: [SetMemoryOp] = allowExec ? SetMemoryOp.allCases : [.ro, .rw, .nx]
        let types: [ExecmemType] = allowExec ? ExecmemType.allCases : [.moduleData]
        switch kind {
        case 0: return .vmalloc(VmallocVariant.allCases[take(4)], size: size, bind: sym)
        case 1: return .vmallocNodeRange(size: size, align: 1, range: RangeSel.allCases[take(3)], prot: prots[take(prots.count)],
                                         flags: flagChoices[take(flagChoices.count)], purpose: Purpose.allCases[take(Purpose.allCases.count)], bind: sym)
        case 2: return allowExec ? .moduleAlloc(size: size, bind: sym) : .kvmalloc(size: size, bind: sym)
        case 3: return .execmemAlloc(types[take(types.count)], size: size, bind: sym)
        case 4: return allowExec ? .bpfJitAllocExec(size: size, bind: sym) : .kmalloc(size: size, bind: sym)
        case 5: return allowExec ? .bpfProgPackAlloc(size: [64, 512, 4096, 3 * 1024 * 1024][take(4)], bind: sym) : .vmalloc(.vzalloc, size: size, bind: sym)
        case 6: return allowExec ? .bpfJitBinaryPackAlloc(size: size, ro: sym, rw: Self.symbols[take(4)]) : .getVMArea(size: size, flags: flagChoices[take(flagChoices.count)], bind: sym)
        case 7: return .allocPages(count: pages, bind: pg)
        case 8: return .vmap(pages: pg, count: pages, flags: flagChoices[take(flagChoices.count)], prot: prots[take(prots.count)], bind: sym)
        case 9: return .vmMapRam(pages: pg, count: pages, bind: sym)
        case 10: return .getVMArea(size: size, flags: [.sparse, .usermap], bind: sym)
        case 11, 12, 13: return .free(FreeAPI.allCases[take(FreeAPI.allCases.count)], ptr)
        case 14: return .vmUnmapRam(ptr, count: pages)
        case 15: return .bpfProgPackFree(ptr, size: take(2) == 0 ? nil : size)
        case 16: return allowExec ? .bpfJitBinaryPackFinalize(ro: ptr, rw: .sym(Self.symbols[take(4)])) : .freePages(pg)
        case 17: return .freePages(pg)
        case 18, 19, 20: return .setMemory(ops[take(ops.count)], ptr, pages: pages - 1 + (take(8) == 0 ? -1 : 0), checked: take(4) != 0)
        case 21: return .setVMFlushResetPerms(ptr)
        case 22: return .setDirectMap(valid: take(2) == 0, PtrExpr(.directMap(sym), offset: offset))
        case 23: return .textPatch(TextPatchAPI.allCases[take(TextPatchAPI.allCases.count)], ptr, length: [8, 64, 9000][take(3)])
        case 24: return .bpfArchTextCopy(ptr, length: 16, checked: take(2) == 0)
        case 25: return .vmAreaMapPages(area: .sym(sym), from: .sym(sym), to: .sym(sym, 4096 * pages), pages: pg)
        case 26: return .vmAreaUnmapPages(area: .sym(sym), from: .sym(sym), to: .sym(sym, 4096))
        case 27, 28: return .write(take(5) == 0 ? PtrExpr(.directMap(sym), offset: offset) : ptr, length: [8, 4096, 5000][take(3)])
        case 29: return [APICall.checkWX, .runWork, .injectFailure, .markPersistent(ptr)][take(4)]
        case 30: return .setContext(ExecContext.allCases[take(4)])
        default: return take(2) == 0 ? .textMutex(held: take(2) == 0) : .setCaller(CallerLayer.allCases[take(3)])
        }
    }

    /// A configuration picked by `code`.
    public static func config(_ code: Int) -> ModelConfig {
        let arch = Arch.allCases[code % Arch.allCases.count]
        let gen = KernelGeneration.allCases[(code / Arch.allCases.count) % 2]
        var c = ModelConfig(arch: arch, generation: gen, wxMode: (code / 12) % 2 == 0 ? .kernel : .strict)
        c.rodataFull = (code / 24) % 2 == 0
        return c
    }
}

/// A small, fast generator for the benchmark (SplitMix64).
public struct SplitMix64: RandomNumberGenerator, Sendable {
    var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9e3779b97f4a7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58476d1ce4e5b9
        z = (z ^ (z >> 27)) &* 0x94d049bb133111eb
        return z ^ (z >> 31)
    }
}
