import CClang
import Foundation

/// How libclang should parse (CXTranslationUnit_Flags).
public struct ParseOptions: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Keep macro definitions and expansions as cursors (needed to see
    /// `VM_FLUSH_RESET_PERMS` or `PAGE_KERNEL_EXEC` where they are spelled).
    public static let detailedPreprocessingRecord = ParseOptions(rawValue: CXTranslationUnit_DetailedPreprocessingRecord.rawValue)
    /// The file is not a complete translation unit (a header).
    public static let incomplete = ParseOptions(rawValue: CXTranslationUnit_Incomplete.rawValue)
    /// Skip function bodies (declarations only).
    public static let skipFunctionBodies = ParseOptions(rawValue: CXTranslationUnit_SkipFunctionBodies.rawValue)
    /// Go on after a fatal error such as a missing include.
    public static let keepGoing = ParseOptions(rawValue: CXTranslationUnit_KeepGoing.rawValue)
    /// Parse only the main file; leave includes alone.
    public static let singleFileParse = ParseOptions(rawValue: CXTranslationUnit_SingleFileParse.rawValue)
    /// Drop warnings and notes that come from headers.
    public static let ignoreNonErrorsFromIncludedFiles = ParseOptions(rawValue: CXTranslationUnit_IgnoreNonErrorsFromIncludedFiles.rawValue)
    /// Keep what saving the unit (as a precompiled header) needs.
    public static let forSerialization = ParseOptions(rawValue: CXTranslationUnit_ForSerialization.rawValue)
}

/// A file's contents given to libclang in place of what is on disk (or for
/// a path that does not exist on disk at all).
public struct UnsavedFile: Sendable {
    public var path: String
    public var contents: String
    public init(path: String, contents: String) {
        self.path = path
        self.contents = contents
    }
}

/// A parsed file. Cursors, tokens and diagnostics keep it alive; libclang's
/// memory is released when the last of them is gone.
public final class TranslationUnit: @unchecked Sendable {
    let raw: CXTranslationUnit
    /// The index must outlive the translation unit.
    let index: ClangIndex
    /// The path the unit was parsed from, as given.
    public let path: String

    /// Parses `path` with compiler `arguments` (no program name).
    /// - Throws: `ClangError` when libclang returns no translation unit at all.
    ///   A unit that parsed with errors is returned; read `diagnostics`.
    public init(
        index: ClangIndex,
        path: String,
        arguments: [String],
        unsavedFiles: [UnsavedFile] = [],
        options: ParseOptions = []
    ) throws {
        self.index = index
        self.path = path
        var cArgs: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        defer { cArgs.forEach { free($0) } }
        // Keep the unsaved buffers alive for the duration of the call.
        let names = unsavedFiles.map { strdup($0.path) }
        let bodies = unsavedFiles.map { file -> (UnsafeMutablePointer<CChar>?, Int) in
            let bytes = Array(file.contents.utf8)
            let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count + 1)
            bytes.withUnsafeBufferPointer { src in
                src.baseAddress.map { buffer.update(from: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self), count: bytes.count) }
            }
            buffer[bytes.count] = 0
            return (buffer, bytes.count)
        }
        defer {
            names.forEach { free($0) }
            bodies.forEach { $0.0?.deallocate() }
        }
        var unsaved = zip(names, bodies).map { name, body in
            CXUnsavedFile(Filename: UnsafePointer(name), Contents: UnsafePointer(body.0), Length: UInt(body.1))
        }
        var tu: CXTranslationUnit?
        // Deeply nested C makes the parser recurse deeply: parse on a large stack.
        var cpu = 0.0
        let code = LargeStack.run {
            let started = ThreadCPUTime.now()
            defer { cpu = ThreadCPUTime.now() - started }
            return cArgs.withUnsafeMutableBufferPointer { args in
                unsaved.withUnsafeMutableBufferPointer { files in
                    args.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: args.count) { argv in
                        clang_parseTranslationUnit2(
                            index.raw, path, argv, Int32(args.count),
                            files.baseAddress, UInt32(files.count), options.rawValue, &tu)
                    }
                }
            }
        }
        guard code == CXError_Success, let unit = tu else {
            throw ClangError(code: code, path: path)
        }
        raw = unit
        mainFile = clang_getFile(unit, path)
        parseCPUSeconds = cpu
    }

    /// CPU seconds libclang spent parsing this unit (its parse thread's).
    public let parseCPUSeconds: Double

    /// The main file's handle, to tell main-file locations from header ones.
    let mainFile: CXFile?

    /// Whether `location`, taken where macros are used, is in the main file.
    func isInMainFile(_ location: CXSourceLocation) -> Bool {
        var file: CXFile?
        clang_getExpansionLocation(location, &file, nil, nil, nil)
        guard let file, let mainFile else { return false }
        return clang_File_isEqual(file, mainFile) != 0
    }

    deinit { clang_disposeTranslationUnit(raw) }

    /// The translation unit's root cursor.
    public var cursor: Cursor { Cursor(clang_getTranslationUnitCursor(raw), in: self) }

    /// Every diagnostic libclang produced, headers included.
    public var diagnostics: [Diagnostic] {
        let count = clang_getNumDiagnostics(raw)
        return (0..<count).compactMap { i in
            guard let d = clang_getDiagnostic(raw, i) else { return nil }
            defer { clang_disposeDiagnostic(d) }
            return Diagnostic(d)
        }
    }

    /// The tokens that make up `range`, as written in the file: what
    /// `clang_tokenize` gives, from one lexing of the main file when the
    /// range is spelled there (the IR and fact stages ask for the tokens of
    /// the same statements many times over).
    public func tokens(in range: SourceRange) -> [Token] {
        Array(tokenSlice(in: range))
    }

    /// The same tokens, sharing the main file's table when the range is
    /// spelled there (no token copied: for a test or a text of them).
    public func tokenSlice(in range: SourceRange) -> ArraySlice<Token> {
        if let known = mainFileTokenSlice(in: range) { return known }
        return ArraySlice(tokenize(range))
    }

    /// The main file's tokens, lexed once: each with its start and end offset.
    private final class MainTokens {
        var tokens: [Token] = []
        var starts: [UInt32] = []
        var ends: [UInt32] = []
    }
    private var lexed: MainTokens?
    private var lexedOnce = false
    private let lexLock = NSLock()

    /// `clang_tokenize`'s answer for a range spelled in the main file that
    /// begins where a token begins, from the main file's tokens; nil when
    /// the range is anywhere else. libclang lexes from the range's start
    /// and keeps lexing while the previous token ended before the range's
    /// end (so the first token always, and one past the end when the range
    /// ends in whitespace); this takes the same tokens.
    package func mainFileTokens(in range: SourceRange) -> [Token]? {
        mainFileTokenSlice(in: range).map { Array($0) }
    }

    private func mainFileTokenSlice(in range: SourceRange) -> ArraySlice<Token>? {
        guard let mainFile else { return nil }
        var bf: CXFile?, ef: CXFile?
        var b: UInt32 = 0, e: UInt32 = 0
        clang_getSpellingLocation(clang_getRangeStart(range.raw), &bf, nil, nil, &b)
        clang_getSpellingLocation(clang_getRangeEnd(range.raw), &ef, nil, nil, &e)
        guard let bf, let ef, clang_File_isEqual(bf, mainFile) != 0, clang_File_isEqual(ef, mainFile) != 0 else { return nil }
        lexLock.lock()
        if !lexedOnce {
            lexedOnce = true
            lexed = lexMainFile(mainFile)
        }
        let table = lexed
        lexLock.unlock()
        guard let table else { return nil }
        // The token that starts exactly at the range's start.
        var lo = 0, hi = table.starts.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if table.starts[mid] < b { lo = mid + 1 } else { hi = mid }
        }
        guard lo < table.starts.count, table.starts[lo] == b else { return nil }
        var last = lo
        while last + 1 < table.starts.count && table.ends[last] < e { last += 1 }
        return table.tokens[lo...last]
    }

    private func lexMainFile(_ file: CXFile) -> MainTokens? {
        var size = 0
        guard clang_getFileContents(raw, file, &size) != nil, size > 0 else { return nil }
        let whole = clang_getRange(clang_getLocationForOffset(raw, file, 0), clang_getLocationForOffset(raw, file, UInt32(size)))
        var tokens: UnsafeMutablePointer<CXToken>?
        var count: UInt32 = 0
        clang_tokenize(raw, whole, &tokens, &count)
        guard let tokens else { return nil }
        defer { clang_disposeTokens(raw, tokens, count) }
        let out = MainTokens()
        out.tokens.reserveCapacity(Int(count))
        for i in 0..<Int(count) {
            let t = tokens[i]
            let extent = clang_getTokenExtent(raw, t)
            var s: UInt32 = 0, e: UInt32 = 0
            clang_getSpellingLocation(clang_getRangeStart(extent), nil, nil, nil, &s)
            clang_getSpellingLocation(clang_getRangeEnd(extent), nil, nil, nil, &e)
            out.starts.append(s)
            out.ends.append(e)
            out.tokens.append(Token(kind: TokenKind(t), spelling: consume(clang_getTokenSpelling(raw, t)),
                                    location: SourceLocation(expansionOf: clang_getTokenLocation(raw, t))))
        }
        // Offsets must rise; anything else and the range path is used.
        for i in 1..<max(1, out.starts.count) where out.starts[i] <= out.starts[i - 1] { return nil }
        return out
    }

    /// `clang_tokenize` on `range` itself (what `tokens(in:)` answers from its table).
    package func tokenize(_ range: SourceRange) -> [Token] {
        var tokens: UnsafeMutablePointer<CXToken>?
        var count: UInt32 = 0
        clang_tokenize(raw, range.raw, &tokens, &count)
        guard let tokens else { return [] }
        defer { clang_disposeTokens(raw, tokens, count) }
        return (0..<Int(count)).map { i in
            let t = tokens[i]
            return Token(
                kind: TokenKind(t),
                spelling: consume(clang_getTokenSpelling(raw, t)),
                location: SourceLocation(expansionOf: clang_getTokenLocation(raw, t)))
        }
    }
}

extension TranslationUnit {
    /// Every file the unit read: the main file and each header it included
    /// (directly or not), in the order libclang lists them, each once. With a
    /// precompiled header, the headers inside it are listed too. A result
    /// cache keys on these.
    public var inclusions: [String] {
        final class Collector {
            var seen: Set<String> = []
            var files: [String] = []
        }
        let collector = Collector()
        let visitor: CXInclusionVisitor = { file, _, _, data in
            guard let file, let data else { return }
            let c = Unmanaged<Collector>.fromOpaque(data).takeUnretainedValue()
            let name = consume(clang_getFileName(file))
            if c.seen.insert(name).inserted { c.files.append(name) }
        }
        withExtendedLifetime(collector) {
            clang_getInclusions(raw, visitor, Unmanaged.passUnretained(collector).toOpaque())
        }
        return collector.files
    }
}

extension TranslationUnit {
    /// Writes the unit to `path` in clang's AST format. A unit parsed from a
    /// header with `.incomplete` and `.forSerialization` (and `-x c-header`)
    /// is then a precompiled header other parses can load with
    /// `-include-pch <path>`; it only fits the libclang that wrote it.
    /// - Throws: `ClangError.saveFailed` (libclang refuses a unit with errors).
    public func save(to path: String) throws {
        let code = clang_saveTranslationUnit(raw, path, clang_defaultSaveOptions(raw))
        guard code == Int32(CXSaveError_None.rawValue) else {
            throw ClangError.saveFailed(path: path, reason: code == Int32(CXSaveError_TranslationErrors.rawValue)
                                            ? "the unit has errors" : code == Int32(CXSaveError_InvalidTU.rawValue) ? "invalid unit" : "could not write")
        }
    }
}

extension TranslationUnit {
    /// For each of `files` (paths as libclang names them) the lines of the
    /// main file's `#include`s it came through, directly or not; files not
    /// included from the main file are left out. (A file included twice is
    /// listed once by libclang, so this can miss later inclusions.)
    public func topLevelIncludeLines(of files: [String]) -> [Int] {
        final class Collector {
            var wanted: Set<String> = []
            var lines: [String: Set<Int>] = [:]
        }
        let collector = Collector()
        collector.wanted = Set(files)
        let visitor: CXInclusionVisitor = { file, stack, depth, data in
            guard let file, let data, let stack, depth > 0 else { return }
            let c = Unmanaged<Collector>.fromOpaque(data).takeUnretainedValue()
            let name = consume(clang_getFileName(file))
            guard c.wanted.contains(name) else { return }
            var line: UInt32 = 0
            clang_getSpellingLocation(stack[Int(depth) - 1], nil, &line, nil, nil)
            c.lines[name, default: []].insert(Int(line))
        }
        withExtendedLifetime(collector) {
            clang_getInclusions(raw, visitor, Unmanaged.passUnretained(collector).toOpaque())
        }
        var out: [Int] = Set(files).flatMap { collector.lines[$0] ?? [] }.sorted()
        // Errors in the main file itself (a header not found) are on its own lines.
        out += diagnostics.filter { $0.severity >= .error && $0.location.file == path }.map(\.location.line)
        return out
    }
}
