import CClang
import Foundation

/// A libclang index. One index belongs to one thread at a time: give each
/// worker its own, then translation units can be parsed in parallel.
public final class ClangIndex: @unchecked Sendable {
    let raw: CXIndex

    /// - Parameters:
    ///   - displayDiagnostics: let libclang print diagnostics to stderr
    ///     itself (off: callers read them through `TranslationUnit`).
    ///   - excludeDeclarationsFromPCH: a visit of the top level of a unit
    ///     parsed with `-include-pch` sees only what the unit itself
    ///     parsed (declarations and preprocessing entities), not what it
    ///     read from the precompiled header; reading those back from the
    ///     PCH costs more than parsing the file.
    public init(displayDiagnostics: Bool = false, excludeDeclarationsFromPCH: Bool = false) throws {
        _ = ClangIndex.parseOnCallingThread
        guard let index = clang_createIndex(excludeDeclarationsFromPCH ? 1 : 0, displayDiagnostics ? 1 : 0) else {
            throw ClangError.indexUnavailable
        }
        raw = index
    }

    deinit { clang_disposeIndex(raw) }

    /// libclang parses on a thread of its own with a fixed 8 MiB stack,
    /// which deeply nested C overflows (the process dies with SIGSEGV).
    /// `LIBCLANG_NOTHREADS` makes it parse on the calling thread, which
    /// kpolicy gives a large stack (`LargeStack`). Set once, before the first
    /// index exists, and kept if the user set it.
    static let parseOnCallingThread: Void = { setenv("LIBCLANG_NOTHREADS", "1", 0) }()
}
