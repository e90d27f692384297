/// The architectures the model distinguishes. `generic` stands for an arch
/// that overrides nothing: the weak `module_alloc`, `__execmem_init`, and no
/// ARCH_HAS_SET_MEMORY.
public enum Arch: String, CaseIterable, Hashable, Sendable, Codable {
    case x86_64, arm64, riscv64, ppc64, s390, generic

    /// The model arch of a kernel arch directory (`arch/x86` → x86_64);
    /// every arch without a profile of its own is `generic`.
    public init(kernelArch: String) {
        self = Arch.allCases.first { $0.kernelArch == kernelArch } ?? .generic
    }

    /// The directory under arch/ this model arch stands for (nil: generic).
    public var kernelArch: String? {
        switch self {
        case .x86_64: return "x86"
        case .arm64: return "arm64"
        case .riscv64: return "riscv"
        case .ppc64: return "powerpc"
        case .s390: return "s390"
        case .generic: return nil
        }
    }

    /// The arches a file is checked on: its own under arch/<a>/, else every
    /// arch with a model profile.
    public static func checked(forPath path: String) -> [Arch] {
        let parts = path.split(separator: "/")
        if parts.count > 1, parts[0] == "arch" { return [Arch(kernelArch: String(parts[1]))] }
        return allCases.filter { $0 != .generic }
    }

    /// The calls that copy generated code into read-only text on this arch,
    /// preferred first; a tree has those it declares
    /// (`TreeCapabilities.codeWriter(on:)`).
    var codeWriters: [TextPatchAPI] {
        switch self {
        case .x86_64: return [.textPokeCopy]
        case .arm64: return [.aarch64InsnCopy]
        case .riscv64: return [.patchTextNosync]
        case .ppc64: return [.patchInstructions]
        case .s390: return [.s390KernelWrite]
        case .generic: return []
        }
    }
}

/// Which kernel world the model runs in. The 6.1 tree is the `module_alloc`
/// world; the 6.12 tree has `execmem_*` (introduced in v6.10).
public enum KernelGeneration: String, CaseIterable, Hashable, Sendable, Codable, Comparable {
    case v6_1 = "6.1"
    case v6_12 = "6.12"

    public static func < (a: Self, b: Self) -> Bool { a == .v6_1 && b == .v6_12 }

    /// The world of a tree of `version`, when there is no tree to read:
    /// execmem from the version the catalogue gives `execmem_alloc()`.
    public init(version: KernelVersion) {
        self = TreeCapabilities.expected(for: version).generation
    }

    /// Accepts `6.1`, `6.1.192`, `6.12`, `7.3`... (`init(version:)`).
    public init?(parsing text: String) {
        guard let v = KernelVersion(string: text), v.version >= 2 else { return nil }
        self.init(version: v)
    }

    /// The tree this world was written from.
    public var version: KernelVersion { self == .v6_1 ? KernelVersion(6, 1) : KernelVersion(6, 12) }
}

/// How strictly W+X mappings are judged (MODEL_SPEC §0).
public enum WXMode: String, CaseIterable, Hashable, Sendable, Codable {
    /// Any W+X mapping is an error.
    case strict
    /// W+X that comes straight from an allocation pgprot is advisory (the
    /// kernel itself does this until do_free_init); W+X created by
    /// `set_memory_*`, or still present at a CONFIG_DEBUG_WX checkpoint, is an
    /// error.
    case kernel
}

/// The configuration a scenario or checker runs under.
public struct ModelConfig: Hashable, Sendable {
    public var arch: Arch
    public var generation: KernelGeneration
    public var wxMode: WXMode
    /// CONFIG_STRICT_MODULE_RWX with rodata enabled. Without it the module
    /// loader leaves text RWX, which the model reports as advisory.
    public var strictModuleRWX: Bool
    /// arm64 `rodata_full`: whether `set_memory_ro/rw` also change the linear
    /// (direct-map) alias.
    public var rodataFull: Bool
    public var kaslr: Bool
    public var kasan: Bool
    public var numNodes: Int
    /// What the tree offers (APIs, bpf_arch_text_copy, the ROX cache).
    public var capabilities: TreeCapabilities
    /// Whether the next fallible call (set_memory_*, bpf_arch_text_copy,
    /// allocations) should fail; consumed by that call.
    public var injectFailures: Bool

    /// `capabilities`: the tree's; the prediction for `generation`'s tree
    /// when nil.
    public init(arch: Arch, generation: KernelGeneration, capabilities: TreeCapabilities? = nil, wxMode: WXMode = .kernel,
                strictModuleRWX: Bool? = nil, rodataFull: Bool = true, kaslr: Bool = true,
                kasan: Bool = false, numNodes: Int = 1) {
        self.arch = arch
        self.generation = generation
        self.capabilities = capabilities ?? .expected(for: generation)
        self.wxMode = wxMode
        // An arch without ARCH_HAS_SET_MEMORY cannot select STRICT_MODULE_RWX.
        self.strictModuleRWX = strictModuleRWX ?? (arch != .generic)
        self.rodataFull = rodataFull
        self.kaslr = kaslr
        self.kasan = kasan
        self.numNodes = max(1, numNodes)
        self.injectFailures = false
    }

    /// HAVE_ARCH_HUGE_VMALLOC: x86_64, arm64, ppc64 (radix); riscv64 from 6.12.
    public var hugeVmalloc: Bool {
        switch arch {
        case .x86_64, .arm64, .ppc64: return true
        case .riscv64: return generation == .v6_12
        case .s390, .generic: return false
        }
    }

    /// ARCH_HAS_SET_MEMORY. Without it `set_memory_*` are stubs returning 0.
    public var hasSetMemory: Bool { arch != .generic }

    /// A tree's configuration on `arch`: its world and its capabilities.
    public init(arch: Arch, tree capabilities: TreeCapabilities) {
        self.init(arch: arch, generation: capabilities.generation, capabilities: capabilities)
    }

    /// `x86_64/6.12`: the arch and the tree's series.
    public var label: String { "\(arch.rawValue)/\(capabilities.version.series)" }
}

/// What kind of code is running, as `in_interrupt()`, `in_atomic()` and
/// `in_nmi()` would tell.
public enum ExecContext: String, CaseIterable, Hashable, Sendable, Codable {
    /// Process context: may sleep.
    case process
    /// Hard or soft interrupt, including RCU callbacks run from softirq.
    case irq
    /// Atomic but not in interrupt: spinlock held, preemption disabled.
    case atomic
    case nmi
}

/// Who is calling: decides which API layers are reachable (INV-LAYER).
public enum CallerLayer: String, CaseIterable, Hashable, Sendable, Codable {
    /// mm/ itself: may use everything, including mm-internal helpers.
    case mm
    /// Built-in core kernel or arch code: everything except mm internals.
    case core
    /// A loadable module or driver: only exported symbols.
    case module
}

/// The calling context of the next step.
public struct CallContext: Hashable, Sendable {
    public var exec: ExecContext = .process
    public var textMutexHeld = false
    public var caller: CallerLayer = .core
    public init() {}
}
