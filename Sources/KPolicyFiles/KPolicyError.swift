import Foundation

/// Errors the library reports to its callers. Each maps to one line on
/// stderr and one of the documented exit codes (docs/exit-codes.md).
public enum KPolicyError: Error, CustomStringConvertible, Equatable {
    /// The directory is not the top of a Linux kernel source tree.
    case notAKernelTree(path: String, reason: String)
    /// A file named on the command line does not exist.
    case missingFile(path: String)
    /// A file exists but cannot be read.
    case unreadableFile(path: String, reason: String)
    /// The file is not inside the tree it is checked against.
    case outsideTree(path: String, tree: String)
    /// compile_commands.json is present but not valid.
    case badCompileCommands(path: String, reason: String)
    /// A data file shipped with or given to kpolicy is malformed.
    case badInput(path: String, reason: String)
    /// libclang produced no translation unit at all for the file.
    case parseFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case .notAKernelTree(let p, let why): return "\(p) is not a Linux kernel source tree (\(why))"
        case .missingFile(let p): return "\(p): no such file"
        case .unreadableFile(let p, let why): return "\(p): cannot be read (\(why))"
        case .outsideTree(let p, let t): return "\(p) is not inside the tree \(t)"
        case .badCompileCommands(let p, let why): return "\(p): \(why)"
        case .badInput(let p, let why): return "\(p): \(why)"
        case .parseFailed(let p, let why): return "\(p): \(why)"
        }
    }

    /// Whether the failure is libclang's rather than the input's.
    public var isParseFailure: Bool {
        if case .parseFailed = self { return true }
        return false
    }
}
