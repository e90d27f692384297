import ClangKit
import Foundation
import KPolicyFiles
import PatchInput
import KPolicyCache
import Kbuild

/// One precompiled header per tree, arch and configuration: the forced
/// includes Kbuild gives every file plus the union of the `<linux/…>` and
/// `<asm/…>` headers the candidates include, parsed once by libclang and
/// saved (`clang_saveTranslationUnit`) in the cache. A file it fits is then
/// parsed with `-include-pch` and reads the headers from it instead of
/// parsing them again.
///
/// It does not fit a file (which is then parsed the full way) when:
/// - the file defines or undefines a macro before its first `#include`
///   that the headers could read (CREATE_TRACE_POINTS, __DISABLE_EXPORTS,
///   …; `pr_fmt` and `dev_fmt` are allowed: headers only read them at
///   expansion time, after the file's own definition);
/// - its Makefile gates it on an option a header of the PCH tests (the
///   PCH was built with the option off);
/// - its flags come from compile_commands.json;
/// - the parse with the PCH has errors in the file itself (a name the
///   file defines clashes with a header it never includes): that parse is
///   dropped and the file parsed again the full way.
public final class PrecompiledHeader: @unchecked Sendable {
    public let arch: String
    /// The .pch file.
    public let path: String
    /// The header the PCH was built from.
    public let source: String
    /// The forced includes inside it (left off the per-file arguments).
    let forcedIncludes: Set<String>
    /// Every CONFIG_ name the headers in it mention.
    let configNames: Set<String>
    /// The options its configuration (autoconf.h) turns on.
    let enabledOptions: Set<String>
    /// The headers (as included, "linux/mm.h") it holds at the top level.
    public let headers: [String]
    /// Headers left out because they did not parse on their own.
    public let dropped: [String]
    /// Every file read into it (a file parsed with it depends on all of them:
    /// libclang does not list a PCH's headers among a unit's inclusions).
    public let inputs: [String]
    public let buildSeconds: Double
    /// Where its headers' macros and function declarations are kept
    /// (`PrecompiledDeclarations`); nil for a PCH built before they were.
    let declarationsPath: String?
    private let lock = NSLock()
    private var loadedDeclarations: PrecompiledDeclarations??

    init(arch: String, path: String, source: String, forcedIncludes: Set<String>, configNames: Set<String>, enabledOptions: Set<String>,
         headers: [String], dropped: [String], inputs: [String], buildSeconds: Double, declarationsPath: String?) {
        self.inputs = inputs
        inputSet = Set(inputs.map { URL(fileURLWithPath: $0).standardizedFileURL.path })
        self.declarationsPath = declarationsPath
        self.arch = arch
        self.path = path
        self.source = source
        self.forcedIncludes = forcedIncludes
        self.configNames = configNames
        self.enabledOptions = enabledOptions
        self.headers = headers
        self.dropped = dropped
        self.buildSeconds = buildSeconds
    }

    /// Its headers' macros and function declarations, read once per process;
    /// nil when they were not kept (files are then visited with the PCH's
    /// declarations, as libclang gives them).
    public var declarations: PrecompiledDeclarations? {
        lock.lock()
        defer { lock.unlock() }
        if let loaded = loadedDeclarations { return loaded }
        let loaded = declarationsPath.flatMap(PrecompiledDeclarations.load)
        loadedDeclarations = .some(loaded)
        return loaded
    }

    /// Whether `path` (absolute) was read into it.
    public func holds(_ path: String) -> Bool {
        inputSet.contains(URL(fileURLWithPath: path).standardizedFileURL.path)
    }
    private let inputSet: Set<String>

    /// Macros a file may define before its first include and still use the PCH.
    static let harmlessEarlyDefines: Set<String> = ["pr_fmt", "dev_fmt"]

    /// Why the PCH does not fit a file with `text` parsed under
    /// `configuration`; nil when it fits.
    public func misfit(text: [UInt8], configuration: ParseConfiguration) -> String? {
        guard configuration.origin == .synthesized else { return "flags from compile_commands.json" }
        guard configuration.arch == arch else { return "parsed as \(configuration.arch)" }
        guard configuration.virtualFiles.isEmpty else { return "built under another configuration of the arch (a sub-arch)" }
        if let define = PrecompiledHeader.earlyDefine(in: text), !PrecompiledHeader.harmlessEarlyDefines.contains(define) {
            return "defines \(define) before its first #include"
        }
        // A gate the configuration already turns on changes nothing.
        if let gate = configuration.gatingOptions.first(where: { !enabledOptions.contains("CONFIG_" + $0) && configNames.contains("CONFIG_" + $0) }) {
            return "built with CONFIG_\(gate), which the headers test"
        }
        return nil
    }

    /// The arguments of a parse of a file it fits: the configuration's,
    /// without the forced includes (inside the PCH), after `-include-pch`.
    public func arguments(for configuration: ParseConfiguration) -> [String] {
        var out = ["-include-pch", path]
        var i = 0
        let args = configuration.arguments
        while i < args.count {
            if args[i] == "-include", i + 1 < args.count, forcedIncludes.contains(args[i + 1]) {
                i += 2
                continue
            }
            out.append(args[i])
            i += 1
        }
        return out
    }

    /// The first macro `#define`d or `#undef`ed before the first `#include`
    /// of `text` (comments and other directives skipped), if any.
    static func earlyDefine(in text: [UInt8]) -> String? {
        var i = 0
        let n = text.count
        var atLineStart = true
        while i < n {
            let c = text[i]
            if skipComment(text, &i) { continue }
            if c == 0x0a { atLineStart = true; i += 1; continue }
            if c == 0x20 || c == 0x09 || c == 0x0d { i += 1; continue }
            if c == UInt8(ascii: "#"), atLineStart {
                var j = i + 1
                while j < n, text[j] == 0x20 || text[j] == 0x09 { j += 1 }
                var k = j
                while k < n, SourceText.isIdentifierByte(text[k]) { k += 1 }
                let directive = String(decoding: text[j..<k], as: UTF8.self)
                if directive == "include" { return nil }
                if directive == "define" || directive == "undef" {
                    var a = k
                    while a < n, text[a] == 0x20 || text[a] == 0x09 { a += 1 }
                    var b = a
                    while b < n, SourceText.isIdentifierByte(text[b]) { b += 1 }
                    return String(decoding: text[a..<b], as: UTF8.self)
                }
                // Another directive (#if, #ifdef ...): skip its line.
                while i < n, text[i] != 0x0a { i += 1 }
                continue
            }
            // Code before any include: nothing more to learn cheaply.
            atLineStart = false
            while i < n, text[i] != 0x0a { i += 1 }
        }
        return nil
    }

    /// At a `/* */` or `//` comment: moves `i` past it (to the newline that
    /// ends a `//` comment) and says so.
    static func skipComment(_ text: [UInt8], _ i: inout Int) -> Bool {
        let n = text.count
        guard text[i] == UInt8(ascii: "/"), i + 1 < n else { return false }
        if text[i + 1] == UInt8(ascii: "*") {
            i += 2
            while i + 1 < n, !(text[i] == UInt8(ascii: "*") && text[i + 1] == UInt8(ascii: "/")) { i += 1 }
            i += 2
            return true
        }
        if text[i + 1] == UInt8(ascii: "/") {
            while i < n, text[i] != 0x0a { i += 1 }
            return true
        }
        return false
    }

    /// Whether the first directive of `text` (comments skipped) opens an
    /// include guard (`#ifndef`, `#if !defined`) or is `#pragma once`.
    static func hasIncludeGuard(_ text: [UInt8]) -> Bool {
        var i = 0
        let n = text.count
        while i < n {
            let c = text[i]
            if c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d { i += 1; continue }
            if skipComment(text, &i) { continue }
            guard c == UInt8(ascii: "#") else { return false }
            var end = i
            while end < n, text[end] != 0x0a { end += 1 }
            let line = String(decoding: text[(i + 1)..<end], as: UTF8.self).trimmingCharacters(in: .whitespaces)
            return line.hasPrefix("ifndef") || line.hasPrefix("if !defined") || line.hasPrefix("pragma once")
        }
        return false
    }

    /// The `<linux/…>`, `<asm/…>` includes of `text`, in order.
    static func systemIncludes(in text: [UInt8]) -> [String] {
        HeaderIncluders.includes(in: text).compactMap { include in
            !include.quoted && (include.name.hasPrefix("linux/") || include.name.hasPrefix("asm/")) ? include.name : nil
        }
    }

    /// Builds (or finds in the cache) the PCH of `arch` over the headers
    /// `candidates` (relative paths) include. Headers that do not parse in
    /// that union are dropped (at most three rounds); nil when no PCH could
    /// be saved. Written to a temporary name and renamed, so concurrent
    /// runs never see half a file.
    public static func build(workspace: Workspace, arch: String, candidates: [String]) throws -> PrecompiledHeader? {
        let fm = FileManager.default
        var headers = includedHeaders(root: workspace.tree.root.standardizedFileURL, arch: arch, candidates: candidates)
        guard !headers.isEmpty else { return nil }
        let overlay = try workspace.overlay(arch: arch)
        let base = workspace.synthesizedBase(arch: arch, overlay: overlay)
        let enabled = enabledOptions(workspace: workspace, overlay: overlay)
        let arguments = base.arguments + base.forcedIncludes.flatMap { ["-include", $0] } + Workspace.archFlags(arch)
        // A header found in no include directory of the arch (asm/fncpy.h
        // on x86) would stop the parse with a fatal error, one per round:
        // left out before the first.
        let directories = arguments.filter { $0.hasPrefix("-I") }.map { String($0.dropFirst(2)) }
        let unresolved = headers.filter { h in !directories.contains { fm.fileExists(atPath: $0 + "/" + h) } }
        headers.removeAll { unresolved.contains($0) }
        let key = ContentHash.of(([libclangVersionString, arch, workspace.tree.version.description] + arguments + headers).joined(separator: "\n"))
        let dir = workspace.cacheRoot.appendingPathComponent("pch-\(arch)-\(workspace.tree.version)-\(key.prefix(16))")
        let pointer = latestPointer(workspace: workspace, arch: arch, arguments: arguments)
        defer {
            // The latest PCH of this tree and configuration, for runs with
            // too few files to build one (`latest`).
            if fm.fileExists(atPath: dir.appendingPathComponent("manifest.json").path) {
                try? Data(dir.lastPathComponent.utf8).write(to: pointer, options: .atomic)
            }
        }
        let output = Output(arch: arch, dir: dir, forcedIncludes: Set(base.forcedIncludes), enabledOptions: enabled)
        // A union that did not parse is not tried again (in this run, a
        // later run or another shard): the same key means the same headers
        // and arguments. Only speed depends on it, never a result.
        if let why = fm.contents(atPath: output.failure.path) {
            throw BuildFailed(reason: "did not parse together before (" + String(decoding: why, as: UTF8.self) + ")")
        }
        if let built = output.built() { return built }
        // The PCH records the path (and mtime) of the header it was built
        // from and libclang checks them when loading it: build it in place.
        try fm.createDirectory(at: dir, withIntermediateDirectories: true)
        let index = try ClangIndex()
        var kept = headers
        var dropped = unresolved
        var lastErrors: [String] = []
        for round in 0..<maxRounds {
            let source = try output.listing(of: kept, round: round)
            let unit = try TranslationUnit(index: index, path: source.path, arguments: ["-x", "c-header"] + arguments,
                                           options: [.detailedPreprocessingRecord, .incomplete, .forSerialization])
            let errors = unit.diagnostics.filter { $0.severity >= .error }
            if errors.isEmpty {
                return try output.save(unit, source: source, round: round, headers: kept, dropped: dropped)
            }
            lastErrors = errors.prefix(3).map(\.description)
            // Drop every top-level header an error came through.
            let culprits = Set(unit.topLevelIncludeLines(of: errors.compactMap(\.location.file)))
            let bad = culprits.compactMap { $0 >= 3 && $0 <= kept.count + 2 ? kept[$0 - 3] : nil }
            guard !bad.isEmpty else {
                throw remember(BuildFailed(reason: "errors outside its headers: " + errors.prefix(3).map(\.description).joined(separator: "; ")),
                               at: output.failure)
            }
            dropped += bad
            kept.removeAll { bad.contains($0) }
        }
        throw remember(BuildFailed(reason: "still errors after \(maxRounds) rounds dropping \(dropped.count) headers: "
                                   + lastErrors.joined(separator: "; ")), at: output.failure)
    }

    /// The `<linux/…>`/`<asm/…>` headers `candidates` include, each once in
    /// the order first seen. A header without an include guard is meant to
    /// be included more than once, each time under other macros
    /// (bpf_types.h, trace headers): never in a PCH.
    static func includedHeaders(root: URL, arch: String, candidates: [String]) -> [String] {
        var headers: [String] = []
        var seen: Set<String> = []
        for file in candidates {
            guard let data = FileManager.default.contents(atPath: root.appendingPathComponent(file).path) else { continue }
            for h in systemIncludes(in: [UInt8](data)) where seen.insert(h).inserted { headers.append(h) }
        }
        return headers.filter { h in
            for dir in ["arch/\(arch)/include", "include"] {
                if let data = FileManager.default.contents(atPath: root.appendingPathComponent(dir + "/" + h).path) {
                    return hasIncludeGuard([UInt8](data))
                }
            }
            return true
        }
    }

    /// Where one build writes: the PCH's directory in the cache, the names
    /// its files take (a header list is written once per name: same key,
    /// same content; the PCH and then the manifest are renamed into place),
    /// and what the PCH it gives knows of the configuration.
    struct Output {
        let arch: String
        let dir: URL
        let forcedIncludes: Set<String>
        let enabledOptions: Set<String>
        /// Names this build's temporary files and later rounds' files.
        let unique = UUID().uuidString
        let start = Date()

        var manifest: URL { dir.appendingPathComponent("manifest.json") }
        /// Holds why the union did not parse.
        var failure: URL { dir.appendingPathComponent("failed") }

        /// The PCH a build of the same key left, while every header it
        /// read has the content it had.
        func built() -> PrecompiledHeader? {
            let fm = FileManager.default
            guard let data = fm.contents(atPath: manifest.path), let m = try? JSONDecoder().decode(Manifest.self, from: data),
                  fm.fileExists(atPath: dir.appendingPathComponent(m.pch).path), m.inputsUnchanged() else { return nil }
            try? fm.setAttributes([.modificationDate: Date()], ofItemAtPath: dir.path)
            return PrecompiledHeader(arch: arch, path: dir.appendingPathComponent(m.pch).path, source: dir.appendingPathComponent(m.source).path,
                                     forcedIncludes: forcedIncludes, configNames: Set(m.configNames), enabledOptions: enabledOptions,
                                     headers: m.headers, dropped: m.dropped, inputs: m.inputs.map(\.path), buildSeconds: 0,
                                     declarationsPath: m.declarations.map { dir.appendingPathComponent($0).path })
        }

        /// The header list of a round, written under its own name (a later
        /// round drops headers).
        func listing(of headers: [String], round: Int) throws -> URL {
            let fm = FileManager.default
            let source = dir.appendingPathComponent(round == 0 ? "common.h" : "common-\(unique)-\(round).h")
            // Some headers' inline functions use KBUILD_MODNAME (net/flow_offload.h);
            // a file's own -DKBUILD_MODNAME must not clash with the PCH's, so it
            // is defined only while the headers are read.
            let listing = Data(("#define KBUILD_MODNAME \"kpolicy_pch\"\n#define KBUILD_BASENAME \"kpolicy_pch\"\n"
                + headers.map { "#include <\($0)>\n" }.joined()
                + "#undef KBUILD_MODNAME\n#undef KBUILD_BASENAME\n").utf8)
            if fm.contents(atPath: source.path) != listing {
                let temp = dir.appendingPathComponent(".tmp-\(unique).h")
                try listing.write(to: temp)
                try? fm.removeItem(at: source)
                try fm.moveItem(at: temp, to: source)
            }
            return source
        }

        /// Saves the unit of a round that parsed: the PCH, its declarations
        /// and the manifest (the headers it read, with their content hashes).
        func save(_ unit: TranslationUnit, source: URL, round: Int, headers: [String], dropped: [String]) throws -> PrecompiledHeader {
            let fm = FileManager.default
            let temp = dir.appendingPathComponent(".tmp-\(unique).pch")
            try unit.save(to: temp.path)
            let inputs = unit.inclusions
            var configs: Set<String> = []
            var stamps: [Manifest.Input] = []
            for input in inputs {
                guard let data = fm.contents(atPath: input) else { continue }
                configs.formUnion(configNames(in: data))
                stamps.append(Manifest.Input(path: input, hash: ContentHash.of(data)))
            }
            let finalPCH = dir.appendingPathComponent(round == 0 ? "common.pch" : "common-\(unique).pch")
            let declarations = dir.appendingPathComponent(round == 0 ? "common.declarations" : "common-\(unique).declarations")
            let tempDeclarations = dir.appendingPathComponent(".tmp-\(unique).declarations")
            try Data(PrecompiledDeclarations.encode(unit).utf8).write(to: tempDeclarations)
            _ = try? fm.removeItem(at: declarations)
            try fm.moveItem(at: tempDeclarations, to: declarations)
            let m = Manifest(pch: finalPCH.lastPathComponent, source: source.lastPathComponent,
                             headers: headers, dropped: dropped, configNames: configs.sorted(), inputs: stamps,
                             declarations: declarations.lastPathComponent)
            let tempManifest = dir.appendingPathComponent(".tmp-\(unique).json")
            try JSONEncoder().encode(m).write(to: tempManifest)
            _ = try? fm.removeItem(at: finalPCH)
            try fm.moveItem(at: temp, to: finalPCH)
            _ = try? fm.removeItem(at: manifest)
            try fm.moveItem(at: tempManifest, to: manifest)
            return PrecompiledHeader(arch: arch, path: finalPCH.path, source: source.path,
                                     forcedIncludes: forcedIncludes, configNames: configs, enabledOptions: enabledOptions,
                                     headers: headers, dropped: dropped, inputs: stamps.map(\.path),
                                     buildSeconds: Date().timeIntervalSince(start), declarationsPath: declarations.path)
        }
    }

    /// Rounds of a build (each parses the whole union again) before giving
    /// up. With the unresolvable headers left out first, x86's union on
    /// 6.12 and 6.1 builds within the first rounds; the arches whose default
    /// configuration has errors in common headers (powerpc) never do, and
    /// each round is a parse of the whole union.
    static let maxRounds = 4

    /// Why no PCH was built for an arch.
    public struct BuildFailed: Error, CustomStringConvertible {
        public var reason: String
        public var description: String { reason }
    }

    /// Writes the failure where the next build of the same key finds it.
    static func remember(_ failure: BuildFailed, at marker: URL) -> BuildFailed {
        try? Data(failure.reason.prefix(500).utf8).write(to: marker, options: .atomic)
        return failure
    }

    /// Where the name of the latest PCH built for this tree, arch and
    /// arguments is kept.
    static func latestPointer(workspace: Workspace, arch: String, arguments: [String]) -> URL {
        let key = ContentHash.of(([libclangVersionString, arch, workspace.tree.version.description] + arguments).joined(separator: "\n"))
        return workspace.cacheRoot.appendingPathComponent("pch-latest-\(arch)-\(key.prefix(16))")
    }

    /// The PCH a whole-tree run last built for `arch`, if it is still
    /// valid: a run with a few files (a one-file re-check) uses it instead
    /// of building one. `identities` gives files' content hashes (the result
    /// cache's, trusted by stat).
    public static func latest(workspace: Workspace, arch: String, identities: ([String]) -> [String?]) -> PrecompiledHeader? {
        guard let overlay = try? workspace.overlay(arch: arch) else { return nil }
        let base = workspace.synthesizedBase(arch: arch, overlay: overlay)
        let arguments = base.arguments + base.forcedIncludes.flatMap { ["-include", $0] } + Workspace.archFlags(arch)
        let pointer = latestPointer(workspace: workspace, arch: arch, arguments: arguments)
        let fm = FileManager.default
        guard let name = fm.contents(atPath: pointer.path).map({ String(decoding: $0, as: UTF8.self) }), !name.contains("/") else { return nil }
        let dir = workspace.cacheRoot.appendingPathComponent(name)
        guard let data = fm.contents(atPath: dir.appendingPathComponent("manifest.json").path),
              let m = try? JSONDecoder().decode(Manifest.self, from: data),
              fm.fileExists(atPath: dir.appendingPathComponent(m.pch).path),
              identities(m.inputs.map(\.path)) == m.inputs.map({ Optional($0.hash) }) else { return nil }
        try? fm.setAttributes([.modificationDate: Date()], ofItemAtPath: dir.path)
        return PrecompiledHeader(arch: arch, path: dir.appendingPathComponent(m.pch).path, source: dir.appendingPathComponent(m.source).path,
                                 forcedIncludes: Set(base.forcedIncludes), configNames: Set(m.configNames),
                                 enabledOptions: enabledOptions(workspace: workspace, overlay: overlay),
                                 headers: m.headers, dropped: m.dropped, inputs: m.inputs.map(\.path), buildSeconds: 0,
                                 declarationsPath: m.declarations.map { dir.appendingPathComponent($0).path })
    }

    static func enabledOptions(workspace: Workspace, overlay: GeneratedHeaders) -> Set<String> {
        var enabled: Set<String> = []
        for dir in [workspace.tree.root.standardizedFileURL.path, overlay.root.path] {
            guard let text = FileManager.default.contents(atPath: dir + "/include/generated/autoconf.h") else { continue }
            for line in String(decoding: text, as: UTF8.self).split(separator: "\n") where line.hasPrefix("#define CONFIG_") && line.hasSuffix(" 1") {
                enabled.insert(String(line.split(separator: " ")[1]))
            }
            break
        }
        return enabled
    }

    /// What a saved PCH was built from.
    struct Manifest: Codable {
        struct Input: Codable {
            var path: String
            var hash: String
        }
        /// File names in the PCH's directory.
        var pch: String
        var source: String
        var headers: [String]
        var dropped: [String]
        var configNames: [String]
        var inputs: [Input]
        /// The `PrecompiledDeclarations` file (absent in older manifests).
        var declarations: String?

        /// Whether every header read into the PCH still has its content
        /// (libclang would refuse a stale PCH anyway; this rebuilds it).
        func inputsUnchanged() -> Bool {
            inputs.allSatisfy { input in
                FileManager.default.contents(atPath: input.path).map(ContentHash.of) == input.hash
            }
        }
    }

    /// Every `CONFIG_…` identifier in `data`.
    static func configNames(in data: Data) -> Set<String> {
        var out: Set<String> = []
        let bytes = [UInt8](data)
        let prefix = Array("CONFIG_".utf8)
        var i = 0
        while i + prefix.count < bytes.count {
            if bytes[i] == 0x43, (i == 0 || !SourceText.isIdentifierByte(bytes[i - 1])), Array(bytes[i..<i + prefix.count]) == prefix {
                var j = i + prefix.count
                while j < bytes.count, SourceText.isIdentifierByte(bytes[j]) { j += 1 }
                out.insert(String(decoding: bytes[i..<j], as: UTF8.self))
                i = j
            } else {
                i += 1
            }
        }
        return out
    }
}

/// Computed once: `libclangVersion()` asks libclang.
package let libclangVersionString: String = libclangVersion()
