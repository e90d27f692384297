import ClangKit
import Foundation
import KPolicyFiles
import PatchInput
import Kbuild

/// A translation unit with how it was obtained.
public struct ParsedFile: @unchecked Sendable {
    public let file: URL
    public let relativePath: String
    public let unit: TranslationUnit
    public let configuration: ParseConfiguration
    public let seconds: Double
    /// CPU seconds of every parse attempt for this file (a PCH that did not
    /// fit, stubbed headers, another arch), summed.
    public var parseCPUSeconds = 0.0
    /// Generated headers that were missing and replaced by empty stand-ins.
    public let stubbedHeaders: [String]
    /// The precompiled header the parse used, if any.
    public var precompiledHeader: String?
    /// The declarations of that PCH, when the unit's visits leave them out
    /// (`UnitIndex` looks names up there).
    public var precompiledDeclarations: PrecompiledDeclarations?
    /// Why a precompiled header of the file's arch was not used.
    public var precompiledHeaderMisfit: String?
    /// For a header parsed after its includers' beginnings: those.
    public var prelude: HeaderPrelude?

    /// Every file the parse read, with a prelude's unsaved files replaced
    /// by the includers they were cut from (what a result cache checks).
    /// The configuration's own virtual files (the 32-bit x86 override
    /// header) are left out: the tool writes them, and the cache key holds
    /// their text.
    public var inclusions: [String] {
        let virtual = Dictionary((prelude?.parts ?? []).map { ($0.path, $0.source) }, uniquingKeysWith: { a, _ in a })
        var seen = Set<String>()
        return unit.inclusions.filter { configuration.virtualFiles[$0] == nil }.map { virtual[$0] ?? $0 }.filter { seen.insert($0).inserted }
    }

    /// Error and fatal diagnostics, split by where they are.
    public var errors: (mainFile: [Diagnostic], headers: [Diagnostic]) {
        let errors = unit.diagnostics.filter { $0.severity >= .error }
        let main = errors.filter { ParsedFile.isIn($0, file.path) }
        let headers = errors.filter { !ParsedFile.isIn($0, file.path) }
        return (main, headers)
    }

    /// Whether diagnostic `d` is in the file at `path` (standardized).
    static func isIn(_ d: Diagnostic, _ path: String) -> Bool {
        d.location.file.map { URL(fileURLWithPath: $0).standardizedFileURL.path } == path
    }
}

/// Parses files of one workspace. Not thread-safe: give each worker its own
/// parser (each has its own libclang index).
public final class SourceParser {
    public let workspace: Workspace
    let index: ClangIndex
    /// For parses with a PCH whose declarations are kept
    /// (`PrecompiledDeclarations`): visits leave the PCH's out.
    lazy var indexWithoutPCHDeclarations = try? ClangIndex(excludeDeclarationsFromPCH: true)
    public static let defaultOptions: ParseOptions = [.detailedPreprocessingRecord, .keepGoing]
    public var options: ParseOptions = SourceParser.defaultOptions
    /// Precompiled headers by arch, used for the files they fit.
    public var precompiled: [String: PrecompiledHeader] = [:]

    public init(workspace: Workspace) throws {
        self.workspace = workspace
        index = try ClangIndex()
    }

    /// Parses `file`; files in `unsaved` (absolute path → text) are read from
    /// there instead of the disk (patched or new files). A missing header Kbuild would have generated is
    /// replaced by an empty stand-in and the file parsed again.
    /// - Throws: `KPolicyError.missingFile`/`.unreadableFile` for bad input,
    ///   `.parseFailed` when libclang returns no translation unit.
    public func parse(_ file: URL, unsaved: [String: String] = [:]) throws -> ParsedFile {
        let file = file.standardizedFileURL
        if unsaved[file.path] == nil { try SourceParser.checkReadable(file) }
        let configuration = try workspace.configuration(for: file)
        let relative = workspace.tree.relativePath(of: file) ?? file.path
        let start = Date()
        let ownText: [UInt8]
        if let given = unsaved[file.path] { ownText = Array(given.utf8) }
        else if case .success(let data) = SourceFile.read(file.path) { ownText = [UInt8](data) }
        else { ownText = [] }
        if let problem = IncludeGuard.problem(mainFile: file, text: ownText, arguments: configuration.arguments) {
            throw KPolicyError.parseFailed(path: relative, reason: problem)
        }
        let source = Source(file: file, relative: relative, text: ownText, unsaved: unsaved)
        var attempt = Attempt(configuration: configuration,
                              unsavedFiles: SourceParser.inMemory(unsaved) + SourceParser.inMemory(configuration.virtualFiles))
        (attempt.pch, attempt.misfit) = precompiledHeader(for: configuration, source)
        for _ in 0..<16 {
            guard let (unit, declarations) = try parseOnce(source, &attempt) else { continue }
            let missing = unit.diagnostics.compactMap { d -> String? in
                guard d.severity >= .error else { return nil }
                return SourceParser.missingInclude(in: d.message)
            }
            if try switchArch(source, missing: missing, &attempt) { continue }
            // Each header once: one that is there and still not found is not
            // on this file's include path.
            let fixed = missing.filter { !attempt.stubbed.contains($0) && attempt.configuration.overlay?.stub(include: $0) == true }
            guard fixed.isEmpty else {
                attempt.stubbed += fixed
                continue
            }
            let inFile = unit.diagnostics.filter { $0.severity >= .error && ParsedFile.isIn($0, file.path) }.count
            // Errors in the file with the PCH: it does not fit (a name
            // clash with a header the file never includes); parse it
            // the full way.
            if attempt.pch != nil, inFile > 0 {
                attempt.pch = nil
                attempt.misfit = "errors in the file with the precompiled header"
                continue
            }
            var parsed = ParsedFile(file: file, relativePath: relative, unit: unit, configuration: attempt.configuration,
                                    seconds: Date().timeIntervalSince(start), stubbedHeaders: attempt.stubbed)
            parsed.precompiledHeader = attempt.pch?.path
            parsed.precompiledDeclarations = declarations
            parsed.precompiledHeaderMisfit = attempt.misfit
            parsed.parseCPUSeconds = attempt.parseCPU
            parsed.prelude = attempt.prelude
            if attempt.withoutPrelude != nil {
                guard let kept = withPrelude(parsed, errors: inFile, source, &attempt) else { continue }
                return kept
            }
            if try startPrelude(after: parsed, errors: inFile, source, &attempt) { continue }
            return parsed
        }
        throw KPolicyError.parseFailed(path: relative, reason: "missing generated headers kept appearing: \(attempt.stubbed.joined(separator: ", "))")
    }

    /// The file being parsed.
    struct Source {
        let file: URL
        let relative: String
        /// Its text, as the parse reads it.
        let text: [UInt8]
        /// Files read from memory (absolute path → text).
        let unsaved: [String: String]
    }

    /// Where the parses of one file stand: what the next one uses, and the
    /// parses kept while a header is tried after its includers'
    /// beginnings.
    struct Attempt {
        var configuration: ParseConfiguration
        /// Files libclang reads from memory.
        var unsavedFiles: [UnsavedFile]
        var pch: PrecompiledHeader?
        /// Why the arch's PCH is not used.
        var misfit: String?
        var stubbed: [String] = []
        var switchedArch = false
        var parseCPU = 0.0
        // A header (or a .c file another one #includes, like mm/percpu-vm.c)
        // with errors in it is parsed again after its includers' beginnings
        // (HeaderPrelude); the parse with fewer errors in the file is kept.
        // Parses kept with their number of errors in the file.
        var withoutPrelude: (parsed: ParsedFile, errors: Int)?
        var prelude: HeaderPrelude?
        var bestWithPrelude: (parsed: ParsedFile, errors: Int)?
        var configurationBeforePrelude: ParseConfiguration?
        var triedShorterPrelude = false

        init(configuration: ParseConfiguration, unsavedFiles: [UnsavedFile]) {
            self.configuration = configuration
            self.unsavedFiles = unsavedFiles
        }
    }

    /// A file to parse must exist, be a file (not a directory) and be readable.
    static func checkReadable(_ file: URL) throws {
        var isDirectory: ObjCBool = false
        guard try SourceFile.exists(file.path), FileManager.default.fileExists(atPath: file.path, isDirectory: &isDirectory) else {
            throw KPolicyError.missingFile(path: file.path)
        }
        guard !isDirectory.boolValue else {
            throw KPolicyError.badInput(path: file.path, reason: "is a directory, not a source file")
        }
        guard FileManager.default.isReadableFile(atPath: file.path) else {
            throw KPolicyError.unreadableFile(path: file.path, reason: "permission denied")
        }
    }

    /// Files libclang reads from memory, in path order.
    static func inMemory(_ files: [String: String]) -> [UnsavedFile] {
        files.sorted { $0.key < $1.key }.map { UnsavedFile(path: $0.key, contents: $0.value) }
    }

    /// The arch's PCH when it fits the file under `configuration`, else why not.
    func precompiledHeader(for configuration: ParseConfiguration, _ source: Source) -> (PrecompiledHeader?, String?) {
        guard let pch = precompiled[configuration.arch] else { return (nil, nil) }
        // A header the PCH holds: its include guard is defined there.
        if pch.holds(source.file.path) { return (nil, "the file itself is in the precompiled header") }
        // A patched header the PCH holds: its old text is in the PCH.
        if let patched = source.unsaved.keys.sorted().first(where: { $0 != source.file.path && pch.holds($0) }) {
            return (nil, "\(workspace.tree.relativePath(of: URL(fileURLWithPath: patched)) ?? patched) is patched and in the precompiled header")
        }
        if let why = pch.misfit(text: source.text, configuration: configuration) { return (nil, why) }
        return (pch, nil)
    }

    /// One parse as `attempt` says, with the PCH's declarations the unit's
    /// visits leave out (nil when they are not left out). Nil when libclang
    /// failed with the PCH: the attempt goes on without it.
    func parseOnce(_ source: Source, _ attempt: inout Attempt) throws -> (TranslationUnit, PrecompiledDeclarations?)? {
        // With the PCH's declarations kept aside, the unit's visits leave them out.
        let declarations = attempt.pch?.declarations
        let excluding = declarations == nil ? nil : indexWithoutPCHDeclarations
        do {
            let chosen = excluding ?? index
            let unit = try TranslationUnit(index: chosen, path: source.file.path,
                                           arguments: attempt.pch?.arguments(for: attempt.configuration) ?? attempt.configuration.arguments,
                                           unsavedFiles: attempt.unsavedFiles, options: options)
            attempt.parseCPU += unit.parseCPUSeconds
            return (unit, excluding == nil ? nil : declarations)
        } catch let error as ClangError {
            if attempt.pch != nil {
                attempt.pch = nil
                attempt.misfit = "libclang failed with the precompiled header (\(error))"
                return nil
            }
            throw KPolicyError.parseFailed(path: source.relative, reason: error.description)
        }
    }

    /// A file outside arch/ needing an asm header only some arches have is
    /// built on those: whether the attempt now parses it as they would.
    func switchArch(_ source: Source, missing: [String], _ attempt: inout Attempt) throws -> Bool {
        guard !attempt.switchedArch, attempt.configuration.origin == .synthesized, !source.relative.hasPrefix("arch/"),
              let asm = missing.first(where: { $0.hasPrefix("asm/") }),
              let other = workspace.archProviding(asmHeader: asm), other != attempt.configuration.arch else { return false }
        attempt.configuration = try workspace.configuration(for: source.file, archOverride: other)
        (attempt.pch, attempt.misfit) = precompiledHeader(for: attempt.configuration, source)
        attempt.switchedArch = true
        return true
    }

    /// A header (or an `#include`d .c file) with errors in it: whether the
    /// attempt now parses it after its includers' beginnings (a prelude),
    /// under the sub-arch those includers need.
    func startPrelude(after parsed: ParsedFile, errors inFile: Int, _ source: Source, _ attempt: inout Attempt) throws -> Bool {
        guard attempt.withoutPrelude == nil, attempt.configuration.origin == .synthesized, source.unsaved.isEmpty,
              ["h", "c"].contains(source.file.pathExtension), inFile > 0 else { return false }
        let found = workspace.prelude(forHeader: source.file, arch: attempt.configuration.arch)
        guard !found.parts.isEmpty else { return false }
        attempt.withoutPrelude = (parsed, inFile)
        attempt.prelude = found
        // Included only under another sub-arch's options:
        // parse it with that configuration.
        if let sub = workspace.subArchitecture(arch: attempt.configuration.arch, meeting: found.requirements) {
            attempt.configuration = try workspace.configuration(for: source.file, archOverride: attempt.configuration.arch, subArchitecture: sub)
            attempt.unsavedFiles += SourceParser.inMemory(attempt.configuration.virtualFiles)
            attempt.pch = nil
        }
        attempt.configurationBeforePrelude = attempt.configuration
        attempt.configuration.arguments += found.arguments
        attempt.configuration.fileArguments += found.arguments
        attempt.unsavedFiles += found.parts.map { UnsavedFile(path: $0.path, contents: $0.text) }
        return true
    }

    /// A parse after a prelude: the parse to keep (the one with fewer
    /// errors in the file, with or without the prelude), or nil when the
    /// attempt now tries a shorter prelude.
    func withPrelude(_ parsed: ParsedFile, errors inFile: Int, _ source: Source, _ attempt: inout Attempt) -> ParsedFile? {
        guard let plain = attempt.withoutPrelude else { return parsed }
        let prelude = attempt.prelude
        let unit = parsed.unit
        // Without a guard to hold it off, the prelude must not
        // have included the header (a guard of its own, then
        // defined, would hide its body).
        let includedByPrelude = prelude?.guardMacro == nil && !unit.topLevelIncludeLines(of: [source.file.path]).isEmpty
        if ProcessInfo.processInfo.environment["KPOLICY_DEBUG"] != nil {
            StandardError.write("kpolicy: debug: \(source.relative): prelude \(prelude?.parts.map(\.source) ?? []): \(inFile) errors in the file (\(plain.errors) without)\(includedByPrelude ? ", the prelude includes the header" : "")\n")
            for d in unit.diagnostics.filter({ $0.severity >= .error }).prefix(8) { StandardError.write("  \(d.location.file ?? ""):\(d.location.line): \(d.message)\n") }
        }
        if !includedByPrelude, inFile < (attempt.bestWithPrelude?.errors ?? Int.max) {
            attempt.bestWithPrelude = (parsed, inFile)
        }
        // Errors left after the whole chain: the outermost
        // includer's beginning may bring the generic fallbacks
        // the header's own definitions then clash with (its
        // body is held off there); try the chain without it.
        if inFile > 0, !attempt.triedShorterPrelude, let whole = prelude, whole.parts.count > 1,
           let base = attempt.configurationBeforePrelude {
            attempt.triedShorterPrelude = true
            var shorter = whole
            shorter.parts.removeFirst()
            if let guardMacro = whole.guardMacro { shorter.parts[0].text = "#define \(guardMacro)\n" + shorter.parts[0].text }
            let replaced = Set(whole.parts.map(\.path))
            attempt.unsavedFiles = attempt.unsavedFiles.filter { !replaced.contains($0.path) }
                + shorter.parts.map { UnsavedFile(path: $0.path, contents: $0.text) }
            attempt.configuration = base
            attempt.configuration.arguments += shorter.arguments
            attempt.configuration.fileArguments += shorter.arguments
            attempt.prelude = shorter
            return nil
        }
        guard let best = attempt.bestWithPrelude, best.errors < plain.errors else { return plain.parsed }
        return best.parsed
    }

    /// The arguments a parse under `configuration` gives libclang.
    public func arguments(for configuration: ParseConfiguration) -> [String] {
        configuration.arguments
    }

    /// "'asm/foo.h' file not found" → "asm/foo.h".
    static func missingInclude(in message: String) -> String? {
        guard message.hasSuffix("file not found"), message.hasPrefix("'") else { return nil }
        let rest = message.dropFirst()
        guard let end = rest.firstIndex(of: "'") else { return nil }
        return String(rest[..<end])
    }
}
