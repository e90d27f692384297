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
    public var generations: [KernelGeneration]
    public var wxMode: WXMode
    public var strictModuleRWX: Bool?
    public var rodataFull: Bool
    public var kasan: Bool
    public var kaslr: Bool
    public var numNodes: Int
    public var steps: [ScenarioStep]
    /// nil when the file gives no `expect`; `[]` means `safe`.
    public var expectations: [Expectation]?

    public func config(arch: Arch, generation: KernelGeneration) -> ModelConfig {
        ModelConfig(arch: arch, generation: generation, wxMode: wxMode, strictModuleRWX: strictModuleRWX,
                    rodataFull: rodataFull, kaslr: kaslr, kasan: kasan, numNodes: numNodes)
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
    public var generations: Set<KernelGeneration>?
    public var line: Int

    public func applies(to c: ModelConfig) -> Bool {
        (arches?.contains(c.arch) ?? true) && (generations?.contains(c.generation) ?? true)
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
