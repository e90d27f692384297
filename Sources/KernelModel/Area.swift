import Foundation

/// `vm_struct.flags` (include/linux/vmalloc.h), the ones that change behaviour.
public struct VMFlags: OptionSet, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public static let alloc = VMFlags(rawValue: 1 << 0)
    public static let map = VMFlags(rawValue: 1 << 1)
    public static let ioremap = VMFlags(rawValue: 1 << 2)
    public static let usermap = VMFlags(rawValue: 1 << 3)
    public static let sparse = VMFlags(rawValue: 1 << 4)
    /// Reset the direct-map alias and flush the TLB on vfree; required for
    /// any area whose permissions change (see INV-RESET).
    public static let flushResetPerms = VMFlags(rawValue: 1 << 5)
    public static let allowHugeVmap = VMFlags(rawValue: 1 << 6)
    public static let mapPutPages = VMFlags(rawValue: 1 << 7)
    public static let noGuard = VMFlags(rawValue: 1 << 8)
    public static let deferKmemleak = VMFlags(rawValue: 1 << 9)

    public static let names: [(VMFlags, String)] = [
        (.alloc, "VM_ALLOC"), (.map, "VM_MAP"), (.ioremap, "VM_IOREMAP"), (.usermap, "VM_USERMAP"),
        (.sparse, "VM_SPARSE"), (.flushResetPerms, "VM_FLUSH_RESET_PERMS"), (.allowHugeVmap, "VM_ALLOW_HUGE_VMAP"),
        (.mapPutPages, "VM_MAP_PUT_PAGES"), (.noGuard, "VM_NO_GUARD"), (.deferKmemleak, "VM_DEFER_KMEMLEAK"),
    ]

    /// Parses `VM_FLUSH_RESET_PERMS`, `FLUSH_RESET_PERMS` or `flush_reset_perms`.
    public init?(name: String) {
        let n = name.uppercased().replacingOccurrences(of: "VM_", with: "")
        guard let hit = Self.names.first(where: { $0.1 == "VM_" + n }) else { return nil }
        self = hit.0
    }

    public var description: String {
        let parts = Self.names.filter { contains($0.0) }.map { String($0.1.dropFirst(3)) }
        return parts.isEmpty ? "0" : parts.joined(separator: "|")
    }
}

/// Which API created an object. Decides the matching free (INV-FREE-MATCH)
/// and, with `purpose`, the address range the object must live in.
public enum Allocator: String, Hashable, Sendable, Codable {
    case vmalloc, vmallocHuge = "vmalloc_huge", vmallocNodeRange = "__vmalloc_node_range"
    case moduleAlloc = "module_alloc", execmemAlloc = "execmem_alloc", bpfJitAllocExec = "bpf_jit_alloc_exec"
    case bpfProgPack = "bpf_prog_pack", vmap, vmMapRam = "vm_map_ram", getVMArea = "get_vm_area"
    case kvmalloc, kmalloc
    /// An ioremapped or otherwise pre-existing region (sram pool), declared by the scenario.
    case ioremap

    /// The catalogue API that allocates it (`ModelAPI.named`).
    var api: String { self == .bpfProgPack ? "bpf_prog_pack_alloc" : rawValue }
}

/// What the memory is for, as the caller declares it or as the execmem type
/// says. Code purposes bind the object to the ranges of INV-RANGE.
public enum Purpose: String, CaseIterable, Hashable, Sendable, Codable {
    case data, moduleText = "module-text", moduleData = "module-data", kprobes, ftrace, bpf
    /// Any other generated code (a JIT, a trampoline) that calls kernel text with rel32.
    case code

    public init(_ t: ExecmemType) {
        switch t {
        case .moduleText: self = .moduleText
        case .moduleData: self = .moduleData
        case .kprobes: self = .kprobes
        case .ftrace: self = .ftrace
        case .bpf: self = .bpf
        }
    }

    public var isCode: Bool { self != .data && self != .moduleData }

    /// The execmem type whose ranges bind this purpose.
    public var execmemType: ExecmemType {
        switch self {
        case .moduleText, .code, .data: return .moduleText
        case .moduleData: return .moduleData
        case .kprobes: return .kprobes
        case .ftrace: return .ftrace
        case .bpf: return .bpf
        }
    }
}

/// Lifecycle of an area. Ids are never reused, so a freed area stays in the
/// state and accesses to it are reported as use-after-free.
public enum AreaState: String, Hashable, Sendable {
    case live, pendingFree, freed
}

/// One vmalloc-space object: `vm_struct` + `vmap_area`, or a heap buffer, or
/// a declared ioremapped region.
public struct Area: Hashable, Sendable {
    public var id: Int
    /// The symbolic name the scenario or checker bound it to, for messages.
    public var name: String
    public var start: UInt64
    /// Size including the guard page.
    public var size: Int
    public var flags: VMFlags
    /// 0, or `Size.pmdOrder` for a huge mapping.
    public var pageOrder: Int
    /// Physical frames backing each usable page (empty for unmapped or heap areas).
    public var pfns: [Int32]
    /// Permissions of the vmalloc mapping, one per usable 4 KiB page.
    public var map: [Perm]
    public var allocator: Allocator
    public var purpose: Purpose
    public var execmemType: ExecmemType?
    /// False for `vm_map_ram` areas and heap buffers: `find_vm_area` cannot see them.
    public var hasVmStruct: Bool
    /// Ever had an executable page.
    public var everX: Bool
    /// `set_memory_*` changed something.
    public var permsChanged: Bool
    public var state: AreaState
    /// Exempt from INV-LEAK (live module, hyperv page, sram pool...).
    public var persistent: Bool
    /// Pages are owned by the caller (vmap without MAP_PUT_PAGES,
    /// vm_area_map_pages); freeing the area does not free them.
    public var callerOwnsPages: Bool
    /// The step that allocated it (1-based).
    public var allocStep: Int
    /// For `vm_map_ram`: the page count to unmap with.
    public var mapRamCount: Int
    /// Carved from the execmem ROX cache (mm/execmem.c execmem_cache_alloc):
    /// huge pages filled with trapping instructions
    /// (`execmem_fill_trapping_insns`) and made read-only and executable,
    /// the direct-map alias read-only with them, before any caller gets a
    /// piece. `execmem_free` returns the piece to the cache, which makes it
    /// writable, refills it with trapping instructions and restores ROX
    /// (`__execmem_cache_free`): its pages never go back to the page
    /// allocator, so no VM_FLUSH_RESET_PERMS is needed.
    public var fromROXCache = false
    /// From `execmem_alloc_rw` (Linux 6.17): writable, and the caller owes
    /// read-only+executable (`execmem_restore_rox` on ROX-cache memory,
    /// `set_memory_rox` elsewhere) before the code in it runs. Cleared once
    /// every present page is read-only and executable.
    public var awaitingROX = false
    /// Written by a plain store while `awaitingROX`: it holds code the
    /// caller put there (not just the cache's trapping fill).
    public var codeWritten = false

    public var usable: Int { flags.contains(.noGuard) || !hasGuard ? size : size - Size.page }
    public var hasGuard: Bool { allocator != .kvmalloc && allocator != .kmalloc && allocator != .ioremap && allocator != .vmMapRam }
    public var end: UInt64 { start + UInt64(size) }
    public var usableEnd: UInt64 { start + UInt64(usable) }
    public var isHeap: Bool { allocator == .kvmalloc || allocator == .kmalloc }

    /// A short name for traces: `#3 text`.
    public var label: String { name.isEmpty ? "#\(id)" : "#\(id) \(name)" }
}

/// A physical page frame and its direct-map (linear map) alias.
public struct PhysPage: Hashable, Sendable {
    public enum Owner: Hashable, Sendable { case free, area(Int), caller }
    public var owner: Owner
    /// Permissions of the page's alias in the direct map.
    public var alias: Perm
    /// Freed back to the allocator while its alias was not PAGE_KERNEL: the
    /// next direct-map write to it faults.
    public var poisonedBy: Int?
}

/// A bpf_prog_pack chunk: a 64-byte-unit slice of a pack area, or a whole
/// dedicated area when the program is larger than a pack.
public struct Chunk: Hashable, Sendable {
    public var id: Int
    public var name: String
    /// The pack (or dedicated) area holding it.
    public var area: Int
    public var unit: Int
    public var units: Int
    public var size: Int
    public var live: Bool
    /// Occupies its own area (size > pack size).
    public var dedicated: Bool
    public var allocStep: Int
    public var persistent: Bool
    public var label: String { "chunk #\(id) \(name)" }
}

/// A page array the caller allocated with `alloc_pages` and may pass to
/// `vmap`, `vm_map_ram` or `vm_area_map_pages`.
public struct PageSet: Hashable, Sendable {
    public var id: Int
    public var name: String
    public var pfns: [Int32]
    public var live: Bool
    public var allocStep: Int
    /// Ownership moved into a VM_MAP_PUT_PAGES vmap area.
    public var transferred: Bool
}
