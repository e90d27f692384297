import Foundation
import KPolicyFiles

/// Reads what a command is handed as input — a patch, an mbox, a JSON
/// report — from a named file or from standard input (`-`), bounded by
/// `InputLimits.maxBytes`, with one `InputError` or `KPolicyError` for
/// every way it can go wrong.
///
/// Foundation's `readDataToEndOfFile()` traps (`try!`) on a closed or
/// write-only descriptor and reads without a bound (`< /dev/zero` ran the
/// process out of memory), and `Data(contentsOf:)` says "NSCocoaErrorDomain
/// error 256" for a directory; nothing here calls either.
public enum InputSource {
    /// The name standard input has in messages.
    public static let standardInputName = "<stdin>"

    /// The bytes of `argument`: standard input for `-`, else the named file
    /// (only a regular file: a FIFO, a device or a directory is refused, as
    /// for source files).
    ///
    /// - Throws: `KPolicyError.missingFile` when nothing is at the path,
    ///   `.unreadableFile` when it cannot be read, `InputError.tooLarge`
    ///   beyond `limit`.
    public static func read(_ argument: String, limit: Int = InputLimits.maxBytes) throws -> [UInt8] {
        if argument == "-" { return try read(fileDescriptor: 0, source: standardInputName, limit: limit) }
        guard try SourceFile.exists(argument) else { throw KPolicyError.missingFile(path: argument) }
        let fd = open(argument, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw KPolicyError.unreadableFile(path: argument, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw KPolicyError.unreadableFile(path: argument, reason: String(cString: strerror(errno))) }
        if let kind = SourceFile.irregularKind(st.st_mode) {
            throw KPolicyError.unreadableFile(path: argument, reason: "it is \(kind), not a regular file")
        }
        guard Int64(st.st_size) <= Int64(limit) else {
            throw InputError.tooLarge(source: argument, reason: "\(st.st_size) bytes, more than \(limit)")
        }
        return try read(fileDescriptor: fd, source: argument, limit: limit)
    }

    /// Everything `fd` yields up to its end, at most `limit` bytes. A
    /// closed descriptor, one open only for writing, or a directory is
    /// `unreadableFile`; more than `limit` bytes (a stream that never ends,
    /// `< /dev/zero`) is `tooLarge` once `limit + 1` bytes were read.
    public static func read(fileDescriptor fd: Int32, source: String, limit: Int = InputLimits.maxBytes) throws -> [UInt8] {
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw KPolicyError.unreadableFile(path: source, reason: errno == EBADF ? "it is closed" : String(cString: strerror(errno)))
        }
        if st.st_mode & S_IFMT == S_IFDIR { throw KPolicyError.unreadableFile(path: source, reason: "it is a directory") }
        let flags = fcntl(fd, F_GETFL)
        if flags >= 0, flags & O_ACCMODE == O_WRONLY {
            throw KPolicyError.unreadableFile(path: source, reason: "it is open only for writing")
        }
        var bytes: [UInt8] = []
        let chunk = 1 << 16
        var buffer = [UInt8](repeating: 0, count: chunk)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, chunk) }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN {
                    // A non-blocking descriptor with nothing yet: wait for it.
                    var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                    _ = poll(&poller, 1, -1)
                    continue
                }
                throw KPolicyError.unreadableFile(path: source, reason: String(cString: strerror(errno)))
            }
            if n == 0 { return bytes }
            guard bytes.count + n <= limit else {
                throw InputError.tooLarge(source: source, reason: "more than \(limit) bytes")
            }
            bytes.append(contentsOf: buffer[0..<n])
        }
    }
}
