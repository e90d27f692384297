import CClang

/// Why libclang could not produce a translation unit.
public enum ClangError: Error, Equatable, CustomStringConvertible {
    /// libclang reported a generic failure (CXError_Failure).
    case failure(path: String)
    /// libclang crashed while parsing (CXError_Crashed).
    case crashed(path: String)
    /// The arguments were rejected (CXError_InvalidArguments).
    case invalidArguments(path: String)
    /// An AST deserialization error (CXError_ASTReadError).
    case astReadError(path: String)
    /// The index could not be created.
    case indexUnavailable
    /// A unit could not be saved (as a precompiled header).
    case saveFailed(path: String, reason: String)

    init(code: CXErrorCode, path: String) {
        switch code {
        case CXError_Crashed: self = .crashed(path: path)
        case CXError_InvalidArguments: self = .invalidArguments(path: path)
        case CXError_ASTReadError: self = .astReadError(path: path)
        default: self = .failure(path: path)
        }
    }

    public var description: String {
        switch self {
        case .failure(let p): return "libclang could not parse \(p)"
        case .crashed(let p): return "libclang crashed while parsing \(p)"
        case .invalidArguments(let p): return "libclang rejected the arguments for \(p)"
        case .astReadError(let p): return "libclang could not read the AST for \(p)"
        case .indexUnavailable: return "libclang could not create an index"
        case .saveFailed(let p, let why): return "libclang could not save \(p): \(why)"
        }
    }
}
