import Foundation

/// Reads source files the safe way: only regular files, never a FIFO (which
/// would block forever), a device (`/dev/zero` never ends) or a directory.
public enum SourceFile {
    /// The file's bytes, or why it cannot be source.
    public static func read(_ path: String) -> Result<Data, FailureReason> {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return .failure(.unreadable(String(cString: strerror(errno)))) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return .failure(.unreadable(String(cString: strerror(errno)))) }
        if let kind = irregularKind(st.st_mode) { return .failure(.notARegularFile(kind)) }
        var bytes = Data(count: Int(st.st_size))
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 {
                if errno == EINTR { continue }
                return .failure(.unreadable(String(cString: strerror(errno))))
            }
            if n == 0 { break }
            done += n
        }
        return .success(done == bytes.count ? bytes : bytes.prefix(done))
    }

    /// The file's bytes, or nil when nothing is at `path` (ENOENT); any other
    /// reason it cannot be read as source is `unreadableFile` naming `name`.
    public static func contentsIfPresent(_ path: String, name: String) throws -> Data? {
        guard try exists(path, name: name) else { return nil }
        switch read(path) {
        case .success(let data): return data
        case .failure(let reason): throw KPolicyError.unreadableFile(path: name, reason: reason.description)
        }
    }

    /// Whether something is at `path`: false only when nothing is (ENOENT,
    /// also for a symbolic link to nothing). A path that cannot be followed
    /// (a symbolic link that points at itself, a directory on the way that
    /// cannot be searched) is `unreadableFile` with the system's reason,
    /// not "no such file".
    public static func exists(_ path: String, name: String? = nil) throws -> Bool {
        var st = stat()
        if stat(path, &st) == 0 { return true }
        let reason = errno
        if reason == ENOENT || reason == ENOTDIR { return false }
        throw KPolicyError.unreadableFile(path: name ?? path, reason: String(cString: strerror(reason)))
    }

    /// Why a path is not a regular file, or nil if it is one (following symlinks).
    public static func irregularKind(atPath path: String) -> String? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return irregularKind(st.st_mode)
    }

    public static func irregularKind(_ mode: mode_t) -> String? {
        switch mode & S_IFMT {
        case S_IFREG: return nil
        case S_IFDIR: return "a directory"
        case S_IFIFO: return "a FIFO"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFSOCK: return "a socket"
        default: return "not a regular file"
        }
    }
}
