import Foundation
import KernelModel

/// A scenario: a configuration, a sequence of steps and the expected outcome.
/// Loaded from Corpus/model/*.yaml (format in docs/model.md).
public struct Scenario: Sendable {
    public var name: String
    public var summary: String
    public var source: String
    public var file: String
    public var arches: [Arch]
    /// The kernel series the scenario runs in (`6.1`, `6.12`, `7.3`...),
    /// each with what the catalogue predicts its tree has
    /// (`TreeCapabilities.expected(for:)`).
    public var kernels: [KernelVersion]
    public var wxMode: WXMode
    public var strictModuleRWX: Bool?
    public var rodataFull: Bool
    public var kasan: Bool
    public var kaslr: Bool
    public var numNodes: Int
    public var steps: [ScenarioStep]
    /// nil when the file gives no `expect`; `[]` means `safe`.
    public var expectations: [Expectation]?

    public func config(arch: Arch, kernel: KernelVersion) -> ModelConfig {
        let tree = TreeCapabilities.expected(for: kernel)
        return ModelConfig(arch: arch, generation: tree.generation, capabilities: tree, wxMode: wxMode, strictModuleRWX: strictModuleRWX,
                           rodataFull: rodataFull, kaslr: kaslr, kasan: kasan, numNodes: numNodes)
    }

    /// The series a scenario runs in when it names none.
    public static let defaultKernels = KernelGeneration.allCases.map(\.version)

    /// `6.1`, `6.1.192`, `6.12`, `7.3`... as the series it stands for; nil
    /// for anything that is not a kernel version the model has a world for.
    public static func kernel(parsing text: String) -> KernelVersion? {
        guard KernelGeneration(parsing: text) != nil, let v = KernelVersion(string: text) else { return nil }
        return KernelVersion(v.version, v.patchlevel)
    }
}

public struct ScenarioStep: Sendable {
    public var call: APICall
    public var label: String?
    public var line: Int
}

/// Where an expected violation happens.
public enum StepRef: Hashable, Sendable, CustomStringConvertible {
    case index(Int)
    case end
    case any
    public var description: String {
        switch self {
        case .index(let i): return "step \(i)"
        case .end: return "end"
        case .any: return "any step"
        }
    }
}

/// One violation a scenario expects, optionally only on some arches or trees.
public struct Expectation: Hashable, Sendable, CustomStringConvertible {
    public var invariant: Invariant
    public var at: StepRef
    public var severity: Severity?
    public var arches: Set<Arch>?
    /// Kernel series (`6.12`, `7.3`).
    public var kernels: Set<String>?
    public var line: Int

    public func applies(to c: ModelConfig) -> Bool {
        (arches?.contains(c.arch) ?? true) && (kernels?.contains(c.capabilities.version.series) ?? true)
    }

    public func matches(_ v: Violation) -> Bool {
        guard v.invariant == invariant else { return false }
        if let severity, v.severity != severity { return false }
        switch at {
        case .any: return true
        case .end: return v.stepIndex == 0
        case .index(let i): return v.stepIndex == i
        }
    }

    public var description: String {
        "\(invariant.id)\(severity.map { " [\($0.rawValue)]" } ?? "") at \(at)"
    }
}

/// A scenario file that cannot be used: names the file, line, column and field.
public struct ScenarioError: Error, CustomStringConvertible, Sendable {
    public var file: String
    public var line: Int
    public var column: Int
    public var field: String
    public var message: String
    public var description: String {
        "\(file):\(line):\(column): \(field.isEmpty ? "" : "field '\(field)': ")\(message)"
    }
}
