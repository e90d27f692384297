import CClang

/// A libclang index. One index belongs to one thread at a time: give each
/// worker its own, then translation units can be parsed in parallel.
public final class ClangIndex: @unchecked Sendable {
    let raw: CXIndex

    /// - Parameter displayDiagnostics: let libclang print diagnostics to
    ///   stderr itself (off: callers read them through `TranslationUnit`).
    public init(displayDiagnostics: Bool = false) throws {
        guard let index = clang_createIndex(0, displayDiagnostics ? 1 : 0) else {
            throw ClangError.indexUnavailable
        }
        raw = index
    }

    deinit { clang_disposeIndex(raw) }
}
