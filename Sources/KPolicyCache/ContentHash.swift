import Foundation
import KPolicyFiles

/// A 128-bit hash of bytes, for cache keys and file identity (not for
/// security: nothing here defends against crafted collisions). Two 64-bit
/// lanes, eight bytes at a time, each mixed with a different multiplier.
public enum ContentHash {
    public static func of(_ data: Data) -> String {
        data.withUnsafeBytes { of(UnsafeRawBufferPointer($0)) }
    }

    public static func of(_ text: String) -> String { of(Data(text.utf8)) }

    public static func of(_ raw: UnsafeRawBufferPointer) -> String {
        var a: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(raw.count)
        var b: UInt64 = 0xC2B2_AE3D_27D4_EB4F &+ UInt64(raw.count)
        let n = raw.count
        var i = 0
        @inline(__always) func mix(_ x: UInt64, _ m: UInt64) -> UInt64 {
            var z = x &* m
            z ^= z >> 29
            return z
        }
        while i + 8 <= n {
            let w = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            a = (a ^ mix(w, 0xBF58_476D_1CE4_E5B9)) &* 0x94D0_49BB_1331_11EB
            a = (a << 27) | (a >> 37)
            b = (b ^ mix(w, 0xFF51_AFD7_ED55_8CCD)) &* 0xC4CE_B9FE_1A85_EC53
            b = (b << 31) | (b >> 33)
            i += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while i < n {
            tail |= UInt64(raw[i]) << shift
            shift += 8
            i += 1
        }
        a = (a ^ mix(tail, 0xBF58_476D_1CE4_E5B9)) &* 0x94D0_49BB_1331_11EB
        b = (b ^ mix(tail, 0xFF51_AFD7_ED55_8CCD)) &* 0xC4CE_B9FE_1A85_EC53
        func finish(_ x: UInt64) -> UInt64 {
            var z = x
            z ^= z >> 33; z = z &* 0xFF51_AFD7_ED55_8CCD
            z ^= z >> 33; z = z &* 0xC4CE_B9FE_1A85_EC53
            z ^= z >> 33
            return z
        }
        return hex(finish(a ^ b >> 1)) + hex(finish(b ^ a << 1))
    }

    static func hex(_ v: UInt64) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}

/// What `stat` says about a file: git's index trusts a file unchanged while
/// these stay the same.
public struct FileStat: Equatable, Sendable {
    public var size: Int64
    public var mtimeNanoseconds: Int64
    public var ctimeNanoseconds: Int64
    public var inode: UInt64
    public var isRegular: Bool

    public static func of(_ path: String) -> FileStat? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return FileStat(size: Int64(st.st_size),
                        mtimeNanoseconds: Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec),
                        ctimeNanoseconds: Int64(st.st_ctim.tv_sec) * 1_000_000_000 + Int64(st.st_ctim.tv_nsec),
                        inode: UInt64(st.st_ino), isRegular: (st.st_mode & S_IFMT) == S_IFREG)
    }
}
