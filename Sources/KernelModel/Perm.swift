import Foundation

/// Page permissions as the page tables see them.
///
/// Read access is implied by `present`; the model never needs a page that is
/// present but unreadable. Kept as a one-byte option set so that per-page
/// arrays stay small and copying a state stays cheap.
public struct Perm: OptionSet, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let present = Perm(rawValue: 1)
    public static let write = Perm(rawValue: 2)
    public static let exec = Perm(rawValue: 4)

    /// `PAGE_KERNEL`: data, readable and writable, never executable.
    public static let kernel: Perm = [.present, .write]
    /// `PAGE_KERNEL_RO`.
    public static let kernelRO: Perm = [.present]
    /// `PAGE_KERNEL_EXEC`: writable and executable at once (W+X).
    public static let kernelExec: Perm = [.present, .write, .exec]
    /// `PAGE_KERNEL_ROX` (riscv: `PAGE_KERNEL_READ_EXEC`).
    public static let kernelROX: Perm = [.present, .exec]
    /// Not present (`__pgprot(0)`, or a guard/unmapped page).
    public static let notPresent: Perm = []

    public var isPresent: Bool { contains(.present) }
    public var isWritable: Bool { contains(.present) && contains(.write) }
    public var isExecutable: Bool { contains(.present) && contains(.exec) }
    /// The W+X combination CONFIG_DEBUG_WX reports.
    public var isWX: Bool { isWritable && isExecutable }

    /// Compact rendering used in traces: `RW-`, `R-X`, `RWX`, `R--`, `---`.
    public var description: String {
        guard isPresent else { return "---" }
        return "R" + (contains(.write) ? "W" : "-") + (contains(.exec) ? "X" : "-")
    }

    /// The kernel's pgprot names and what each grants: the one table of
    /// them (rules' `pgprots` lists are checked against it).
    public static let pgprots: [String: Perm] = [
        "PAGE_KERNEL": .kernel,
        "PAGE_KERNEL_RO": .kernelRO,
        "PAGE_KERNEL_EXEC": .kernelExec, "PAGE_KERNEL_RWX": .kernelExec, "PAGE_KERNEL_X": .kernelExec,
        "PAGE_KERNEL_EXEC_NOENC": .kernelExec,
        // riscv spells read-only+executable PAGE_KERNEL_READ_EXEC, arm PAGE_KERNEL_RX.
        "PAGE_KERNEL_ROX": .kernelROX, "PAGE_KERNEL_READ_EXEC": .kernelROX, "PAGE_KERNEL_RX": .kernelROX,
        "PAGE_NONE": .notPresent,
    ]

    /// Parses a kernel pgprot name (`PAGE_KERNEL_EXEC`, also without its
    /// `PAGE_` prefix: `KERNEL_ROX`) and the compact `RWX` spelling.
    public init?(pgprot text: String) {
        let t = text.uppercased()
        if let p = Perm.pgprots[t] ?? Perm.pgprots["PAGE_" + t] { self = p; return }
        switch t {
        case "RW-", "RW": self = .kernel
        case "R--", "RO": self = .kernelRO
        case "RWX": self = .kernelExec
        case "R-X", "ROX", "RX": self = .kernelROX
        case "NONE", "NP", "---", "0": self = .notPresent
        default: return nil
        }
    }

    /// The kernel's name for this pgprot.
    public var pgprotName: String {
        switch self {
        case .kernel: return "PAGE_KERNEL"
        case .kernelRO: return "PAGE_KERNEL_RO"
        case .kernelExec: return "PAGE_KERNEL_EXEC"
        case .kernelROX: return "PAGE_KERNEL_ROX"
        default: return isPresent ? description : "__pgprot(0)"
        }
    }
}

/// Sizes the model uses. Page size is fixed at 4 KiB and PMD at 2 MiB, as in
/// MODEL_SPEC §1.1.
public enum Size {
    public static let page = 4096
    public static let pmd = 2 * 1024 * 1024
    public static let pmdOrder = 9
    public static let mib: UInt64 = 1024 * 1024
    public static let gib: UInt64 = 1024 * 1024 * 1024

    /// Number of pages covering `bytes` (`PAGE_ALIGN(bytes) >> PAGE_SHIFT`),
    /// without overflowing near `Int.max`.
    @inline(__always) public static func pages(_ bytes: Int) -> Int { bytes > 0 ? (bytes - 1) / page + 1 : (bytes + page - 1) / page }
}

/// How much the model represents. The model keeps per-page state (a
/// permission and a page frame per 4 KiB page), so it refuses to represent
/// absurd sizes instead of allocating gigabytes of bookkeeping: scenario
/// files with a larger size or count are rejected when loaded, and an
/// `APICall` built in code with a larger size fails like an allocation the
/// kernel cannot satisfy (NULL). docs/model.md, "Limits".
public enum ModelLimits {
    /// Largest size of one call (allocation, write, patch): 1 GiB.
    public static let maxBytes = 1 << 30
    public static let maxBytesText = "1 GiB"
    /// Largest page count of one call: 262144 pages.
    public static let maxPages = maxBytes / Size.page
    /// Pages (virtual and page frames) one `ModelState` holds per-page state
    /// for, over its whole run: 16 Mi pages (64 GiB). Allocations past it
    /// fail with NULL.
    public static let maxStatePages = 1 << 24
}
