import Foundation
import KernelModel
import KPolicyFiles
import PatchInput
import Analysis
import Findings

/// The result of a run over a tree: every file's result merged, in the
/// shape of the `kpolicy-report/1` JSON (docs/report-format.md), which is
/// this type's Codable form.
public struct CheckReport: Sendable, Codable, Equatable {
    public struct Stats: Sendable, Codable, Equatable {
        public var filesScanned = 0
        public var candidates = 0
        public var filesParsed = 0
        public var parseFailures = 0
        public var unsupported = 0
        /// Parsed files with error diagnostics inside the file itself (their
        /// facts may be incomplete).
        public var filesWithErrors = 0
        /// Findings hidden by inline comments or the baseline.
        public var suppressed = 0
        /// Functions the path check did not run on (`uncheckedFunctions`);
        /// absent when none.
        public var functionsUnchecked: Int?
        /// Candidates whose result came from the result cache (absent when
        /// the run used no cache).
        public var fromCache: Int?
        public var seconds = 0.0
        /// CPU seconds per stage over the files parsed in this run (absent
        /// unless `KPOLICY_STAGE_TIMES=1`).
        public var stages: StageTimes?
        public init() {}
    }
    public struct Tool: Sendable, Codable, Equatable {
        public var name = "kpolicy"
        public var version: String
    }
    public struct Tree: Sendable, Codable, Equatable {
        public var path: String
        public var kernelVersion: KernelVersion

        enum CodingKeys: String, CodingKey { case path, kernelVersion }
        public init(path: String, kernelVersion: KernelVersion) {
            self.path = path
            self.kernelVersion = kernelVersion
        }
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            path = try c.decode(String.self, forKey: .path)
            let text = try c.decode(String.self, forKey: .kernelVersion)
            guard let v = KernelVersion(string: text) else {
                throw DecodingError.dataCorruptedError(forKey: .kernelVersion, in: c, debugDescription: "not a kernel version: \(text)")
            }
            kernelVersion = v
        }
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(path, forKey: .path)
            try c.encode(kernelVersion.description, forKey: .kernelVersion)
        }
    }
    /// A file with why: a parse failure, an unsupported arch, the first
    /// error inside a file.
    public struct FileNote: Sendable, Codable, Equatable {
        public var file: String
        public var reason: String
        public init(file: String, reason: String) {
            self.file = file
            self.reason = reason
        }
    }
    /// A hunk that did not apply.
    public struct ApplyFailure: Sendable, Codable, Equatable {
        public var patch: PatchOrigin
        public var file: String
        public var reason: String
        public init(patch: PatchOrigin, file: String, reason: String) {
            self.patch = patch
            self.file = file
            self.reason = reason
        }
    }
    /// An inline suppression that hid nothing (listed with --verbose).
    public struct UnusedSuppression: Sendable, Codable, Equatable {
        public var file: String
        public var line: Int
        public var rule: String
        public init(file: String, line: Int, rule: String) {
            self.file = file
            self.line = line
            self.rule = rule
        }
    }

    public var schema = "kpolicy-report/1"
    public var tool: Tool
    public var tree: Tree
    /// Findings to report, sorted by place; suppressed ones are in `suppressed`.
    public var findings: [Finding]
    /// Findings hidden by an inline comment or a baseline entry, each with why.
    public var suppressed: [Finding] = []
    /// Files libclang gave no translation unit for, or that could not be read.
    public var parseFailures: [FileNote]
    /// Files of an arch the installed libclang cannot target, not parsed.
    public var unsupported: [FileNote]
    /// Parsed files with errors inside them, with the first error.
    public var filesWithErrors: [FileNote]
    /// Functions the path rules did not check because their control-flow
    /// IR went over its bound (`IRBuilder.defaultMaxWork`): file, and "function:line:
    /// why". Absent when none.
    public var uncheckedFunctions: [FileNote]?
    public var unusedSuppressions: [UnusedSuppression] = []
    /// Baseline entries that matched no finding (listed with --verbose).
    public var unmatchedBaselineEntries: [BaselineEntry] = []
    /// Patch mode: the patches checked, in order.
    public var patches: [PatchOrigin]?
    /// Patch mode: files a patch could not be applied to (its later patches
    /// touching the file are skipped; other files go on).
    public var applyFailures: [ApplyFailure]?
    /// What the run could not check and says once (a plain diff has no
    /// recipients to check against MAINTAINERS).
    public var notices: [String]?
    /// `--shard K/N`: which part of a split check this report is ("K/N");
    /// absent for a whole check and for a merge. `kpolicy merge` refuses a
    /// set of shards with one missing or given twice.
    public var shard: String?
    public var stats: Stats

    public init(tree: Tree, toolVersion: String, findings: [Finding], parseFailures: [FileNote] = [],
                unsupported: [FileNote] = [], filesWithErrors: [FileNote] = [], stats: Stats) {
        self.tool = Tool(version: toolVersion)
        self.tree = tree
        self.findings = findings
        self.parseFailures = parseFailures
        self.unsupported = unsupported
        self.filesWithErrors = filesWithErrors
        self.stats = stats
    }

    /// Every finding, shown or suppressed, sorted by place.
    public var allFindings: [Finding] {
        (findings + suppressed).sorted { ($0.position, $0.rule) < ($1.position, $1.rule) }
    }

    /// Findings at or above `threshold` (none for `nil`, i.e. `--fail-on never`).
    public func findings(atLeast threshold: Finding.Severity?) -> [Finding] {
        guard let threshold else { return [] }
        return findings.filter { $0.severity >= threshold }
    }

    /// The report as one JSON document (sorted keys, pretty).
    public func encodedJSON() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self) + "\n"
    }
}
