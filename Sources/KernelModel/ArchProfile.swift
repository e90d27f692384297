import Foundation

/// A half-open kernel virtual address range `[start, end)`.
public struct AddrRange: Hashable, Sendable, CustomStringConvertible {
    public var start: UInt64
    public var end: UInt64
    public init(_ start: UInt64, _ end: UInt64) { self.start = start; self.end = end }
    @inline(__always) public func contains(_ a: UInt64) -> Bool { a >= start && a < end }
    /// Whether `[a, a+len)` lies entirely inside.
    @inline(__always) public func contains(_ a: UInt64, length: UInt64) -> Bool {
        a >= start && a <= end && length <= end - a
    }
    public var description: String { "[0x\(String(start, radix: 16)), 0x\(String(end, radix: 16)))" }
}

/// `enum execmem_type` (6.12, include/linux/execmem.h). FTRACE uses the
/// DEFAULT range on every arch the model knows.
public enum ExecmemType: String, CaseIterable, Hashable, Sendable, Codable {
    case moduleText = "MODULE_TEXT"
    case kprobes = "KPROBES"
    case ftrace = "FTRACE"
    case bpf = "BPF"
    case moduleData = "MODULE_DATA"

    public init?(name: String) {
        let n = name.uppercased().replacingOccurrences(of: "EXECMEM_", with: "")
        if n == "DEFAULT" { self = .moduleText; return }
        self.init(rawValue: n)
    }
}

/// One entry of `execmem_info->ranges[]`: where a type lives and with which
/// pgprot. `fallback` is `fallback_start/_end`.
public struct ExecmemRange: Hashable, Sendable {
    public var range: AddrRange
    public var fallback: AddrRange?
    public var pgprot: Perm
    public var align: Int
    /// EXECMEM_KASAN_SHADOW: adds VM_DEFER_KMEMLEAK under KASAN.
    public var kasanShadow: Bool
}

/// The `__vmalloc_node_range` arguments a 6.1 `module_alloc` uses.
public struct ModuleAllocSpec: Hashable, Sendable {
    public var range: AddrRange
    public var fallback: AddrRange?
    public var pgprot: Perm
    public var flags: VMFlags
    public var fallbackFlags: VMFlags
}

/// How `set_memory_*` treats the direct-map alias of the pages it changes
/// (MODEL_SPEC §1.6).
public struct AliasPolicy: Hashable, Sendable {
    /// `set_memory_ro/rw` change the alias's W bit too.
    public var copiesWrite: Bool
    /// `set_memory_x/nx` change the alias's X bit too (riscv).
    public var copiesExec: Bool
    /// Only a VM_ALLOC area covering the whole range is accepted (arm64);
    /// otherwise -EINVAL and nothing changes.
    public var requiresAllocArea: Bool
    /// Copying applies only to VM_ALLOC areas (s390 6.12).
    public var copiesOnlyForAllocAreas: Bool
    /// `set_memory_*` on a huge-mapped vmalloc area fails (-EINVAL / WARN).
    public var refusesHuge: Bool
}

/// Everything arch- and version-specific about addresses and allocators.
///
/// Values are illustrative 4-level / 48-bit layouts (MODEL_SPEC §1.2): the
/// model needs them to be consistent, not to match a particular boot. KASLR
/// offsets are taken as zero so that runs are reproducible.
public struct ArchProfile: Hashable, Sendable {
    public var vmalloc: AddrRange
    /// MODULES_VADDR..MODULES_END; equal to `vmalloc` where there is no
    /// separate module area (ppc64, generic).
    public var modules: AddrRange
    public var kernelText: AddrRange
    public var directMapBase: UInt64
    /// riscv64's BPF JIT region `[MODULES_END - 128 MiB, MODULES_END)`.
    public var bpfRegion: AddrRange?
    /// Where `kmalloc`/`kvmalloc` buffers come from (in the direct map).
    public var heap: AddrRange
    public var moduleAlloc: ModuleAllocSpec
    public var execmem: [ExecmemType: ExecmemRange]
    public var alias: AliasPolicy

    public init(_ c: ModelConfig) {
        let M = Size.mib, G = Size.gib
        let exec: Perm = c.strictModuleRWX ? .kernel : .kernelExec
        let flushDefer: VMFlags = [.flushResetPerms, .deferKmemleak]
        switch c.arch {
        case .x86_64:
            let vs: UInt64 = 0xffffc90000000000
            vmalloc = AddrRange(vs, vs + 32 * 1024 * G)
            let ms: UInt64 = c.kaslr ? 0xffffffffc0000000 : 0xffffffffa0000000
            modules = AddrRange(ms, 0xffffffffff000000)
            kernelText = AddrRange(0xffffffff81000000, 0xffffffff81000000 + 32 * M)
            directMapBase = 0xffff888000000000
            bpfRegion = nil
            moduleAlloc = ModuleAllocSpec(range: modules, fallback: nil, pgprot: .kernel, flags: flushDefer, fallbackFlags: [])
            let d = ExecmemRange(range: modules, fallback: nil, pgprot: .kernel, align: Size.page, kasanShadow: true)
            execmem = [.moduleText: d]
            alias = AliasPolicy(copiesWrite: true, copiesExec: false, requiresAllocArea: false, copiesOnlyForAllocAreas: false, refusesHuge: false)
        case .arm64:
            let ms: UInt64 = 0xffff800000000000
            let len = c.generation == .v6_1 ? 128 * M : 2 * G
            modules = AddrRange(ms, ms + len)
            let kt = modules.end
            kernelText = AddrRange(kt, kt + 32 * M)
            // The image sits at the start of the vmalloc area (vm_area_add_early reserves it).
            vmalloc = AddrRange(kernelText.end, 0xfffffbfff0000000)
            directMapBase = 0xffff000000000000
            bpfRegion = nil
            // The 128 MiB window that contains the image, minus the image.
            let primary = AddrRange(kernelText.end - 128 * M, kernelText.start)
            if c.generation == .v6_1 {
                // 6.1 MODULE_PLTS fallback: [base, base + 2 GiB), i.e. past the image.
                let fb = AddrRange(kernelText.end, kernelText.end - 128 * M + 2 * G)
                moduleAlloc = ModuleAllocSpec(range: primary, fallback: fb, pgprot: .kernel, flags: [.deferKmemleak], fallbackFlags: [])
            } else {
                moduleAlloc = ModuleAllocSpec(range: primary, fallback: nil, pgprot: .kernel, flags: [.deferKmemleak], fallbackFlags: [])
            }
            let fb = AddrRange(max(modules.start, kernelText.end - 2 * G), kernelText.start)
            execmem = [
                .moduleText: ExecmemRange(range: primary, fallback: fb, pgprot: .kernel, align: 1, kasanShadow: true),
                .kprobes: ExecmemRange(range: vmalloc, fallback: nil, pgprot: .kernelROX, align: 1, kasanShadow: false),
                .bpf: ExecmemRange(range: vmalloc, fallback: nil, pgprot: .kernel, align: 1, kasanShadow: false),
            ]
            alias = AliasPolicy(copiesWrite: c.rodataFull, copiesExec: false, requiresAllocArea: true, copiesOnlyForAllocAreas: false, refusesHuge: true)
        case .riscv64:
            vmalloc = AddrRange(0xffffffc600000000, 0xffffffd600000000)
            directMapBase = 0xffffffd600000000
            kernelText = AddrRange(0xffffffff80000000, 0xffffffff80000000 + 32 * M)
            modules = AddrRange(kernelText.end - 2 * G, kernelText.start)
            let bpf = AddrRange(modules.end - 128 * M, modules.end)
            bpfRegion = bpf
            moduleAlloc = ModuleAllocSpec(range: modules, fallback: nil, pgprot: .kernel, flags: [.flushResetPerms], fallbackFlags: [])
            execmem = [
                .moduleText: ExecmemRange(range: modules, fallback: nil, pgprot: .kernel, align: 1, kasanShadow: false),
                .kprobes: ExecmemRange(range: vmalloc, fallback: nil, pgprot: .kernelROX, align: 1, kasanShadow: false),
                .bpf: ExecmemRange(range: bpf, fallback: nil, pgprot: .kernel, align: Size.page, kasanShadow: false),
            ]
            alias = AliasPolicy(copiesWrite: true, copiesExec: true, requiresAllocArea: false, copiesOnlyForAllocAreas: false, refusesHuge: true)
        case .ppc64:
            vmalloc = AddrRange(0xc008000000000000, 0xc009000000000000)
            modules = vmalloc
            kernelText = AddrRange(0xc000000000000000, 0xc000000000000000 + 32 * M)
            directMapBase = 0xc000000000000000
            bpfRegion = nil
            moduleAlloc = ModuleAllocSpec(range: vmalloc, fallback: nil, pgprot: exec, flags: [.flushResetPerms], fallbackFlags: [])
            execmem = [
                .moduleText: ExecmemRange(range: vmalloc, fallback: nil, pgprot: exec, align: 1, kasanShadow: false),
                .kprobes: ExecmemRange(range: vmalloc, fallback: nil, pgprot: c.strictModuleRWX ? .kernelROX : .kernelExec, align: 1, kasanShadow: false),
                .moduleData: ExecmemRange(range: vmalloc, fallback: nil, pgprot: .kernel, align: 1, kasanShadow: false),
            ]
            alias = AliasPolicy(copiesWrite: false, copiesExec: false, requiresAllocArea: false, copiesOnlyForAllocAreas: false, refusesHuge: true)
        case .s390:
            kernelText = AddrRange(0x000003ff80000000, 0x000003ff80000000 + 32 * M)
            modules = AddrRange(kernelText.start - 2 * G, kernelText.start)
            vmalloc = AddrRange(modules.start - 1024 * G, modules.start)
            directMapBase = 0x0000000100000000
            bpfRegion = nil
            moduleAlloc = ModuleAllocSpec(range: modules, fallback: nil, pgprot: .kernelExec, flags: [.deferKmemleak], fallbackFlags: [])
            execmem = [.moduleText: ExecmemRange(range: modules, fallback: nil, pgprot: .kernel, align: Size.page, kasanShadow: true)]
            alias = AliasPolicy(copiesWrite: c.generation == .v6_12, copiesExec: false, requiresAllocArea: false, copiesOnlyForAllocAreas: true, refusesHuge: false)
        case .generic:
            vmalloc = AddrRange(0xf000000000000000, 0xf000010000000000)
            modules = vmalloc
            kernelText = AddrRange(0xffffffff80000000, 0xffffffff80000000 + 32 * M)
            directMapBase = 0xe000000000000000
            bpfRegion = nil
            moduleAlloc = ModuleAllocSpec(range: vmalloc, fallback: nil, pgprot: .kernelExec, flags: [.flushResetPerms], fallbackFlags: [])
            execmem = [
                .moduleText: ExecmemRange(range: vmalloc, fallback: nil, pgprot: .kernelExec, align: 1, kasanShadow: false),
                .moduleData: ExecmemRange(range: vmalloc, fallback: nil, pgprot: .kernel, align: 1, kasanShadow: false),
            ]
            alias = AliasPolicy(copiesWrite: false, copiesExec: false, requiresAllocArea: false, copiesOnlyForAllocAreas: false, refusesHuge: false)
        }
        heap = AddrRange(directMapBase + 0x8_0000_0000, directMapBase + 0x9_0000_0000)
        // execmem_init_missing: unset types copy DEFAULT; MODULE_DATA gets PAGE_KERNEL.
        let d = execmem[.moduleText]!
        for t in ExecmemType.allCases where execmem[t] == nil {
            var r = d
            if t == .moduleData { r.pgprot = .kernel }
            execmem[t] = r
        }
    }

    /// Where a direct-map (linear map) alias of `pfn` lives.
    @inline(__always) public func directMapAddress(pfn: Int) -> UInt64 {
        directMapBase + 0x1_0000_0000 + UInt64(pfn) * UInt64(Size.page)
    }

    /// The inverse of `directMapAddress`, if `a` is a page-frame alias address.
    @inline(__always) public func pfn(ofDirectMap a: UInt64) -> Int? {
        let base = directMapBase + 0x1_0000_0000
        guard a >= base, a < base + 0x4_0000_0000 else { return nil }
        return Int((a - base) / UInt64(Size.page))
    }
}
