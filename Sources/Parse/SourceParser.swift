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
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if unsaved[file.path] == nil {
            guard try SourceFile.exists(file.path), fm.fileExists(atPath: file.path, isDirectory: &isDirectory) else {
                throw KPolicyError.missingFile(path: file.path)
            }
            guard !isDirectory.boolValue else {
                throw KPolicyError.badInput(path: file.path, reason: "is a directory, not a source file")
            }
            guard fm.isReadableFile(atPath: file.path) else {
                throw KPolicyError.unreadableFile(path: file.path, reason: "permission denied")
            }
        }
        /// Files libclang reads from memory, in path order.
        func inMemory(_ files: [String: String]) -> [UnsavedFile] {
            files.sorted { $0.key < $1.key }.map { UnsavedFile(path: $0.key, contents: $0.value) }
        }
        var unsavedFiles = inMemory(unsaved)
        var configuration = try workspace.configuration(for: file)
        unsavedFiles += inMemory(configuration.virtualFiles)
        let relative = workspace.tree.relativePath(of: file) ?? file.path
        var stubbed: [String] = []
        var switchedArch = false
        let start = Date()
        let ownText: [UInt8]
        if let given = unsaved[file.path] { ownText = Array(given.utf8) }
        else if case .success(let data) = SourceFile.read(file.path) { ownText = [UInt8](data) }
        else { ownText = [] }
        if let problem = IncludeGuard.problem(mainFile: file, text: ownText, arguments: configuration.arguments) {
            throw KPolicyError.parseFailed(path: relative, reason: problem)
        }
        func precompiledHeader(for configuration: ParseConfiguration) -> (PrecompiledHeader?, String?) {
            guard let pch = precompiled[configuration.arch] else { return (nil, nil) }
            // A header the PCH holds: its include guard is defined there.
            if pch.holds(file.path) { return (nil, "the file itself is in the precompiled header") }
            // A patched header the PCH holds: its old text is in the PCH.
            if let patched = unsaved.keys.sorted().first(where: { $0 != file.path && pch.holds($0) }) {
                return (nil, "\(workspace.tree.relativePath(of: URL(fileURLWithPath: patched)) ?? patched) is patched and in the precompiled header")
            }
            if let why = pch.misfit(text: ownText, configuration: configuration) { return (nil, why) }
            return (pch, nil)
        }
        var (pch, misfit) = precompiledHeader(for: configuration)
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
        func errorsInFile(_ unit: TranslationUnit) -> Int {
            unit.diagnostics.filter { $0.severity >= .error && ParsedFile.isIn($0, file.path) }.count
        }
        for _ in 0..<16 {
            let unit: TranslationUnit
            // With the PCH's declarations kept aside, the unit's visits leave them out.
            let declarations = pch?.declarations
            let excluding = declarations == nil ? nil : indexWithoutPCHDeclarations
            do {
                let chosen = excluding ?? index
                unit = try TranslationUnit(index: chosen, path: file.path, arguments: pch?.arguments(for: configuration) ?? configuration.arguments,
                                           unsavedFiles: unsavedFiles, options: options)
                parseCPU += unit.parseCPUSeconds
            } catch let error as ClangError {
                if pch != nil {
                    pch = nil
                    misfit = "libclang failed with the precompiled header (\(error))"
                    continue
                }
                throw KPolicyError.parseFailed(path: relative, reason: error.description)
            }
            let missing = unit.diagnostics.compactMap { d -> String? in
                guard d.severity >= .error else { return nil }
                return SourceParser.missingInclude(in: d.message)
            }
            // A file outside arch/ needing an asm header only some arches have
            // is built on those: parse it as they would.
            if !switchedArch, configuration.origin == .synthesized, !relative.hasPrefix("arch/"),
               let asm = missing.first(where: { $0.hasPrefix("asm/") }),
               let other = workspace.archProviding(asmHeader: asm), other != configuration.arch {
                configuration = try workspace.configuration(for: file, archOverride: other)
                (pch, misfit) = precompiledHeader(for: configuration)
                switchedArch = true
                continue
            }
            // Each header once: one that is there and still not found is not
            // on this file's include path.
            let fixed = missing.filter { !stubbed.contains($0) && configuration.overlay?.stub(include: $0) == true }
            if fixed.isEmpty {
                let inFile = errorsInFile(unit)
                // Errors in the file with the PCH: it does not fit (a name
                // clash with a header the file never includes); parse it
                // the full way.
                if pch != nil, inFile > 0 {
                    pch = nil
                    misfit = "errors in the file with the precompiled header"
                    continue
                }
                var parsed = ParsedFile(file: file, relativePath: relative, unit: unit, configuration: configuration,
                                        seconds: Date().timeIntervalSince(start), stubbedHeaders: stubbed)
                parsed.precompiledHeader = pch?.path
                parsed.precompiledDeclarations = excluding == nil ? nil : declarations
                parsed.precompiledHeaderMisfit = misfit
                parsed.parseCPUSeconds = parseCPU
                parsed.prelude = prelude
                if let plain = withoutPrelude {
                    // Without a guard to hold it off, the prelude must not
                    // have included the header (a guard of its own, then
                    // defined, would hide its body).
                    let includedByPrelude = prelude?.guardMacro == nil && !unit.topLevelIncludeLines(of: [file.path]).isEmpty
                    if ProcessInfo.processInfo.environment["KPOLICY_DEBUG"] != nil {
                        StandardError.write("kpolicy: debug: \(relative): prelude \(prelude?.parts.map(\.source) ?? []): \(inFile) errors in the file (\(plain.errors) without)\(includedByPrelude ? ", the prelude includes the header" : "")\n")
                        for d in unit.diagnostics.filter({ $0.severity >= .error }).prefix(8) { StandardError.write("  \(d.location.file ?? ""):\(d.location.line): \(d.message)\n") }
                    }
                    if !includedByPrelude, inFile < (bestWithPrelude?.errors ?? Int.max) {
                        bestWithPrelude = (parsed, inFile)
                    }
                    // Errors left after the whole chain: the outermost
                    // includer's beginning may bring the generic fallbacks
                    // the header's own definitions then clash with (its
                    // body is held off there); try the chain without it.
                    if inFile > 0, !triedShorterPrelude, let whole = prelude, whole.parts.count > 1,
                       let base = configurationBeforePrelude {
                        triedShorterPrelude = true
                        var shorter = whole
                        shorter.parts.removeFirst()
                        if let guardMacro = whole.guardMacro { shorter.parts[0].text = "#define \(guardMacro)\n" + shorter.parts[0].text }
                        let replaced = Set(whole.parts.map(\.path))
                        unsavedFiles = unsavedFiles.filter { !replaced.contains($0.path) } + shorter.parts.map { UnsavedFile(path: $0.path, contents: $0.text) }
                        configuration = base
                        configuration.arguments += shorter.arguments
                        configuration.fileArguments += shorter.arguments
                        prelude = shorter
                        continue
                    }
                    guard let best = bestWithPrelude, best.errors < plain.errors else { return plain.parsed }
                    return best.parsed
                }
                if withoutPrelude == nil, configuration.origin == .synthesized, unsaved.isEmpty, ["h", "c"].contains(file.pathExtension),
                   inFile > 0 {
                    let found = workspace.prelude(forHeader: file, arch: configuration.arch)
                    if !found.parts.isEmpty {
                        withoutPrelude = (parsed, inFile)
                        prelude = found
                        // Included only under another sub-arch's options:
                        // parse it with that configuration.
                        if let sub = workspace.subArchitecture(arch: configuration.arch, meeting: found.requirements) {
                            configuration = try workspace.configuration(for: file, archOverride: configuration.arch, subArchitecture: sub)
                            unsavedFiles += inMemory(configuration.virtualFiles)
                            pch = nil
                        }
                        configurationBeforePrelude = configuration
                        configuration.arguments += found.arguments
                        configuration.fileArguments += found.arguments
                        unsavedFiles += found.parts.map { UnsavedFile(path: $0.path, contents: $0.text) }
                        continue
                    }
                }
                return parsed
            }
            stubbed += fixed
        }
        throw KPolicyError.parseFailed(path: relative, reason: "missing generated headers kept appearing: \(stubbed.joined(separator: ", "))")
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
