import KernelModel
import Testing

@Suite("Model API")
struct ModelTests {
    @Test func catalogueKnowsVersions() {
        let v61 = ModelConfig(arch: .x86_64, generation: .v6_1)
        let v612 = ModelConfig(arch: .x86_64, generation: .v6_12)
        #expect(ModelAPI.named("module_alloc")!.exists(in: v61))
        #expect(!ModelAPI.named("module_alloc")!.exists(in: v612))
        #expect(ModelAPI.named("execmem_alloc")!.exists(in: v612))
        #expect(!ModelAPI.named("set_memory_rox")!.exists(in: v61))
        #expect(!ModelAPI.named("text_poke")!.exists(in: ModelConfig(arch: .arm64, generation: .v6_12)))
        #expect(ModelAPI.named("vmalloc")!.layer == .D)
        #expect(!APILayer.C.reachable(from: .module))
        #expect(!Replacement.replacing("module_alloc").isEmpty)
    }

    /// The 7.x execmem API runs in the capabilities of the tree: the ROX
    /// cache only where the tree puts the type in it, `execmem_alloc_rw` and
    /// `execmem_restore_rox` only from the versions that have them.
    @Test func execmemROXCacheFollowsTheTree() {
        let v73 = TreeCapabilities.expected(for: KernelVersion(7, 3))
        let x86 = ModelConfig(arch: .x86_64, tree: v73)
        var s = ModelState(config: x86)
        _ = Executor.run(.execmemAlloc(.kprobes, size: 4096, bind: "k"), on: &s)
        _ = Executor.run(.execmemAlloc(.moduleData, size: 4096, bind: "d"), on: &s)
        #expect(s.pagePermissions(.sym("k"))?.map == .kernelROX)
        #expect(s.pagePermissions(.sym("d"))?.map == .kernel)
        _ = Executor.run(.execmemAllocRW(.ftrace, size: 4096, bind: "t"), on: &s)
        #expect(s.pagePermissions(.sym("t"))?.map == .kernel)
        #expect(Executor.run(.write(.sym("t"), length: 16), on: &s).isEmpty)
        #expect(s.unrestoredCode("t")?.invariant == .rox)
        #expect(Executor.run(.execmemRestoreROX(.sym("t"), size: 4096, checked: true), on: &s).isEmpty)
        #expect(s.unrestoredCode("t") == nil)
        #expect(s.pagePermissions(.sym("t"))?.map == .kernelROX)
        // arm64 has no ROX cache: execmem_restore_rox is a stub.
        var a = ModelState(config: ModelConfig(arch: .arm64, tree: v73))
        _ = Executor.run(.execmemAllocRW(.moduleText, size: 4096, bind: "t"), on: &a)
        _ = Executor.run(.write(.sym("t"), length: 16), on: &a)
        #expect(Executor.run(.execmemRestoreROX(.sym("t"), size: 4096, checked: false), on: &a).isEmpty)
        #expect(a.unrestoredCode("t")?.message.contains("set_memory_rox") == true)
        // 6.12 has neither the cache nor the new calls.
        var old = ModelState(config: ModelConfig(arch: .x86_64, generation: .v6_12))
        _ = Executor.run(.execmemAlloc(.kprobes, size: 4096, bind: "k"), on: &old)
        #expect(old.pagePermissions(.sym("k"))?.map == .kernel)
        #expect(Executor.run(.execmemAllocRW(.ftrace, size: 4096, bind: "t"), on: &old).map(\.invariant) == [.version])
        #expect(old.isNull("t") == true)
    }

    /// A copy of a state changes alone, and equal states compare and hash
    /// equal (the checker's visited sets and summaries rely on both).
    @Test func copiesOfAStateAreIndependent() {
        let x86 = ModelConfig(arch: .x86_64, generation: .v6_12)
        var a = ModelState(config: x86)
        _ = Executor.run(.execmemAlloc(.kprobes, size: 4096, bind: "k"), on: &a)
        let before = a
        let hashBefore = a.hashValue
        var b = a
        #expect(b == a && b.hashValue == hashBefore)
        _ = Executor.run(.execmemAlloc(.moduleText, size: 4096, bind: "m"), on: &b)
        #expect(a.area(named: "m") == nil)
        #expect(b.area(named: "m") != nil)
        #expect(a == before && a.hashValue == hashBefore)
        #expect(b != a && b.hashValue != hashBefore)
        // The same steps on a fresh state: equal without sharing storage.
        var c = ModelState(config: x86)
        _ = Executor.run(.execmemAlloc(.kprobes, size: 4096, bind: "k"), on: &c)
        _ = Executor.run(.execmemAlloc(.moduleText, size: 4096, bind: "m"), on: &c)
        #expect(c == b && c.hashValue == b.hashValue)
    }

    @Test func execmemRangesPerArch() {
        // execmem_init_missing: MODULE_DATA copies DEFAULT but gets PAGE_KERNEL.
        for arch in Arch.allCases {
            let p = ArchProfile(ModelConfig(arch: arch, generation: .v6_12))
            #expect(p.execmem[.moduleData]!.pgprot == .kernel)
            #expect(p.execmem[.ftrace]! == p.execmem[.moduleText]!)
        }
        #expect(ArchProfile(ModelConfig(arch: .arm64, generation: .v6_12)).execmem[.kprobes]!.pgprot == .kernelROX)
        #expect(ArchProfile(ModelConfig(arch: .generic, generation: .v6_12)).execmem[.moduleText]!.pgprot == .kernelExec)
    }

    @Test func strictModeMakesAllocationWXAnError() {
        let calls: [APICall] = [.vmallocNodeRange(size: 4096, align: 1, range: .modules, prot: .kernelExec, flags: [.flushResetPerms], purpose: .code, bind: "p"),
                                .free(.vfree, .sym("p"))]
        let kernel = Executor.run(calls, config: ModelConfig(arch: .x86_64, generation: .v6_12, wxMode: .kernel)).violations
        let strict = Executor.run(calls, config: ModelConfig(arch: .x86_64, generation: .v6_12, wxMode: .strict)).violations
        #expect(kernel.first { $0.invariant == .wx }?.severity == .advisory)
        #expect(strict.first { $0.invariant == .wx }?.severity == .error)
    }

    @Test func executionModelsTheAliasPerArch() {
        // x86: ro follows into the alias; ppc: never.
        for (arch, expected) in [(Arch.x86_64, Perm.kernelRO), (.ppc64, .kernel), (.riscv64, .kernelRO)] {
            var s = ModelState(config: ModelConfig(arch: arch, generation: .v6_12))
            _ = Executor.run(.vmalloc(.vmalloc, size: 4096, bind: "p"), on: &s)
            _ = Executor.run(.setMemory(.ro, .sym("p"), pages: 1, checked: true), on: &s)
            let a = s.area(named: "p")!
            #expect(s.pages[Int(a.pfns[0])].alias == expected, "\(arch)")
        }
    }

    @Test func stateCopiesAreValues() {
        var s = ModelState(config: ModelConfig(arch: .arm64, generation: .v6_12))
        _ = Executor.run(.vmalloc(.vmalloc, size: 4096, bind: "p"), on: &s)
        let fork = s
        _ = Executor.run(.setMemory(.ro, .sym("p"), pages: 1, checked: true), on: &s)
        #expect(fork.area(named: "p")!.map == [.kernel])
        #expect(s.area(named: "p")!.map == [.kernelRO])
    }
}
