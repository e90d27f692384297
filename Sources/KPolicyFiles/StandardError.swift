import Foundation

/// Writes to standard error with write(2). Foundation's
/// `FileHandle.standardError.write(_:)` traps (`try!`) when stderr is
/// closed or full; a closed stderr must not end a run (nothing else could
/// be said anyway), so a failed write is dropped.
public enum StandardError {
    public static func write(_ text: String) {
        let bytes = Array(text.utf8)
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(2, $0.baseAddress! + done, bytes.count - done) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { return }
            done += n
        }
    }
}
