/// 64-bit FNV-1a of a string's UTF-8 bytes: a stable hash (Swift's
/// `Hasher` is seeded per process) for fingerprints, shards and cache names.
package enum FNV1a {
    package static func hash(_ s: String) -> UInt64 {
        var h: UInt64 = 0xcbf29ce484222325
        for b in s.utf8 {
            h ^= UInt64(b)
            h = h &* 0x100000001b3
        }
        return h
    }
}
