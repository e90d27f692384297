import Foundation
import KPolicyFiles
import PatchInput
import KPolicyCache

/// Finds, on raw bytes and without parsing, whether a file mentions any of a
/// set of identifiers as a whole word. One pass per file: each identifier in
/// the text is hashed in place and looked up.
public struct Prefilter: Sendable {
    let hashes: Set<UInt64>
    let words: Set<[UInt8]>
    let minLength: Int
    let maxLength: Int
    /// Identifies the trigger set (the cache keeps verdicts per digest).
    public let digest: String

    public init(identifiers: Set<String>) {
        digest = ContentHash.of(identifiers.sorted().joined(separator: "\n"))
        let bytes = identifiers.map { Array($0.utf8) }
        words = Set(bytes)
        hashes = Set(bytes.map { Prefilter.hash($0[...]) })
        minLength = bytes.map(\.count).min() ?? 1
        maxLength = bytes.map(\.count).max() ?? 0
    }

    static func hash(_ s: ArraySlice<UInt8>) -> UInt64 {
        var h: UInt64 = 0xcbf29ce484222325
        for b in s { h = (h ^ UInt64(b)) &* 0x100000001b3 }
        return h
    }


    /// The trigger identifiers `data` contains.
    public func matches(in data: Data) -> Set<String> {
        var found: Set<String> = []
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let p = raw.bindMemory(to: UInt8.self)
            let n = p.count
            var i = 0
            while i < n {
                let b = p[i]
                guard SourceText.isIdentifierByte(b) else { i += 1; continue }
                let start = i
                var h: UInt64 = 0xcbf29ce484222325
                while i < n, SourceText.isIdentifierByte(p[i]) {
                    h = (h ^ UInt64(p[i])) &* 0x100000001b3
                    i += 1
                }
                let length = i - start
                if length >= minLength, length <= maxLength, hashes.contains(h), !(b >= 0x30 && b <= 0x39) {
                    let word = Array(p[start..<i])
                    if words.contains(word) { found.insert(String(decoding: word, as: UTF8.self)) }
                }
            }
        }
        return found
    }

    public func mentionsAny(_ data: Data) -> Bool { !matches(in: data).isEmpty }
}
