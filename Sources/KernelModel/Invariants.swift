/// How bad a violation is (MODEL_SPEC §0).
public enum Severity: String, CaseIterable, Hashable, Sendable, Codable, Comparable {
    /// Legal but discouraged.
    case advisory
    /// An oops, a WARN, or a broken security property.
    case error

    public static func < (a: Self, b: Self) -> Bool { a == .advisory && b == .error }
}

/// The invariants the model checks, with stable ids (MODEL_SPEC §3).
public enum Invariant: String, CaseIterable, Hashable, Sendable, Codable {
    case wx = "INV-WX"
    case order = "INV-ORDER"
    case write = "INV-WRITE"
    case poke = "INV-POKE"
    case alias = "INV-ALIAS"
    case freeMatch = "INV-FREE-MATCH"
    case reset = "INV-RESET"
    case ctx = "INV-CTX"
    case range = "INV-RANGE"
    case uaf = "INV-UAF"
    case doubleFree = "INV-DOUBLE-FREE"
    case leak = "INV-LEAK"
    case setmem = "INV-SETMEM"
    case huge = "INV-HUGE"
    case layer = "INV-LAYER"
    case version = "INV-VERSION"
    case ret = "INV-RET"
    case rox = "INV-ROX"

    public var id: String { rawValue }

    /// The usual severity; a few checks downgrade or upgrade per case.
    public var defaultSeverity: Severity {
        switch self {
        case .alias, .ret: return .advisory
        default: return .error
        }
    }

    /// What the invariant says, in one line.
    public var summary: String {
        switch self {
        case .wx: return "no page of a vmalloc mapping or of a live direct-map alias is writable and executable"
        case .order: return "set_memory_x never on a writable page, set_memory_rw never on an executable page"
        case .write: return "plain writes only to present, writable pages; W=0 pages only through text-patch functions"
        case .poke: return "text-patch preconditions hold (text_mutex, context, mapped live target, length)"
        case .alias: return "an executable page's direct-map alias is not writable"
        case .freeMatch: return "the free matches the allocator and gets the exact start pointer"
        case .reset: return "an area whose permissions changed is freed with VM_FLUSH_RESET_PERMS or restored first"
        case .ctx: return "allocations, sleeping frees and text patching happen in a context that allows them"
        case .range: return "code lives in the range its type requires; everything else in vmalloc space"
        case .uaf: return "no access to a freed or pending-free object"
        case .doubleFree: return "no object is freed twice"
        case .leak: return "every object is freed by the end unless it is persistent"
        case .setmem: return "set_memory_* gets a page-aligned range inside one live area with a vm_struct"
        case .huge: return "no set_memory_* on huge-mapped areas where the arch refuses it; no huge executable allocations"
        case .layer: return "callers use only the APIs their layer may reach (drivers: exported ones)"
        case .version: return "the API exists in the target kernel and arch"
        case .ret: return "results of set_memory_* and bpf_arch_text_copy are checked"
        case .rox: return "execmem_alloc_rw memory the caller wrote code into is read-only and executable again before it is handed on"
        }
    }

    /// Why it matters (one line).
    public var rationale: String {
        switch self {
        case .wx: return "W+X memory is a code-injection primitive and is exactly what CONFIG_DEBUG_WX reports"
        case .order: return "the wrong order creates a W+X window; x86 CPA verify_rwx WARNs on it"
        case .write: return "a store to read-only or unmapped memory oopses"
        case .poke: return "an unmapped target BUGs; text_poke_copy with text_mutex held deadlocks"
        case .alias: return "code can be rewritten through the direct map even though its vmalloc mapping is read-only"
        case .freeMatch: return "arch overrides of the frees differ, the paired frees carry the irq checks, and an interior pointer frees the whole area"
        case .reset: return "pages return to the allocator with an RO/NP alias (a later write faults) and stale executable TLB entries survive lazy unmap"
        case .ctx: return "these paths sleep; a deferred free writes a list node into the first word, which faults on RO memory"
        case .range: return "rel32 calls, relocations and arm64 branches only reach kernel text from the ranges reserved for code"
        case .uaf: return "the area may already be reused by another allocation"
        case .doubleFree: return "vfree WARNs on a nonexistent area; a pack bitmap cleared twice frees the pack early"
        case .leak: return "executable space is only 1-2 GiB on x86, arm64, riscv and s390"
        case .setmem: return "a short range leaves pages writable; a long one changes a neighbour or the guard page"
        case .huge: return "apply_to_page_range cannot split huge vmalloc mappings; modules do not expect huge pages"
        case .layer: return "nothing else is exported, so the code will not load as a module"
        case .version: return "the call does not exist (or has another signature) in this tree"
        case .ret: return "these calls can fail, leaving memory writable or the copy not done"
        case .rox: return "execmem_alloc_rw hands out writable (on ROX-cache arches non-executable) memory; whoever wrote the code must make it ROX, or it runs writable or faults"
        }
    }

    /// What to do instead, in general; violations may carry a sharper hint.
    public var instead: String {
        switch self {
        case .wx: return "allocate PAGE_KERNEL, write, then set_memory_rox (6.12) or set_memory_ro then set_memory_x (6.1)"
        case .order: return "make pages read-only before executable (ro then x, or rox); to rewrite, nx then rw"
        case .write: return "write while the page is still RW, or use text_poke_copy / bpf_arch_text_copy / the arch patch helper"
        case .poke: return "take text_mutex for text_poke; call text_poke_copy/text_poke_set without it; only patch mapped live code"
        case .alias: return "call set_memory_ro (or rox) so the alias follows; use an allocation whose alias is protected"
        case .freeMatch: return "free with the pair of the allocator (execmem_free, module_memfree, vfree, vunmap...) and the start pointer"
        case .reset: return "call set_vm_flush_reset_perms before changing permissions, or set_memory_nx then set_memory_rw over the whole area before freeing"
        case .ctx: return "defer the free to a workqueue (as do_free_init and bpf_prog_free_deferred do); allocate in process context"
        case .range: return "allocate code with execmem_alloc(type) (6.12) or module_alloc (6.1)"
        case .uaf: return "keep the object alive until its last use, or drop the pointer when freeing it"
        case .doubleFree: return "clear the pointer after freeing it"
        case .leak: return "free it on every path, including error paths"
        case .setmem: return "pass the start of the area and its exact page count"
        case .huge: return "do not change permissions of vmalloc_huge memory; never pass VM_ALLOW_HUGE_VMAP for code"
        case .layer: return "use the exported API (vmalloc/vfree, vmap/vunmap) or move the code into the core kernel"
        case .version: return "use the API the target tree has (see `kpolicy model apis` and the replacement map)"
        case .ret: return "check the result and unwind on failure"
        case .rox: return "call execmem_restore_rox (ROX-cache memory) or set_memory_rox once the code is written, and check its result"
        }
    }
}

/// The object a violation is about.
public struct ObjectRef: Hashable, Sendable, Codable, CustomStringConvertible {
    public enum Kind: String, Hashable, Sendable, Codable { case area, chunk, pages, page, call }
    public var kind: Kind
    public var id: Int
    public var name: String
    public init(kind: Kind, id: Int, name: String) { self.kind = kind; self.id = id; self.name = name }
    public var description: String {
        switch kind {
        case .area: return name.isEmpty ? "area #\(id)" : "area #\(id) (\(name))"
        case .chunk: return "chunk #\(id) (\(name))"
        case .pages: return "pages #\(id) (\(name))"
        case .page: return "pfn \(id)"
        case .call: return name
        }
    }
}

/// One broken invariant, at one step, about one object.
public struct Violation: Hashable, Sendable, CustomStringConvertible {
    public var invariant: Invariant
    public var severity: Severity
    /// 1-based step index; `0` means "at scenario end".
    public var stepIndex: Int
    public var object: ObjectRef
    public var message: String
    public var rationale: String
    public var instead: String

    public init(_ inv: Invariant, _ severity: Severity? = nil, step: Int, object: ObjectRef, _ message: String, instead: String? = nil) {
        invariant = inv
        self.severity = severity ?? inv.defaultSeverity
        stepIndex = step
        self.object = object
        self.message = message
        rationale = inv.rationale
        self.instead = instead ?? inv.instead
    }

    public var description: String {
        "\(invariant.id) [\(severity.rawValue)] at \(stepIndex == 0 ? "end" : "step \(stepIndex)") on \(object): \(message)"
    }
}

/// A state the violating step may be asked to find its memory in (a path
/// rule's `target`), and the calls that put memory in it.
public enum MemoryCondition: String, CaseIterable, Hashable, Sendable {
    /// The page was present and read-only just before the step.
    case readOnly = "read-only"
    /// `set_memory_*()` changed the area's permissions before the step.
    case permissionsChanged = "perms-changed"

    /// The calls after which memory can be in this state: the only way a
    /// path gets there, so one of them comes first on every path whose
    /// violating step finds it so.
    public var calls: Set<String> {
        switch self {
        case .readOnly:
            // Permission changes that clear W, the restore of ROX-cache
            // memory, allocators handing out read-only executable memory
            // (the ROX cache behind execmem_alloc and bpf_jit_alloc_exec,
            // bpf_prog_pack's chunks), and every call that maps with a
            // pgprot it is given.
            let withPgprot = KernelSignature.allNames.filter { n in KernelSignature.named(n)?.parameters.contains { $0.kind == .prot } ?? false }
            return Set(["set_memory_ro", "set_memory_rox", "execmem_restore_rox",
                        "execmem_alloc", "bpf_jit_alloc_exec", "bpf_prog_pack_alloc", "bpf_jit_binary_pack_alloc"] + withPgprot)
        case .permissionsChanged:
            // set_memory_*() itself, and the calls that run it on the
            // caller's memory (execmem_alloc_rw on a ROX-cache arch,
            // execmem_restore_rox). bpf_prog_pack_alloc changes the pack's
            // permissions, not the chunk's a caller frees.
            return Set(SetMemoryOp.allCases.map(\.apiName) + ["execmem_alloc_rw", "execmem_restore_rox"])
        }
    }
}

/// Which calls can lead a path to a violation of an invariant: the calls at
/// whose step the model reports it, and the calls that bring memory into
/// the state that step finds wrong (the checks in Checks, Frees,
/// Permissions, Patching and Packs are where each is reported). Path rules
/// derive their triggers from it: a file none of whose calls can lead to a
/// violation the rule reports is not parsed for it.
public struct ViolationCalls: Hashable, Sendable {
    /// The calls at whose step the model may report the violation; nil:
    /// any call that acts on the memory (the state is what narrows it).
    /// Empty: it is reported at no call (a return, the end of a scenario).
    public var breaking: Set<String>?
    /// The calls that make memory what the breaking step finds wrong (freed,
    /// allocated by some allocator, written code awaiting ROX).
    public var preparing: Set<String>
}

extension Invariant {
    /// The calls that can lead to a violation of this invariant (MODEL_SPEC §3).
    public var calls: ViolationCalls {
        let frees = Set(ModelAPI.all.filter { $0.role == .free }.map(\.name))
        // What returns memory with a documented free: allocators and mappings.
        let allocators = Set(ModelAPI.all.filter { !$0.pairedFree.isEmpty }.map(\.name))
        let setMemory = Set(SetMemoryOp.allCases.map(\.apiName))
        let patches = Set(TextPatchAPI.allCases.map(\.rawValue) + ["bpf_arch_text_copy"])
        switch self {
        case .wx:
            return ViolationCalls(breaking: allocators.union(["set_memory_x", "set_memory_rw", "set_direct_map_default_noflush", "check_wx"]), preparing: [])
        case .order: return ViolationCalls(breaking: ["set_memory_x", "set_memory_rw"], preparing: [])
        case .write:
            // Plain stores and text patches to unbound, unmapped or read-only
            // memory; vfree_atomic's list node in a read-only first page.
            return ViolationCalls(breaking: patches.union(["write", "vfree_atomic", "vfree"]), preparing: [])
        case .poke: return ViolationCalls(breaking: patches, preparing: [])
        case .alias:
            return ViolationCalls(breaking: allocators.union(["set_memory_x", "set_memory_rox", "set_direct_map_default_noflush", "check_wx"]), preparing: [])
        case .freeMatch: return ViolationCalls(breaking: frees.union(["bpf_jit_binary_pack_finalize"]), preparing: allocators)
        case .reset:
            // A free of memory that was executable or whose permissions
            // changed; vmap and vm_area_map_pages refuse the flag.
            return ViolationCalls(breaking: frees.union(["vmap", "vm_area_map_pages"]),
                                  preparing: MemoryCondition.permissionsChanged.calls.union(allocators).union(["set_direct_map_invalid_noflush", "set_direct_map_default_noflush"]))
        case .ctx: return ViolationCalls(breaking: allocators.union(frees).union(patches), preparing: [])
        case .range: return ViolationCalls(breaking: allocators, preparing: [])
        case .uaf: return ViolationCalls(breaking: nil, preparing: frees)
        case .doubleFree: return ViolationCalls(breaking: frees, preparing: frees)
        case .leak: return ViolationCalls(breaking: [], preparing: allocators)
        case .setmem: return ViolationCalls(breaking: setMemory.union(["execmem_restore_rox"]), preparing: [])
        case .huge: return ViolationCalls(breaking: setMemory.union(allocators), preparing: [])
        case .layer: return ViolationCalls(breaking: Set(ModelAPI.all.map(\.name)), preparing: [])
        case .version: return ViolationCalls(breaking: Set(ModelAPI.all.filter { $0.isVersioned || $0.arches != nil }.map(\.name)), preparing: [])
        case .ret:
            // Unchecked results; 6.1's bpf_prog_pack_alloc ignores its own set_memory_*() results.
            return ViolationCalls(breaking: setMemory.union(["execmem_restore_rox", "bpf_arch_text_copy", "bpf_prog_pack_alloc"]), preparing: [])
        case .rox: return ViolationCalls(breaking: [], preparing: ["execmem_alloc_rw"])
        }
    }

    /// The calls that can lead to a violation of this invariant reported at
    /// a step of one of `kinds` (empty: any), on memory in `condition` when
    /// one is given. A condition is the only way to its state, so its calls
    /// alone are the answer; otherwise the preparing calls and the breaking
    /// calls of those kinds.
    public func leadingCalls(at kinds: Set<StepKind> = [], on condition: MemoryCondition? = nil) -> Set<String> {
        if let condition { return condition.calls }
        let c = calls
        var out = c.preparing
        if let breaking = c.breaking { out.formUnion(kinds.isEmpty ? breaking : breaking.filter { kinds.contains(StepKind(api: $0)) }) }
        return out
    }
}
