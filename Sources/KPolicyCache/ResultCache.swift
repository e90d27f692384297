import Foundation
import GRDB
import KPolicyFiles

/// The result cache: per-file results (and the tree knowledge a run
/// derives) in one SQLite database under the cache directory, so a second
/// run over an unchanged tree parses nothing.
///
/// An entry is found by a key (what the caller hashed: tool and libclang
/// version, rules, parse configuration, the file's content) and is valid
/// only while every file the parse read — the main file and each header
/// libclang listed as included — still has the content it had (ccache's
/// "direct mode" manifest). File contents are identified the way git's
/// index does: a file whose size, mtime, ctime and inode are unchanged is
/// trusted to have the hash recorded for it; a file that changed on any of
/// those is read and hashed again. A file modified within two seconds of
/// the run's start is not trusted by stat next time (git's "racily clean").
///
/// Several processes may share the database (SQLite WAL, a busy timeout).
/// A database that cannot be opened or read, or that another cache format
/// wrote, is deleted and rebuilt with one warning. The entries are bounded
/// (`maxBytes`, least recently used go first).
public final class ResultCache: @unchecked Sendable {
    /// Bump when the schema or the meaning of an entry changes.
    public static let format = "kpolicy-results-1"
    public static let fileName = "results.sqlite"
    /// Default bound of the stored entries.
    public static let defaultMaxBytes: Int64 = 512 << 20
    /// Largest bound accepted (1 PiB): far beyond any disk, and small
    /// enough that the eviction's arithmetic on it cannot overflow. A
    /// larger `maxBytes` is taken as this.
    public static let largestMaxBytes: Int64 = 1 << 50

    public let path: URL
    public let maxBytes: Int64
    let pool: DatabasePool
    let runStart = Date()
    private let lock = NSLock()
    /// Rows of the file table read so far, by absolute path.
    private var known: [String: FileRow] = [:]
    private var loadedPrefixes: Set<String> = []
    /// Paths looked up by `prefetch` that have no row.
    private var absent: Set<String> = []
    /// Rows to write at `flush()`.
    private var pending: [String: FileRow] = [:]
    /// Content hashes found this run (nil: missing or unreadable).
    private var identities: [String: String?] = [:]
    private var used: Set<Int64> = []
    public private(set) var hits = 0
    public private(set) var misses = 0

    struct FileRow: Sendable {
        var stat: FileStat
        var hash: String?
        var prefilter: String?
        var mentions: Bool
    }

    /// Opens (or creates) the cache in `directory`. `warn` gets one line
    /// when a damaged or foreign database is set aside.
    public convenience init(directory: URL, maxBytes: Int64 = ResultCache.defaultMaxBytes, warn: (String) -> Void) throws {
        try self.init(directory: directory, maxBytes: maxBytes, format: ResultCache.format, warn: warn)
    }

    /// `format` other than `ResultCache.format` only for tests.
    init(directory: URL, maxBytes: Int64 = ResultCache.defaultMaxBytes, format: String, warn: (String) -> Void) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        path = directory.appendingPathComponent(ResultCache.fileName)
        self.maxBytes = min(max(1, maxBytes), ResultCache.largestMaxBytes)
        do {
            pool = try ResultCache.open(path, format: format)
        } catch let problem as Problem {
            warn("kpolicy: warning: the result cache \(path.path) \(problem.text); rebuilding it")
            ResultCache.remove(path)
            pool = try ResultCache.open(path, format: format)
        } catch {
            warn("kpolicy: warning: the result cache \(path.path) cannot be read (\(error)); rebuilding it")
            ResultCache.remove(path)
            pool = try ResultCache.open(path, format: format)
        }
    }

    struct Problem: Error { var text: String }

    static func open(_ path: URL, format: String) throws -> DatabasePool {
        var config = Configuration()
        config.busyMode = .timeout(60)
        let pool = try DatabasePool(path: path.path, configuration: config)
        try pool.write { db in
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
                CREATE TABLE IF NOT EXISTS file(path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime INTEGER NOT NULL,
                    ctime INTEGER NOT NULL, inode INTEGER NOT NULL, hash TEXT, prefilter TEXT, mentions INTEGER NOT NULL);
                CREATE TABLE IF NOT EXISTS entry(id INTEGER PRIMARY KEY, kind TEXT NOT NULL, key TEXT NOT NULL,
                    deps TEXT NOT NULL, value BLOB NOT NULL, bytes INTEGER NOT NULL, used REAL NOT NULL);
                CREATE INDEX IF NOT EXISTS entry_key ON entry(kind, key);
                INSERT OR IGNORE INTO meta(key, value) VALUES ('format', '\(format)');
                """)
            let found = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'format'")
            if found != format { throw Problem(text: "was written by another kpolicy (\(found ?? "no format"))") }
            // Reading every page once finds a damaged file now, not mid-run.
            _ = try Int.fetchOne(db, sql: "SELECT count(*) FROM entry")
            _ = try Int.fetchOne(db, sql: "SELECT count(*) FROM file")
        }
        return pool
    }

    static func remove(_ path: URL) {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path.path + suffix) }
    }

    // MARK: File identity

    /// Reads the file rows under `prefix` (a directory) in one query.
    public func load(prefix: String) {
        lock.lock()
        let done = loadedPrefixes.contains(prefix)
        lock.unlock()
        guard !done else { return }
        let rows = (try? pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM file WHERE path >= ? AND path < ?", arguments: [prefix + "/", prefix + "0"])
        }) ?? []
        lock.lock()
        for row in rows { known[row["path"]] = ResultCache.fileRow(row) }
        loadedPrefixes.insert(prefix)
        lock.unlock()
    }

    static func fileRow(_ row: Row) -> FileRow {
        FileRow(stat: FileStat(size: row["size"], mtimeNanoseconds: row["mtime"], ctimeNanoseconds: row["ctime"],
                               inode: UInt64(bitPattern: row["inode"]), isRegular: true),
                hash: row["hash"], prefilter: row["prefilter"], mentions: row["mentions"])
    }

    /// Reads the rows of `paths` not read yet, a few hundred per query, in
    /// one read: an entry's ~1,000 dependencies cost one round trip, not
    /// one statement each.
    func prefetch(_ paths: [String]) {
        lock.lock()
        let wanted = paths.filter { path in
            pending[path] == nil && known[path] == nil && !isKnownMissing(path)
        }
        lock.unlock()
        guard !wanted.isEmpty else { return }
        let rows = (try? pool.read { db -> [Row] in
            var rows: [Row] = []
            for start in stride(from: 0, to: wanted.count, by: 500) {
                let chunk = Array(wanted[start..<min(wanted.count, start + 500)])
                let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                rows += try Row.fetchAll(db, sql: "SELECT * FROM file WHERE path IN (\(marks))", arguments: StatementArguments(chunk))
            }
            return rows
        }) ?? []
        lock.lock()
        absent.formUnion(wanted)
        for row in rows {
            let path: String = row["path"]
            known[path] = ResultCache.fileRow(row)
            absent.remove(path)
        }
        lock.unlock()
    }

    /// Whether `path` is known to have no row: looked up and missing, or
    /// under a prefix whose rows were all read. Call with `lock` held.
    private func isKnownMissing(_ path: String) -> Bool {
        absent.contains(path) || loadedPrefixes.contains { path.hasPrefix($0 + "/") }
    }

    private func row(_ path: String) -> FileRow? {
        lock.lock()
        if let r = pending[path] ?? known[path] {
            lock.unlock()
            return r
        }
        let skip = isKnownMissing(path)
        lock.unlock()
        if skip { return nil }
        let r = try? pool.read { db in try Row.fetchOne(db, sql: "SELECT * FROM file WHERE path = ?", arguments: [path]) }
        return r.flatMap { $0 }.map(ResultCache.fileRow)
    }

    /// Whether a file's stat may be trusted next time: not modified in the
    /// last two seconds before the run started (its mtime could repeat).
    private func trustable(_ stat: FileStat) -> Bool {
        Double(stat.mtimeNanoseconds) / 1e9 < runStart.timeIntervalSince1970 - 2
    }

    private func record(_ path: String, _ row: FileRow) {
        guard trustable(row.stat) else { return }
        lock.lock()
        pending[path] = row
        known[path] = row
        lock.unlock()
    }

    /// The prefilter's verdict on `path` recorded under `prefilter` (a
    /// digest of the trigger set), if its stat has not changed.
    public func mentions(_ path: String, stat: FileStat, prefilter: String) -> Bool? {
        guard let r = row(path), r.stat == stat, r.prefilter == prefilter else { return nil }
        return r.mentions
    }

    /// Records the prefilter's verdict (and, when the bytes were hashed, the
    /// content hash) of a file just read.
    public func recordPrefilter(_ path: String, stat: FileStat, prefilter: String, mentions: Bool, bytes: Data?) {
        var hash = bytes.map(ContentHash.of)
        if hash == nil, let r = row(path), r.stat == stat { hash = r.hash }
        if let hash {
            lock.lock()
            identities[path] = hash
            lock.unlock()
        }
        record(path, FileRow(stat: stat, hash: hash, prefilter: prefilter, mentions: mentions))
    }

    /// The content hash of `path`, trusted from the stat cache when the file
    /// looks unchanged, else read and hashed; nil when it cannot be read.
    /// Computed once per run.
    public func identity(of path: String) -> String? {
        lock.lock()
        if let known = identities[path] {
            lock.unlock()
            return known
        }
        lock.unlock()
        let result: String?
        if let stat = FileStat.of(path), stat.isRegular {
            let cached = row(path)
            if let cached, cached.stat == stat, let hash = cached.hash {
                result = hash
            } else if let data = FileManager.default.contents(atPath: path) {
                let hash = ContentHash.of(data)
                // Keep a prefilter verdict made on the same bytes.
                let sameBytes = cached?.hash == hash
                record(path, FileRow(stat: stat, hash: hash, prefilter: sameBytes ? cached?.prefilter : nil,
                                     mentions: sameBytes ? cached?.mentions ?? false : false))
                result = hash
            } else {
                result = nil
            }
        } else {
            result = nil
        }
        lock.lock()
        identities[path] = .some(result)
        lock.unlock()
        return result
    }

    /// `identity(of:)` of each path, their rows read in one go.
    public func identities(of paths: [String]) -> [String?] {
        prefetch(paths)
        return paths.map(identity(of:))
    }

    // MARK: Entries

    /// The value stored under `kind`/`key` whose dependencies all still have
    /// the content they had.
    public func lookup(kind: String, key: String) -> Data? {
        let rows = (try? pool.read { db in
            try Row.fetchAll(db, sql: "SELECT id, deps, value FROM entry WHERE kind = ? AND key = ? ORDER BY used DESC",
                             arguments: [kind, key])
        }) ?? []
        for row in rows {
            let deps: String = row["deps"]
            let pairs = deps.split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false) }
            prefetch(pairs.compactMap { $0.count == 2 ? String($0[0]) : nil })
            let valid = pairs.allSatisfy { parts -> Bool in
                guard parts.count == 2 else { return false }
                let recorded = parts[1] == ResultCache.absentMark ? nil : String(parts[1])
                return identity(of: String(parts[0])) == recorded
            }
            if valid {
                lock.lock()
                used.insert(row["id"])
                hits += 1
                lock.unlock()
                return row["value"]
            }
        }
        lock.lock()
        misses += 1
        lock.unlock()
        return nil
    }

    /// What a dependency row holds instead of a content hash for a file
    /// the value was computed without: valid while the file is still not
    /// there (not a hash: `ContentHash` is hex).
    static let absentMark = "-"

    /// Stores `value` under `kind`/`key`, valid while the files in
    /// `dependencies` keep their content and the files in `absent` (looked
    /// for and not found: a missing Kconfig) stay missing. Nothing is
    /// stored when a dependency cannot be read now, or an absent file is
    /// there now. At most four entries are kept per key.
    public func store(kind: String, key: String, dependencies: [String], absent: [String] = [], value: Data) {
        var lines: [String] = []
        for dep in Set(dependencies).sorted() {
            guard let hash = identity(of: dep) else { return }
            lines.append("\(dep)\t\(hash)")
        }
        for path in Set(absent).subtracting(dependencies).sorted() {
            guard identity(of: path) == nil else { return }
            lines.append("\(path)\t\(ResultCache.absentMark)")
        }
        let deps = lines.joined(separator: "\n")
        let now = Date().timeIntervalSince1970
        try? pool.write { db in
            try db.execute(sql: "INSERT INTO entry(kind, key, deps, value, bytes, used) VALUES (?, ?, ?, ?, ?, ?)",
                           arguments: [kind, key, deps, value, value.count + deps.utf8.count, now])
            try db.execute(sql: """
                DELETE FROM entry WHERE kind = ? AND key = ? AND id NOT IN
                    (SELECT id FROM entry WHERE kind = ? AND key = ? ORDER BY used DESC LIMIT 4)
                """, arguments: [kind, key, kind, key])
        }
    }

    /// Writes what the run learnt (file identities, which entries were used)
    /// and evicts the least recently used entries beyond `maxBytes`.
    public func flush() {
        lock.lock()
        let rows = pending
        pending = [:]
        let usedIDs = used
        used = []
        lock.unlock()
        let now = Date().timeIntervalSince1970
        let limit = maxBytes
        try? pool.write { db in
            let insert = try db.cachedStatement(sql: "INSERT OR REPLACE INTO file VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
            for (path, r) in rows {
                try insert.execute(arguments: [path, r.stat.size, r.stat.mtimeNanoseconds, r.stat.ctimeNanoseconds,
                                               Int64(bitPattern: r.stat.inode), r.hash, r.prefilter, r.mentions])
            }
            let touch = try db.cachedStatement(sql: "UPDATE entry SET used = ? WHERE id = ?")
            for id in usedIDs { try touch.execute(arguments: [now, id]) }
            try ResultCache.evict(db, limit: limit)
        }
    }

    /// Deletes least recently used entries until they fit in 80% of `limit`;
    /// the file table (only identities, rebuilt by reading) is cleared when
    /// it alone outgrows a tenth of the limit.
    static func evict(_ db: Database, limit requested: Int64) throws {
        let limit = min(max(1, requested), largestMaxBytes)
        let total = try Int64.fetchOne(db, sql: "SELECT coalesce(sum(bytes), 0) FROM entry") ?? 0
        if total > limit {
            var excess = total - limit * 8 / 10
            let rows = try Row.fetchAll(db, sql: "SELECT id, bytes FROM entry ORDER BY used")
            var doomed: [Int64] = []
            for row in rows where excess > 0 {
                doomed.append(row["id"])
                excess -= row["bytes"] as Int64
            }
            for chunk in stride(from: 0, to: doomed.count, by: 500) {
                let ids = doomed[chunk..<min(doomed.count, chunk + 500)].map(String.init).joined(separator: ",")
                try db.execute(sql: "DELETE FROM entry WHERE id IN (\(ids))")
            }
        }
        let files = try Int64.fetchOne(db, sql: "SELECT count(*) FROM file") ?? 0
        if files * 120 > limit / 10 { try db.execute(sql: "DELETE FROM file") }
    }

    /// The total size of the stored entries (for tests and `--verbose`).
    public func storedBytes() -> Int64 {
        (try? pool.read { db in try Int64.fetchOne(db, sql: "SELECT coalesce(sum(bytes), 0) FROM entry") ?? 0 }) ?? 0
    }

    public func entryCount(kind: String? = nil) -> Int {
        (try? pool.read { db in
            if let kind { return try Int.fetchOne(db, sql: "SELECT count(*) FROM entry WHERE kind = ?", arguments: [kind]) ?? 0 }
            return try Int.fetchOne(db, sql: "SELECT count(*) FROM entry") ?? 0
        }) ?? 0
    }
}
