import KernelModel
import PathCheck

/// What rules know about the tree beyond one file.
public struct RuleContext: Sendable {
    public var kernelVersion: KernelVersion
    /// The arch a file is built for (from its path), for model validation.
    public var arch: String
    /// Per internal-exposure rule id, what the tree says is internal.
    public var internalFunctions: [String: DerivedInternals]
    /// What the tree offers (read from it; without a tree, what its
    /// version predicts).
    public var capabilities: TreeCapabilities
    /// Summaries of the functions of other files the file's functions call,
    /// per arch, and the tree's allocator/free pairs whose free it defines.
    public var summaries: ResolvedSummaries?

    public init(kernelVersion: KernelVersion, arch: String = "x86", internalFunctions: [String: DerivedInternals] = [:],
                capabilities: TreeCapabilities? = nil, summaries: ResolvedSummaries? = nil) {
        self.kernelVersion = kernelVersion
        self.arch = arch
        self.internalFunctions = internalFunctions
        self.capabilities = capabilities ?? .expected(for: kernelVersion)
        self.summaries = summaries
    }
}

extension String {
    /// `{name}` placeholders replaced by `values[name]`; unknown ones left as written.
    package func filled(_ values: [String: String]) -> String {
        var out = ""
        var rest = self[...]
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            out += rest[..<open]
            let key = String(rest[rest.index(after: open)..<close])
            out += values[key] ?? "{\(key)}"
            rest = rest[rest.index(after: close)...]
        }
        return out + rest
    }
}

