import KernelModel
import Testing

/// The one home of tree facts: what the catalogue predicts for a version,
/// and the questions every other part asks of it.
@Suite("Tree capabilities")
struct TreeCapabilitiesTests {
    func v(_ s: String) -> KernelVersion { KernelVersion(string: s)! }

    @Test func theTwoModelledTreesAreWhatTheyWere() {
        let old = TreeCapabilities.expected(for: v("6.1"))
        #expect(old.generation == .v6_1)
        #expect(old.has("module_alloc") && !old.has("execmem_alloc") && !old.hasSetMemoryROX)
        #expect(old.codeWriter(on: .x86_64) == .textPokeCopy)
        #expect(old.codeWriter(on: .arm64) == nil, "6.1 arm64 has only the single-instruction patcher")
        #expect(old.codeWriter(on: .ppc64) == nil)
        #expect(old.bpfTextCopyWriter(on: .riscv64) == nil && old.bpfTextCopyWriter(on: .x86_64) == .textPokeCopy)
        let new = TreeCapabilities.expected(for: v("6.12"))
        #expect(new.generation == .v6_12)
        #expect(!new.has("module_alloc") && new.has("execmem_alloc") && new.hasSetMemoryROX)
        #expect(new.codeWriter(on: .arm64) == .aarch64InsnCopy && new.codeWriter(on: .ppc64) == .patchInstructions)
        #expect(new.bpfTextCopyWriter(on: .s390) == nil && new.bpfTextCopyWriter(on: .riscv64) == .patchTextNosync)
        #expect(new.roxCache.isEmpty, "the ROX cache came in 6.13")
        #expect(ModelConfig(arch: .x86_64, generation: .v6_12).capabilities == new)
        #expect(ModelConfig(arch: .x86_64, generation: .v6_1).label == "x86_64/6.1")
    }

    /// 6.2 to 6.9: set_memory_rox() is there, execmem is not. One query
    /// answers both, so advice and rewrites cannot disagree.
    @Test func aTreeBetweenTheTwoHasSetMemoryROXButNoExecmem() {
        let mid = TreeCapabilities.expected(for: v("6.5"))
        #expect(mid.hasSetMemoryROX)
        #expect(mid.generation == .v6_1)
        #expect(mid.execmemWorld == TreeCapabilities.expected(for: .v6_12))
        #expect(KernelGeneration(parsing: "6.5") == .v6_1)
        #expect(KernelGeneration(parsing: "6.10") == .v6_12)
        #expect(KernelGeneration(parsing: "7.3") == .v6_12, "7.x is the execmem world, not an unknown version")
        #expect(KernelGeneration(parsing: "5.15") == .v6_1)
        #expect(KernelGeneration(parsing: "seven") == nil)
    }

    @Test func sevenXHasTheROXCacheAndItsAPI() {
        let seven = TreeCapabilities.expected(for: v("7.3"))
        for api in ["execmem_alloc_rw", "execmem_restore_rox", "execmem_is_rox", "smp_text_poke_single"] { #expect(seven.has(api), "\(api)") }
        #expect(!seven.has("text_poke_bp"), "renamed smp_text_poke_single in 6.16")
        #expect(seven.usesROXCache(.kprobes, on: .x86_64) && !seven.usesROXCache(.moduleData, on: .x86_64))
        #expect(!seven.usesROXCache(.kprobes, on: .arm64))
        #expect(ModelConfig(arch: .x86_64, tree: seven).label == "x86_64/7.3")
    }

    @Test func aVersionedAPIOutsideItsTreeIsAVersionViolation() {
        let config = ModelConfig(arch: .x86_64, tree: .expected(for: v("6.5")))
        let violations = Executor.run([.setMemory(.rox, .sym("p"), pages: 1, checked: true)], config: config).violations
        #expect(!violations.contains { $0.invariant == .version }, "6.5 has set_memory_rox")
        let old = Executor.run([.setMemory(.rox, .sym("p"), pages: 1, checked: true)], config: ModelConfig(arch: .x86_64, generation: .v6_1))
        #expect(old.violations.contains { $0.invariant == .version && $0.message.contains("6.2+") })
    }

    @Test func pairsComeFromTheCatalogue() {
        #expect(ModelAPI.pairedFree(ofAllocator: "vmalloc_noprof") == "vfree")
        #expect(ModelAPI.pairedFree(ofAllocator: "bpf_prog_pack_alloc") == "bpf_prog_pack_free")
        #expect(ModelAPI.pairedFree(ofAllocator: "execmem_alloc") == "execmem_free")
        #expect(ModelAPI.pairedFree(ofAllocator: "kvzalloc") == "kvfree")
        #expect(ModelAPI.pairedFree(ofAllocator: "set_memory_ro") == nil)
    }

    @Test func pgprotNamesAreOneTable() {
        for (name, perm) in Perm.pgprots {
            #expect(KernelNames.prot(name) == perm, "\(name)")
            #expect(Perm(pgprot: name) == perm, "\(name)")
        }
        #expect(Perm(pgprot: "PAGE_KERNEL_RX") == .kernelROX)
        #expect(KernelNames.prot("PAGE_SIZE") == nil)
    }

    @Test func kernelArchNames() {
        for arch in Arch.allCases where arch != .generic { #expect(Arch(kernelArch: arch.kernelArch!) == arch) }
        #expect(Arch(kernelArch: "loongarch") == .generic)
        #expect(Arch.checked(forPath: "arch/riscv/net/bpf_jit_core.c") == [.riscv64])
        #expect(Arch.checked(forPath: "kernel/bpf/core.c").count == 5)
    }
}
