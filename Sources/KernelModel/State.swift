/// What a symbol is bound to.
public enum Binding: Hashable, Sendable {
    case address(UInt64)
    case pages(Int)
}

/// The value the last API call returned.
public enum CallResult: Hashable, Sendable {
    case none
    case pointer(UInt64)
    /// 0 or a negative errno.
    case status(Int)
}

/// The whole simulated kernel: configuration, calling context, every object
/// ever allocated, the page-frame pool and the deferred-free queue.
///
/// A value type built from arrays and small dictionaries, so copying it is a
/// handful of reference-count bumps: a checker forks it at every branch and
/// the copies share storage until one of them changes.
public struct ModelState: Sendable {
    public var config: ModelConfig
    public private(set) var profile: ArchProfile
    public var context = CallContext()
    /// All areas ever created, indexed by id (ids are never reused).
    public internal(set) var areas: [Area] = []
    public internal(set) var chunks: [Chunk] = []
    public internal(set) var pageSets: [PageSet] = []
    /// All page frames ever handed out, indexed by pfn.
    public internal(set) var pages: [PhysPage] = []
    var freePFNs: [Int32] = []
    public internal(set) var bindings: [String: Binding] = [:]
    /// Areas waiting for the deferred-free work (vfree_atomic, vfree in irq).
    public internal(set) var deferred: [Int] = []
    /// Bump cursors per range start: virtual addresses are never reused, so
    /// every address names at most one area, live or freed.
    var cursors: [UInt64: UInt64] = [:]
    /// Pages with per-page state created so far (`ModelLimits.maxStatePages`).
    var modelledPages = 0
    /// Live bpf_prog_pack areas, in creation order.
    public internal(set) var packs: [Int] = []
    /// Index of the last executed step (1-based); 0 before the first.
    public internal(set) var step = 0
    public internal(set) var lastResult: CallResult = .none
    /// Areas the last step read or changed (for traces).
    public internal(set) var touched: [Int] = []
    var failNext = false
    var finished = false
    /// Violations raised while executing the current step.
    var pending: [Violation] = []
    /// Per-area flags remembering which transition-style violations were
    /// already reported, so a W+X area is not re-reported at every step.
    var reportedWX: Set<Int> = []
    var reportedAlias: Set<Int> = []
    var reportedRange: Set<Int> = []

    public init(config: ModelConfig) {
        self.config = config
        self.profile = ArchProfile(config)
        areas.reserveCapacity(16)
    }

    // MARK: lookups

    /// The address a pointer expression denotes, or nil for an unbound symbol.
    public func resolve(_ p: PtrExpr) -> UInt64? {
        switch p.base {
        case .null: return UInt64(bitPattern: Int64(p.offset))
        case .absolute(let a): return a &+ UInt64(bitPattern: Int64(p.offset))
        case .kernelText: return profile.kernelText.start &+ UInt64(bitPattern: Int64(p.offset))
        case .symbol(let s):
            switch bindings[s] {
            case .address(let a)?: return a == 0 ? UInt64(bitPattern: Int64(p.offset)) : a &+ UInt64(bitPattern: Int64(p.offset))
            case .pages(let id)?:
                let set = pageSets[id]
                let idx = p.offset / Size.page
                guard idx >= 0, idx < set.pfns.count else { return nil }
                return profile.directMapAddress(pfn: Int(set.pfns[idx])) + UInt64(p.offset % Size.page)
            case nil: return nil
            }
        case .directMap(let s):
            guard let v = resolve(.sym(s, p.offset)) else { return nil }
            if profile.pfn(ofDirectMap: v) != nil { return v }
            guard let i = areaIndex(containing: v) else { return nil }
            let a = areas[i]
            let page = Int((v - a.start) / UInt64(Size.page))
            guard page < a.pfns.count, a.pfns[page] >= 0 else { return nil }
            return profile.directMapAddress(pfn: Int(a.pfns[page])) + (v % UInt64(Size.page))
        }
    }

    /// The area (live or not) whose range, guard page included, contains `a`.
    /// Newest first, so a live area wins over nothing else: ranges never overlap.
    public func areaIndex(containing a: UInt64) -> Int? {
        var i = areas.count - 1
        while i >= 0 {
            let ar = areas[i]
            if a >= ar.start && a < ar.start + UInt64(ar.size) { return i }
            i -= 1
        }
        return nil
    }

    /// The chunk starting exactly at `a`, preferring a live one.
    public func chunkIndex(startingAt a: UInt64) -> Int? {
        var found: Int?
        for c in chunks.indices.reversed() {
            let ch = chunks[c]
            if chunkAddress(ch) == a {
                if ch.live { return c }
                if found == nil { found = c }
            }
        }
        return found
    }

    /// The chunk (live first) whose bytes contain `a`.
    public func chunkIndex(containing a: UInt64) -> Int? {
        var found: Int?
        for c in chunks.indices.reversed() {
            let ch = chunks[c]
            let s = chunkAddress(ch)
            if a >= s && a < s + UInt64(max(ch.size, 1)) {
                if ch.live { return c }
                if found == nil { found = c }
            }
        }
        return found
    }

    public func chunkAddress(_ c: Chunk) -> UInt64 { areas[c.area].start + UInt64(c.unit * 64) }

    /// The area a symbol is bound to, if any.
    public func area(named s: String) -> Area? {
        guard case .address(let a)? = bindings[s], let i = areaIndex(containing: a) else { return nil }
        return areas[i]
    }

    /// Objects that are allocated and not freed (what INV-LEAK would report).
    public var liveObjectCount: Int {
        areas.lazy.filter { $0.state != .freed && $0.allocator != .bpfProgPack }.count
            + chunks.lazy.filter { $0.live && !$0.dedicated }.count
            + pageSets.lazy.filter { $0.live && !$0.transferred }.count
    }

    // MARK: allocation helpers

    /// Reserves `size` bytes in `range` (bump allocation, aligned), or nil when full.
    mutating func reserve(_ range: AddrRange, size: Int, align: Int) -> UInt64? {
        guard size >= 0 else { return nil }
        let al = UInt64(max(align, Size.page))
        let cur = cursors[range.start] ?? range.start
        let rem = cur % al
        let (a, overflow) = rem == 0 ? (cur, false) : cur.addingReportingOverflow(al - rem)
        guard !overflow, a >= range.start, a <= range.end, UInt64(size) <= range.end - a else { return nil }
        cursors[range.start] = a + UInt64(size)
        return a
    }

    /// Takes `n` page frames from the pool (most recently freed first, as the
    /// page allocator's per-cpu lists do) and gives them to `owner`.
    mutating func takePages(_ n: Int, owner: PhysPage.Owner) -> [Int32] {
        var out: [Int32] = []
        out.reserveCapacity(n)
        for _ in 0..<n {
            let pfn: Int32
            if let f = freePFNs.popLast() {
                pfn = f
                pages[Int(f)].owner = owner
            } else {
                pfn = Int32(pages.count)
                pages.append(PhysPage(owner: owner, alias: .kernel, poisonedBy: nil))
            }
            out.append(pfn)
        }
        return out
    }

    mutating func releasePage(_ pfn: Int32, by areaID: Int?) {
        let i = Int(pfn)
        pages[i].owner = .free
        pages[i].poisonedBy = pages[i].alias == .kernel ? nil : (areaID ?? -1)
        freePFNs.append(pfn)
    }
}

/// States compare by what the kernel would see: configuration, context,
/// objects, pages, bindings, queues and the reported-once flags. The step
/// counter, the last result and the per-step bookkeeping (`touched`,
/// `pending`) are left out, so two paths that reach a join point in the same
/// state are one state there and the path checker explores their future once.
extension ModelState: Hashable {
    public static func == (a: ModelState, b: ModelState) -> Bool {
        a.config == b.config && a.context == b.context && a.areas == b.areas && a.chunks == b.chunks
            && a.pageSets == b.pageSets && a.pages == b.pages && a.freePFNs == b.freePFNs && a.bindings == b.bindings
            && a.deferred == b.deferred && a.cursors == b.cursors && a.packs == b.packs && a.failNext == b.failNext
            && a.finished == b.finished && a.reportedWX == b.reportedWX && a.reportedAlias == b.reportedAlias
            && a.reportedRange == b.reportedRange
    }

    /// A part of what `==` compares, enough to tell most states apart:
    /// the path checker hashes a state at every step (its visited set and
    /// its helper summaries), and hashing every page and name was a
    /// noticeable part of its time. Equal states hash equal.
    public func hash(into h: inout Hasher) {
        h.combine(config)
        h.combine(context)
        h.combine(areas.count)
        for a in areas {
            h.combine(a.start)
            h.combine(a.state)
            h.combine(a.flags)
            h.combine(a.map)
            h.combine(a.permsChanged)
        }
        h.combine(chunks.count)
        h.combine(pages.count)
        h.combine(bindings.count)
        h.combine(deferred)
        h.combine(packs)
        h.combine(failNext)
    }

    /// Permissions of the page `p` points into: its vmalloc mapping and its
    /// direct-map alias (nil when the page has none), or nil when `p` is not
    /// inside a live, mapped area. For traces and for checks that look at a
    /// target before a step.
    public func pagePermissions(_ p: PtrExpr) -> (map: Perm, alias: Perm?, area: Int)? {
        guard let a = resolve(p), a != 0, let i = areaIndex(containing: a) else { return nil }
        let ar = areas[i]
        guard ar.state == .live else { return nil }
        let page = Int((a - ar.start) / UInt64(Size.page))
        guard page < ar.map.count else { return nil }
        let alias: Perm? = page < ar.pfns.count && ar.pfns[page] >= 0 ? pages[Int(ar.pfns[page])].alias : nil
        return (ar.map[page], alias, ar.id)
    }

    /// Forgets `symbol` and every symbol under it (`symbol->field`,
    /// `symbol.field`): the checker's name now stands for other memory (a
    /// new loop iteration, the result of a call it does not follow). The
    /// objects themselves stay as they are.
    public mutating func unbind(_ symbol: String) {
        bindings[symbol] = nil
        for k in bindings.keys where k.hasPrefix(symbol + "->") || k.hasPrefix(symbol + ".") { bindings[k] = nil }
    }

    /// `symbol` is NULL (a helper returned NULL into it).
    public mutating func bindNull(_ symbol: String) {
        unbind(symbol)
        bindings[symbol] = .address(0)
    }

    /// `symbol` now names what `source` names (and its members likewise):
    /// a helper's returned memory bound to the caller's variable.
    public mutating func alias(_ symbol: String, to source: String) {
        unbind(symbol)
        for (k, v) in bindings where k == source || k.hasPrefix(source + "->") || k.hasPrefix(source + ".") {
            bindings[symbol + k.dropFirst(source.count)] = v
        }
    }

    /// Whether `p` is bound: the path checker seeds memory it did not see
    /// allocated before its first use.
    public func isBound(_ symbol: String) -> Bool { bindings[symbol] != nil }

    /// Whether `symbol` is bound to NULL (a failed allocation).
    public func isNull(_ symbol: String) -> Bool? {
        switch bindings[symbol] {
        case .address(let a)?: return a == 0
        case .pages(let id)?: return pageSets[id].pfns.isEmpty
        case nil: return nil
        }
    }
}
