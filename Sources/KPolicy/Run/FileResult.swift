import Foundation
import KPolicyFiles
import PatchInput
import Analysis
import Findings

/// One file to analyse: its path relative to the tree root.
public struct AnalysisTarget: Sendable, Hashable, Codable {
    public var path: String
    public init(path: String) { self.path = path }
}

/// Files whose text is not the tree's: a patch's result, a git index blob.
/// Relative path → text. Every parse of a run sees them instead of the disk
/// (a patched header included by a patched .c file too); the tree itself
/// is never written.
public struct SourceOverlay: Sendable, Equatable {
    public var files: [String: String]
    public init(files: [String: String] = [:]) { self.files = files }
}

/// A function definition's lines, to tell which functions a change touches.
public struct FunctionSpan: Sendable, Codable, Equatable {
    public var name: String
    public var startLine: Int
    public var endLine: Int
}

/// What analysing one file gave. This is the seam of a run: the run merges
/// these, a cache stores them, a shard produces a subset of them.
public struct FileResult: Sendable, Codable, Equatable {
    public enum Outcome: Sendable, Codable, Equatable {
        /// Parsed and checked. `firstError` is the first error diagnostic
        /// inside the file itself ("line:col: message"): facts may be
        /// incomplete there.
        case checked(findings: [Finding], firstError: String?, functions: [FunctionSpan])
        /// Not checked, for a reason that is the file's (or libclang's).
        case failed(FailureReason)
        /// Of an arch the installed libclang cannot target at all.
        case unsupported(reason: String)
    }

    public var file: String
    public var outcome: Outcome
    /// Functions of a checked file the path check did not run on: their IR
    /// went over `IRBuilder.defaultMaxWork` ("name:line: why"). Absent when none.
    public var uncheckedFunctions: [String]?
    /// The names the file calls and defines, and what the tree's
    /// `TreeFunctions` said of them (`footprint`) when it was checked: a
    /// cached result is valid only while that is unchanged. Absent when no
    /// path rule read it.
    public var treeNames: [String]?
    public var treeFootprint: String?

    public init(file: String, outcome: Outcome, uncheckedFunctions: [String]? = nil) {
        self.file = file
        self.outcome = outcome
        self.uncheckedFunctions = uncheckedFunctions
    }

    /// The function definitions of the file itself (empty unless checked).
    public var functions: [FunctionSpan] {
        if case .checked(_, _, let functions) = outcome { return functions }
        return []
    }

    public var findings: [Finding] {
        if case .checked(let findings, _, _) = outcome { return findings }
        return []
    }
}

