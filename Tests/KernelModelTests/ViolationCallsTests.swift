import KernelModel
import Testing

/// Which calls can lead to a violation (`Invariant.leadingCalls`) and what
/// kind of step each call is: path rules derive their triggers from them.
@Suite("Calls that lead to violations")
struct ViolationCallsTests {
    @Test func stepKindsOfTheCatalogue() {
        #expect(StepKind(api: "set_memory_rox") == .setMemory)
        #expect(StepKind(api: "execmem_restore_rox") == .restore)
        #expect(StepKind(api: "write") == .write)
        for free in ["vfree", "vunmap", "module_memfree", "execmem_free", "bpf_prog_pack_free", "vm_unmap_ram", "__free_pages"] {
            #expect(StepKind(api: free) == .free, "\(free)")
        }
        #expect(StepKind(api: "text_poke_copy") == .textPatch)
        #expect(StepKind(api: "bpf_arch_text_copy") == .textPatch)
        #expect(StepKind(api: "set_vm_flush_reset_perms") == .flag)
        #expect(StepKind(api: "set_direct_map_invalid_noflush") == .flag)
        // Not a text patch: finalize copies and frees the RW buffer.
        #expect(StepKind(api: "bpf_jit_binary_pack_finalize") == .allocation)
        #expect(StepKind(api: "execmem_alloc") == .allocation)
        #expect(APICall.free(.vfree, .sym("p")).stepKind == .free)
        #expect(APICall.write(.sym("p"), length: 8).stepKind == .write)
        #expect(APICall.checkWX.stepKind == .allocation)
    }

    @Test func leadingCalls() {
        // A use after free needs a free first, whatever the step.
        let uaf = Invariant.uaf.leadingCalls()
        #expect(uaf.contains("execmem_free") && uaf.contains("vfree") && !uaf.contains("set_memory_x"))
        // The W+X window at a set_memory step: the two calls that add W or X.
        #expect(Invariant.wx.leadingCalls(at: [.setMemory]).union(Invariant.order.leadingCalls(at: [.setMemory])) == ["set_memory_x", "set_memory_rw"])
        // INV-ROX is reported at a return: the memory comes from execmem_alloc_rw.
        #expect(Invariant.rox.leadingCalls(at: [.return]) == ["execmem_alloc_rw"])
        #expect(Invariant.ret.leadingCalls(at: [.restore]) == ["execmem_restore_rox"])
        // A target state is reached only through its calls.
        #expect(Invariant.write.leadingCalls(at: [.write], on: .readOnly).isSuperset(of: ["set_memory_ro", "set_memory_rox", "execmem_alloc"]))
        #expect(!Invariant.write.leadingCalls(at: [.write], on: .readOnly).contains("set_memory_rw"))
        #expect(Invariant.reset.leadingCalls(at: [.free], on: .permissionsChanged).isSuperset(of: Set(SetMemoryOp.allCases.map(\.apiName))))
        // Text patches are never free steps, and need no state.
        #expect(Invariant.poke.leadingCalls(at: [.free]).isEmpty)
    }
}
