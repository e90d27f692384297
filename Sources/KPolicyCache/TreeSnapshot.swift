#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import KPolicyFiles

/// The identity of a whole tree by stat: one digest over the path, size,
/// mtime, ctime and inode of every regular file under the root (`.git`
/// left out), the way git's index trusts an unchanged stat. Any file
/// added, removed, edited or replaced changes it; reading no file content,
/// it costs one `stat` per file (about 0.1-0.2 s of CPU for a kernel tree).
/// A whole-tree run's report is kept under it (`CheckRun`'s run record),
/// so a run over an unchanged tree reads one row instead of validating
/// every file's entry.
public enum TreeSnapshot {
    /// The digest of the tree at `root` and the files (absolute paths)
    /// modified at or after `recentSince` (seconds since 1970):
    /// such a file could change again without its stat changing (git's
    /// "racily clean"), so what is kept under the digest must also check
    /// their content. Nil when the root cannot be read.
    public static func digest(root: String, recentSince: Double) -> (digest: String, recent: [String])? {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(8 << 20)
        var recent: [String] = []
        guard walk(root, relative: "", into: &buffer, recent: &recent, since: Int(recentSince.rounded(.down))) else { return nil }
        return (buffer.withUnsafeBytes { ContentHash.of($0) }, recent.map { root + "/" + $0 })
    }

    /// Appends one record per entry of `directory` (sorted by name) and
    /// recurses into subdirectories. False when `directory` cannot be opened.
    private static func walk(_ directory: String, relative: String, into buffer: inout [UInt8], recent: inout [String], since: Int) -> Bool {
        guard let dir = opendir(directory) else { return false }
        let fd = dirfd(dir)
        var names: [(name: String, isDirectory: Bool, stat: stat)] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name == "." || name == ".." || name == ".git" { continue }
            var st = stat()
            guard fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
            let kind = st.st_mode & S_IFMT
            if kind == S_IFDIR { names.append((name, true, st)) }
            else if kind == S_IFREG || kind == S_IFLNK { names.append((name, false, st)) }
        }
        closedir(dir)
        names.sort { $0.name < $1.name }
        for entry in names {
            let path = relative.isEmpty ? entry.name : relative + "/" + entry.name
            buffer.append(contentsOf: path.utf8)
            if entry.isDirectory {
                buffer.append(0x2f)
                buffer.append(0)
                _ = walk(directory + "/" + entry.name, relative: path, into: &buffer, recent: &recent, since: since)
                continue
            }
            buffer.append(0)
            let st = entry.stat
            if Int(st.st_mtim.tv_sec) >= since { recent.append(path) }
            for value in [Int64(st.st_size), Int64(st.st_mtim.tv_sec), Int64(st.st_mtim.tv_nsec), Int64(st.st_ctim.tv_sec),
                          Int64(st.st_ctim.tv_nsec), Int64(bitPattern: UInt64(st.st_ino)), Int64(st.st_mode)] {
                withUnsafeBytes(of: value.littleEndian) { buffer.append(contentsOf: $0) }
            }
        }
        return true
    }
}
