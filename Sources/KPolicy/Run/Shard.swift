import Foundation
import KPolicyFiles
import PatchInput

/// One part of a run split over N machines (`--shard K/N`). A file belongs
/// to shard `FNV-1a(relative path) mod N + 1`: the same on every machine and
/// whatever order the files are listed in, so a CI matrix of N jobs covers
/// every file exactly once. Sharding happens before the prefilter, so the
/// shards' `filesScanned`, `candidates` and `filesParsed` add up to a single
/// run's.
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    /// 1-based.
    public var index: Int
    public var count: Int

    public init(index: Int, count: Int) throws {
        guard count >= 1, index >= 1, index <= count else {
            throw KPolicyError.badInput(path: "--shard", reason: "\(index)/\(count) is not a shard: K/N needs 1 <= K <= N")
        }
        self.index = index
        self.count = count
    }

    /// "K/N".
    public init(parsing text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]) else {
            throw KPolicyError.badInput(path: "--shard", reason: "'\(text)' is not K/N (for example 2/4)")
        }
        try self.init(index: k, count: n)
    }

    public var description: String { "\(index)/\(count)" }

    /// The shard (1-based) `relativePath` belongs to among `count`.
    public static func of(_ relativePath: String, count: Int) -> Int {
        Int(FNV1a.hash(relativePath) % UInt64(max(1, count))) + 1
    }

    public func contains(_ relativePath: String) -> Bool { Shard.of(relativePath, count: count) == index }
}
