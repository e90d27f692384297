import Foundation
import KPolicyFiles
import PatchInput
import KPolicyCache

/// How one file is to be parsed.
public struct ParseConfiguration: Sendable {
    /// Where the flags came from.
    public enum Origin: String, Sendable, Codable {
        /// The tree's compile_commands.json.
        case compileCommands
        /// Synthesized from the tree layout and the overlay.
        case synthesized
    }

    public var arguments: [String]
    public var arch: String
    public var origin: Origin
    /// The generated-header overlay used (synthesized configurations only).
    public var overlay: GeneratedHeaders?
    /// Synthesized only: the arguments that are the file's own (its
    /// directory and Makefile -I, KBUILD_* names, gating options), which a
    /// precompiled header of the arch does not hold.
    public var fileArguments: [String] = []
    /// Synthesized only: the options the file's Makefile gates it on.
    public var gatingOptions: [String] = []
    /// Files that exist only for libclang (absolute path → text), named in
    /// the arguments: a configuration override forced in for a file built
    /// under another word size. Never written to disk.
    public var virtualFiles: [String: String] = [:]

    public init(arguments: [String], arch: String, origin: Origin, overlay: GeneratedHeaders?) {
        self.arguments = arguments
        self.arch = arch
        self.origin = origin
        self.overlay = overlay
    }
}

/// A kernel tree plus everything needed to parse its files: the tree's
/// facts, the per-arch overlays, and compile_commands.json when present.
public final class Workspace: @unchecked Sendable {
    public let tree: KernelTree
    /// The arch for files outside arch/ (x86 unless `--arch` says otherwise).
    public let defaultArch: String
    public let cacheRoot: URL
    let compileCommands: CompileCommands?
    let lock = NSLock()
    var overlays: [String: GeneratedHeaders] = [:]
    var kconfigs: [String: KconfigIndex] = [:]
    var kconfigDigests: [String: String] = [:]
    var gates: [String: MakefileGates] = [:]
    var includeCache: [String: MakefileIncludes] = [:]
    var archIncludeCache: [String: [String]] = [:]
    var preludeCache: [String: HeaderPrelude] = [:]
    var capabilityCache: [String: Set<String>] = [:]
    var selectedByAnyArchCache: Set<String>?
    var archSelectsCache: [String: Set<String>] = [:]

    /// Where kpolicy keeps what it derives from trees.
    public static var defaultCacheRoot: URL { cacheRoot(environment: ProcessInfo.processInfo.environment) }

    /// The one place the cache directory is decided: $KPOLICY_CACHE, else
    /// $XDG_CACHE_HOME/kpolicy, else $HOME/.cache/kpolicy, else the password
    /// file's home directory/.cache/kpolicy. Empty and (for XDG_CACHE_HOME, as
    /// the XDG spec says) relative values are ignored.
    public static func cacheRoot(environment env: [String: String]) -> URL {
        if let dir = env["KPOLICY_CACHE"], !dir.isEmpty { return URL(fileURLWithPath: dir) }
        if let xdg = env["XDG_CACHE_HOME"], xdg.hasPrefix("/") {
            return URL(fileURLWithPath: xdg).appendingPathComponent("kpolicy")
        }
        let home = env["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? passwordFileHome() ?? NSTemporaryDirectory()
        return URL(fileURLWithPath: home).appendingPathComponent(".cache").appendingPathComponent("kpolicy")
    }

    static func passwordFileHome() -> String? {
        guard let entry = getpwuid(getuid()), let dir = entry.pointee.pw_dir else { return nil }
        let home = String(cString: dir)
        return home.isEmpty ? nil : home
    }

    public init(tree: KernelTree, defaultArch: String? = nil, cacheRoot: URL = Workspace.defaultCacheRoot) throws {
        self.tree = tree
        let arch = defaultArch ?? "x86"
        guard tree.arches.contains(arch) else {
            throw KPolicyError.badInput(path: tree.root.path, reason: "the tree has no arch/\(arch) (it has: \(tree.arches.joined(separator: ", ")))")
        }
        self.defaultArch = arch
        self.cacheRoot = cacheRoot
        compileCommands = try tree.compileCommands.map { try CompileCommands(url: $0) }
    }

    /// Where the tree's Kconfig index is kept between runs (set by CheckRun).
    public var knowledgeCache: ResultCache?

    /// Whether the tree has compile_commands.json (then no PCH is used).
    public var compileCommandsPresent: Bool { compileCommands != nil }

    /// The overlay of generated headers for `arch`, built on first use.
    public func overlay(arch: String) throws -> GeneratedHeaders {
        lock.lock()
        if let o = overlays[arch] {
            lock.unlock()
            return o
        }
        lock.unlock()
        // The Kconfig index (kept in the result cache) when the default
        // configuration is made from it: the overlay depends on it.
        let index = GeneratedHeaders.configurationSourceName(tree) == "default"
            ? (index: kconfig(arch: arch), digest: kconfigDigest(arch: arch)) : nil
        lock.lock()
        defer { lock.unlock() }
        if let o = overlays[arch] { return o }
        let o: GeneratedHeaders
        do {
            o = try GeneratedHeaders.overlay(for: tree, arch: arch, cacheRoot: cacheRoot, kconfig: index)
        } catch let error as KPolicyError {
            throw error
        } catch {
            // The cache lives outside the tree; an unusable one is the environment's problem, said in one line.
            throw KPolicyError.badInput(path: cacheRoot.path, reason: "cannot be used as kpolicy's cache directory (\(Workspace.fileErrorReason(error))); set KPOLICY_CACHE or XDG_CACHE_HOME to a writable directory")
        }
        overlays[arch] = o
        return o
    }

    /// The parse configuration of `file` (an absolute path inside the tree),
    /// with its own arch or, for files outside arch/, `archOverride` or the
    /// workspace's default.
    public func configuration(for file: URL, archOverride: String? = nil,
                              subArchitecture forced: DefaultConfig.SubArchitecture? = nil) throws -> ParseConfiguration {
        guard let relative = tree.relativePath(of: file) else {
            throw KPolicyError.outsideTree(path: file.path, tree: tree.root.path)
        }
        var arch = archOverride ?? tree.arch(for: relative, fallback: defaultArch)
        if archOverride == nil, !relative.hasPrefix("arch/"), compileCommands == nil,
           let other = archWithCapabilities(for: file, arch: arch) {
            arch = other
        }
        let target = Workspace.targetTriple(arch: arch)
        if let args = compileCommands?.arguments[file.standardizedFileURL.path] {
            return ParseConfiguration(
                arguments: ["--target=\(target)", "-w", "-ferror-limit=0", "-fno-caret-diagnostics"] + args,
                arch: arch, origin: .compileCommands, overlay: nil)
        }
        let overlay = try overlay(arch: arch)
        var base = synthesizedBase(arch: arch, overlay: overlay)
        var virtualFiles: [String: String] = [:]
        var flags = Workspace.archFlags(arch)
        let gates = gatingOptions(for: file, arch: arch)
        if let sub = forced ?? subArchitecture(for: file, arch: arch, gates: gates) {
            // Built only for another sub-arch (i386, powerpc 8xx ...): that
            // target and configuration, forced in right after kconfig.h has
            // read the default autoconf.h.
            let stem = sub.name.map { $0.isLetter || $0.isNumber ? $0 : "-" }
            let override = overlay.root.appendingPathComponent("include/generated/kpolicy-\(String(stem)).h").path
            virtualFiles[override] = DefaultConfig.overrideHeader(sub.options, name: sub.name)
            base.arguments = base.arguments.map { $0.hasPrefix("--target=") ? "--target=\(sub.target)" : $0 }
            if let kconfig = base.forcedIncludes.firstIndex(where: { $0.hasSuffix("/linux/kconfig.h") }) {
                base.forcedIncludes.insert(override, at: kconfig + 1)
            }
            flags = flags.filter { !sub.droppedFlags.contains($0) }
        }
        var args = base.arguments + base.forcedIncludes.flatMap { ["-include", $0] }
        let directory = file.deletingLastPathComponent().path
        let stem = file.deletingPathExtension().lastPathComponent.replacingOccurrences(of: "-", with: "_")
        var own = ["-I\(directory)"] + makefileIncludes(for: file).map { "-I\($0)" } + makefileDefines(for: file)
        own += ["-DKBUILD_MODNAME=\"\(stem)\"", "-DKBUILD_BASENAME=\"\(stem)\"", "-DKBUILD_MODFILE=\"\(relative)\""]
        args += own + flags
        args += gates.map { "-DCONFIG_\($0)=1" }
        var configuration = ParseConfiguration(arguments: args, arch: arch, origin: .synthesized, overlay: overlay)
        configuration.fileArguments = own + gates.map { "-DCONFIG_\($0)=1" }
        configuration.gatingOptions = gates
        configuration.virtualFiles = virtualFiles
        return configuration
    }

    /// What every synthesized configuration of `arch` starts with: target,
    /// language, include directories and the forced includes (a
    /// precompiled header is built on exactly these plus the arch flags).
    public func synthesizedBase(arch: String, overlay: GeneratedHeaders) -> (arguments: [String], forcedIncludes: [String]) {
        let target = Workspace.targetTriple(arch: arch)
        let src = tree.root.path, obj = overlay.root.path
        let args = [
            "--target=\(target)", "-nostdinc", "-std=gnu11", "-w", "-ferror-limit=0", "-fno-caret-diagnostics",
            "-fno-strict-aliasing", "-fms-extensions", "-fshort-wchar",
            "-D__KERNEL__",
            "-I\(src)/arch/\(arch)/include", "-I\(obj)/arch/\(arch)/include/generated",
            "-I\(src)/include", "-I\(obj)/include",
            "-I\(src)/arch/\(arch)/include/uapi", "-I\(obj)/arch/\(arch)/include/generated/uapi",
            "-I\(src)/include/uapi", "-I\(obj)/include/generated/uapi",
        ] + archIncludes(arch).map { "-I\($0)" } + Workspace.archConfigurationIncludes(arch, src: src)
        // The forced includes Kbuild gives every C file.
        let forced = ["include/linux/compiler-version.h", "include/linux/kconfig.h", "include/linux/compiler_types.h"]
            .filter { FileManager.default.fileExists(atPath: "\(src)/\($0)") }.map { "\(src)/\($0)" }
        return (args, forced)
    }


    /// The POSIX reason behind a Foundation file error ("Not a directory"),
    /// for one-line messages.
    public static func fileErrorReason(_ error: Error) -> String {
        if let cocoa = error as? CocoaError, let underlying = cocoa.underlying { return fileErrorReason(underlying) }
        if let posix = error as? POSIXError { return String(cString: strerror(posix.code.rawValue)) }
        let ns = error as NSError
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        if ns.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(ns.code))) }
        return ns.localizedFailureReason ?? ns.localizedDescription
    }
}
