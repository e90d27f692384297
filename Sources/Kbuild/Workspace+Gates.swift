import Foundation
import KPolicyCache

/// The options a file is built under: the Kconfig index of its arch, the
/// options its Makefiles gate it on and their closure, the capabilities
/// that choose another arch or a sub-arch for it.
extension Workspace {
    /// The tree's Kconfig as seen from `arch`, read on first use.
    public func kconfig(arch: String) -> KconfigIndex {
        lock.lock()
        defer { lock.unlock() }
        if let k = kconfigs[arch] { return k }
        // With a result cache: kept until a Kconfig file it read changes
        // (reading 1,800 Kconfig files per arch is most of a warm run).
        let root = tree.root.standardizedFileURL.path
        let key = ContentHash.of("kconfig-5|\(ResultCache.format)|\(root)|\(arch)|\(tree.version)")
        if let cache = knowledgeCache, let data = cache.lookup(kind: "kconfig", key: key),
           let k = KconfigIndex(serialized: data) {
            kconfigs[arch] = k
            kconfigDigests[arch] = ContentHash.of(data)
            return k
        }
        let k = KconfigIndex(tree: tree, arch: arch)
        kconfigs[arch] = k
        let data = k.serialized()
        kconfigDigests[arch] = ContentHash.of(data)
        if let cache = knowledgeCache {
            cache.store(kind: "kconfig", key: key, dependencies: k.files.map { root + "/" + $0 },
                        absent: k.missingFiles.map { root + "/" + $0 }, value: data)
        }
        return k
    }

    /// A hash of what `kconfig(arch:)` holds (its serialized form, hashed
    /// once when it is read or loaded): the generated headers' key.
    public func kconfigDigest(arch: String) -> String {
        _ = kconfig(arch: arch)
        lock.lock()
        defer { lock.unlock() }
        return kconfigDigests[arch]!
    }

    /// The options Kbuild builds `file` under (from its directory's
    /// Makefile), with what they depend on: a file compiled only with
    /// CONFIG_CMA is parsed with CONFIG_CMA on, as it would be built.
    /// A directory a parent Makefile builds only under an option
    /// (`obj-$(CONFIG_KMSAN) += kmsan/`) adds that option for every file in it.
    public func gatingOptions(for file: URL, arch: String) -> [String] {
        let object = file.deletingPathExtension().lastPathComponent + ".o"
        var direct = makefileGates(file.deletingLastPathComponent()).gates[object] ?? []
        let root = tree.root.standardizedFileURL.path
        var dir = file.deletingLastPathComponent().standardizedFileURL
        // Kbuild also lists objects of subdirectories without a Makefile
        // (xe's `xe-$(CONFIG_DRM_XE_DISPLAY) += display/xe_hdcp_gsc.o`).
        var below = object
        while dir.path.hasPrefix(root + "/") {
            let parent = dir.deletingLastPathComponent()
            below = dir.lastPathComponent + "/" + below
            let g = makefileGates(parent)
            direct += (g.gates[dir.lastPathComponent + "/"] ?? []) + (g.gates[below] ?? [])
            dir = parent
        }
        guard !direct.isEmpty else { return [] }
        let index = kconfig(arch: arch)
        return index.closure(of: direct, foreign: ArchSelects.foreignSymbols(arch: arch)).filter { ["bool", "tristate"].contains(index.entries[$0]?.type ?? "bool") }.sorted()
    }

    /// The arch that builds `file` (outside arch/) when the options it is
    /// gated on need a capability only other arches select: kernel/scs.c is
    /// built under SHADOW_CALL_STACK, which depends on
    /// ARCH_SUPPORTS_SHADOW_CALL_STACK, which arm64 and riscv select (under
    /// a compiler condition) and x86 does not. Nil when `arch` has every
    /// such capability, or no arch selects all of them. 64-bit arches with
    /// a configuration table are preferred.
    ///
    /// The options on the object's own Makefile lines are alternatives
    /// (mm/kasan/shadow.o is listed under KASAN_GENERIC and under
    /// KASAN_SW_TAGS, which only arm64 has): the arch changes only when
    /// every one of them needs such a capability.
    ///
    /// Options the arch's Kconfig does not define at all, because only
    /// other arches `source` the file that does, take the first arch whose
    /// Kconfig defines them all (drivers/hwtracing/coresight/Kconfig is
    /// read from arch/arm64/Kconfig.debug and arm's: coresight-tmc-etr.c
    /// uses arm64's dmb()).
    func archWithCapabilities(for file: URL, arch: String) -> String? {
        let object = file.deletingPathExtension().lastPathComponent + ".o"
        let own = makefileGates(file.deletingLastPathComponent()).gates[object] ?? []
        if !own.isEmpty, own.allSatisfy({ kconfig(arch: arch).entries[$0] == nil }) {
            return Workspace.capabilityArches.first { other in
                other != arch && tree.arches.contains(other) && own.allSatisfy { kconfig(arch: other).entries[$0] != nil }
            }
        }
        // Of a `depends on A || B`, an alternative the arch can take is
        // preferred (KASAN: generic before HW tags).
        let absent = selectedByAnyArch.subtracting(capabilities(arch: arch))
        let foreign = ArchSelects.foreignSymbols(arch: arch).union(absent)
        func lacking(_ symbols: [String]) -> Set<String> {
            Set(kconfig(arch: arch).closure(of: symbols, foreign: foreign, withDefaults: false)).intersection(absent)
        }
        guard !own.isEmpty, own.allSatisfy({ !lacking([$0]).isEmpty }) else { return nil }
        let missing = lacking(own)
        return Workspace.capabilityArches.first { other in
            other != arch && tree.arches.contains(other) && missing.isSubset(of: selectedSymbols(arch: other))
        }
    }

    /// The sub-arch of `arch` whose configuration meets a header prelude's
    /// `requirements`, when kpolicy's default configuration of the arch
    /// does not (asm/nohash/pgtable.h needs PPC_BOOK3S off: powerpc 8xx).
    public func subArchitecture(arch: String, meeting requirements: [String: Bool]) -> DefaultConfig.SubArchitecture? {
        let base = capabilities(arch: arch)
        guard requirements.contains(where: { base.contains($0.key) != $0.value }) else { return nil }
        return DefaultConfig.subArchitectures[arch]?.first { sub in
            let own = Dictionary(sub.options.map { ($0.0, $0.1 != .off) }, uniquingKeysWith: { _, last in last })
            return requirements.allSatisfy { (own[$0.key] ?? base.contains($0.key)) == $0.value }
        }
    }

    /// The arches a file outside arch/ may be parsed for by its
    /// capabilities, in order of preference.
    static let capabilityArches = ["x86", "arm64", "riscv", "powerpc", "s390"]

    /// What the default configuration of `arch` turns on, with the selects
    /// of its main Kconfig entries (ArchSelects), computed once.
    func capabilities(arch: String) -> Set<String> {
        lock.lock()
        if let known = capabilityCache[arch] { lock.unlock(); return known }
        lock.unlock()
        let all = DefaultConfig.options(arch: arch)
        let on = Set(all.filter { $0.1 != .off }.map(\.0))
        let result = on.union(ArchSelects.enabled(tree: tree, arch: arch, base: on, disabled: Set(all.filter { $0.1 == .off }.map(\.0))))
        lock.lock()
        capabilityCache[arch] = result
        lock.unlock()
        return result
    }

    /// Every symbol some arch's main Kconfig entry selects.
    /// What arch/<arch>/Kconfig's own config symbol selects, read once
    /// (every file outside arch/ asks when its options lack a capability).
    func selectedSymbols(arch: String) -> Set<String> {
        lock.lock()
        if let known = archSelectsCache[arch] { lock.unlock(); return known }
        lock.unlock()
        let result = Set(ArchSelects.selects(tree: tree, arch: arch).map(\.0))
        lock.lock()
        archSelectsCache[arch] = result
        lock.unlock()
        return result
    }

    private var selectedByAnyArch: Set<String> {
        lock.lock()
        if let known = selectedByAnyArchCache { lock.unlock(); return known }
        lock.unlock()
        let all = Set(Workspace.capabilityArches.filter { tree.arches.contains($0) }.flatMap { selectedSymbols(arch: $0) })
        lock.lock()
        selectedByAnyArchCache = all
        lock.unlock()
        return all
    }

    /// The Makefile gates of one directory, read once.
    func makefileGates(_ directory: URL) -> MakefileGates {
        lock.lock()
        defer { lock.unlock() }
        if let cached = gates[directory.path] { return cached }
        let g = MakefileGates(directory: directory)
        gates[directory.path] = g
        return g
    }

    /// The arch's option for a 32-bit build, which a `*_$(BITS).o` object's
    /// `_32` file is built under.
    static let thirtyTwoBitSymbol = ["x86": "X86_32", "powerpc": "PPC32"]

    /// The sub-arch Kbuild builds `file` for, when it is not kpolicy's
    /// default one for `arch`: the Makefile names it `*_$(BITS).o` and it
    /// is the `_32` one, or its gating options name a trigger of one of
    /// `DefaultConfig.subArchitectures` (CONFIG_X86_32, CONFIG_PPC_8xx ...).
    func subArchitecture(for file: URL, arch: String, gates: [String]) -> DefaultConfig.SubArchitecture? {
        var options = Set(gates)
        let object = file.deletingPathExtension().lastPathComponent + ".o"
        let g = makefileGates(file.deletingLastPathComponent())
        options.formUnion(g.gates[object] ?? [])
        if g.thirtyTwoBitOnly.contains(object), let symbol = Workspace.thirtyTwoBitSymbol[arch] { options.insert(symbol) }
        return DefaultConfig.subArchitecture(arch: arch, options: options)
    }
}
