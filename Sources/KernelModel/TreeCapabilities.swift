/// What a kernel tree offers the code in it, as far as executable memory
/// goes: which of the catalogue's version-dependent APIs it declares, which
/// arches implement `bpf_arch_text_copy()`, and per arch which execmem types
/// come from the ROX cache.
///
/// This is the one place a question like "does this tree have
/// set_memory_rox()?" or "how does this arch write code?" is answered.
/// KPolicy reads it from the tree's own headers, Kconfig and arch code
/// (`TreeCapabilitiesReader`); where there is no tree to read (corpus files,
/// scenarios, the model's own tests) `expected(for:)` is what the
/// catalogue's versions predict, and the tests hold the derivation on the
/// real trees to that prediction.
public struct TreeCapabilities: Hashable, Sendable, Codable, CustomStringConvertible {
    public let version: KernelVersion
    /// The catalogue's version-dependent APIs (`ModelAPI.isVersioned`) that
    /// the tree declares.
    public let declared: Set<String>
    /// The arches whose BPF JIT implements `bpf_arch_text_copy()` (elsewhere
    /// the `__weak` default returns -ENOTSUPP).
    public let bpfArchTextCopy: Set<Arch>
    /// Per arch, the execmem types whose range has EXECMEM_ROX_CACHE (only
    /// for arches that select ARCH_HAS_EXECMEM_ROX: mm/execmem.c clears the
    /// flag elsewhere). Such memory is read-only and executable when
    /// `execmem_alloc()` returns it.
    public let roxCache: [Arch: Set<ExecmemType>]
    /// Hashing a state hashes its configuration: one word, not the sets
    /// (in-process only, never stored).
    let fingerprint: Int

    public init(version: KernelVersion, declared: Set<String>, bpfArchTextCopy: Set<Arch>, roxCache: [Arch: Set<ExecmemType>]) {
        self.version = version
        self.declared = declared.filter { ModelAPI.named($0)?.isVersioned ?? false }
        self.bpfArchTextCopy = bpfArchTextCopy
        self.roxCache = roxCache.filter { !$0.value.isEmpty }
        var text = version.description + "|" + self.declared.sorted().joined(separator: ",") + "|"
            + bpfArchTextCopy.map(\.rawValue).sorted().joined(separator: ",")
        for arch in self.roxCache.keys.sorted(by: { $0.rawValue < $1.rawValue }) {
            text += "|\(arch.rawValue):" + self.roxCache[arch]!.map(\.rawValue).sorted().joined(separator: ",")
        }
        var h = Hasher()
        h.combine(text)
        fingerprint = h.finalize()
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.fingerprint == b.fingerprint && a.version == b.version && a.declared == b.declared
            && a.bpfArchTextCopy == b.bpfArchTextCopy && a.roxCache == b.roxCache
    }

    public func hash(into h: inout Hasher) { h.combine(fingerprint) }

    enum CodingKeys: String, CodingKey { case version, declared, bpfArchTextCopy, roxCache }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let rox = try c.decode([String: [ExecmemType]].self, forKey: .roxCache)
        self.init(version: try c.decode(KernelVersion.self, forKey: .version),
                  declared: Set(try c.decode([String].self, forKey: .declared)),
                  bpfArchTextCopy: Set(try c.decode([Arch].self, forKey: .bpfArchTextCopy)),
                  roxCache: Dictionary(uniqueKeysWithValues: rox.compactMap { k, v in Arch(rawValue: k).map { ($0, Set(v)) } }))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(version, forKey: .version)
        try c.encode(declared.sorted(), forKey: .declared)
        try c.encode(bpfArchTextCopy.map(\.rawValue).sorted().compactMap(Arch.init(rawValue:)), forKey: .bpfArchTextCopy)
        try c.encode(Dictionary(uniqueKeysWithValues: roxCache.map { ($0.key.rawValue, $0.value.sorted { $0.rawValue < $1.rawValue }) }), forKey: .roxCache)
    }

    /// Whether the tree has `api` (a catalogue name, or as code spells it).
    /// An API every version has is always there; one the model does not
    /// know is not.
    public func has(_ api: String) -> Bool {
        guard let a = ModelAPI.named(KernelCall.canonicalName(api)) else { return false }
        return !a.isVersioned || declared.contains(a.name)
    }

    /// The allocator world the model runs the tree in: execmem once the tree
    /// has `execmem_alloc()` (Linux 6.10), `module_alloc()` before.
    public var generation: KernelGeneration { has("execmem_alloc") ? .v6_12 : .v6_1 }

    /// `set_memory_rox()` (Linux 6.2): read-only and executable in one call.
    public var hasSetMemoryROX: Bool { has("set_memory_rox") }

    /// The call that copies generated code into read-only text on `arch`, or
    /// nil when the tree has none the model carries (6.1 arm64 and powerpc
    /// patch single instructions only).
    public func codeWriter(on arch: Arch) -> TextPatchAPI? {
        arch.codeWriters.first { has($0.rawValue) }
    }

    /// What `bpf_arch_text_copy()` writes with on `arch`, or nil when the
    /// arch leaves it to the failing `__weak` default.
    public func bpfTextCopyWriter(on arch: Arch) -> TextPatchAPI? {
        bpfArchTextCopy.contains(arch) ? codeWriter(on: arch) : nil
    }

    /// Whether `execmem_alloc(type)` on `arch` returns memory from the ROX
    /// cache, read-only and executable.
    public func usesROXCache(_ type: ExecmemType, on arch: Arch) -> Bool {
        roxCache[arch]?.contains(type) ?? false
    }

    /// Whether `arch` has a ROX cache at all (selects
    /// ARCH_HAS_EXECMEM_ROX): then `execmem_restore_rox()` is
    /// `set_memory_rox()`, elsewhere a stub that returns 0 and does nothing.
    public func hasROXCache(on arch: Arch) -> Bool {
        roxCache[arch] != nil
    }

    /// How code written into `execmem_alloc_rw()` memory is made read-only
    /// and executable on `arch` in this tree: `execmem_restore_rox()` where
    /// the arch has a ROX cache (elsewhere it is a stub that does nothing),
    /// else `set_memory_rox()`; nil when the tree has neither.
    public func restoreROX(on arch: Arch) -> String? {
        if has("execmem_restore_rox") && hasROXCache(on: arch) { return "execmem_restore_rox" }
        return hasSetMemoryROX ? "set_memory_rox" : nil
    }

    /// The capabilities of the tree a rewrite into execmem targets: this
    /// tree's when it has execmem, else those of the tree the model's
    /// execmem world was written from (6.12).
    public var execmemWorld: TreeCapabilities {
        generation == .v6_12 ? self : .expected(for: .v6_12)
    }

    /// What the catalogue predicts for `version`: its version-dependent
    /// APIs, `bpf_arch_text_copy()` on x86 always and on arm64, riscv and
    /// powerpc from 6.10 (the execmem conversion), and x86's ROX cache for
    /// module text, kprobes, ftrace and BPF from 6.13.
    public static func expected(for version: KernelVersion) -> TreeCapabilities {
        let execmem = ModelAPI.named("execmem_alloc")!.since!
        let rox = ModelAPI.named("execmem_is_rox")!.since!
        return TreeCapabilities(
            version: version,
            declared: Set(ModelAPI.all.filter { $0.isVersioned && $0.isExpected(in: version) }.map(\.name)),
            bpfArchTextCopy: version >= execmem ? [.x86_64, .arm64, .riscv64, .ppc64] : [.x86_64],
            roxCache: version >= rox ? [.x86_64: [.moduleText, .kprobes, .ftrace, .bpf]] : [:])
    }

    /// The prediction for the tree a model generation was written from.
    public static func expected(for generation: KernelGeneration) -> TreeCapabilities {
        generation == .v6_12 ? v6_12 : v6_1
    }

    static let v6_1 = expected(for: KernelVersion(6, 1))
    static let v6_12 = expected(for: KernelVersion(6, 12))

    public var description: String {
        var out = "Linux \(version.series): " + (declared.isEmpty ? "none of the version-dependent APIs" : declared.sorted().joined(separator: ", "))
        out += "; bpf_arch_text_copy on " + (bpfArchTextCopy.isEmpty ? "no arch" : bpfArchTextCopy.map(\.rawValue).sorted().joined(separator: ", "))
        if roxCache.isEmpty { out += "; no ROX cache" }
        for arch in roxCache.keys.sorted(by: { $0.rawValue < $1.rawValue }) {
            out += "; ROX cache on \(arch.rawValue) for " + roxCache[arch]!.map { "EXECMEM_" + $0.rawValue }.sorted().joined(separator: ", ")
        }
        return out
    }
}

extension TreeCapabilities {
    /// Writing `length` bytes of generated code at `p` the way `arch` must
    /// in this tree: its code writer (under text_mutex where the arch's own
    /// writer takes it); a plain store on an arch without set_memory (the
    /// generic profile); nothing where the tree's only patcher writes single
    /// instructions, which the model does not carry.
    public func codeWriteSteps(on arch: Arch, at p: PtrExpr, length: Int) -> [APICall] {
        guard let api = codeWriter(on: arch) else {
            return arch.codeWriters.isEmpty ? [.write(p, length: length)] : []
        }
        let write = APICall.textPatch(api, p, length: length)
        return api.calledUnderTextMutex && !api.needsTextMutex ? [.textMutex(held: true), write, .textMutex(held: false)] : [write]
    }
}
