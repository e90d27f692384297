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
    private let lock = NSLock()
    private var overlays: [String: GeneratedHeaders] = [:]
    private var kconfigs: [String: KconfigIndex] = [:]
    private var kconfigDigests: [String: String] = [:]
    private var gates: [String: MakefileGates] = [:]
    private var includeCache: [String: MakefileIncludes] = [:]
    private var archIncludeCache: [String: [String]] = [:]
    private var preludeCache: [String: HeaderPrelude] = [:]
    private var capabilityCache: [String: Set<String>] = [:]
    private var selectedByAnyArchCache: Set<String>?
    private var archSelectsCache: [String: Set<String>] = [:]

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

    /// The tree's Kconfig as seen from `arch`, read on first use.
    public func kconfig(arch: String) -> KconfigIndex {
        lock.lock()
        defer { lock.unlock() }
        if let k = kconfigs[arch] { return k }
        // With a result cache: kept until a Kconfig file it read changes
        // (reading 1,800 Kconfig files per arch is most of a warm run).
        let root = tree.root.standardizedFileURL.path
        let key = ContentHash.of("kconfig-5|\(ResultCache.format)|\(root)|\(arch)|\(tree.version)")
        if let cache = knowledgeCache, let data = cache.lookup(kind: "kconfig", key: key),
           let k = KconfigIndex(serialized: data) {
            kconfigs[arch] = k
            kconfigDigests[arch] = ContentHash.of(data)
            return k
        }
        let k = KconfigIndex(tree: tree, arch: arch)
        kconfigs[arch] = k
        let data = k.serialized()
        kconfigDigests[arch] = ContentHash.of(data)
        if let cache = knowledgeCache {
            cache.store(kind: "kconfig", key: key, dependencies: k.files.map { root + "/" + $0 },
                        absent: k.missingFiles.map { root + "/" + $0 }, value: data)
        }
        return k
    }

    /// A hash of what `kconfig(arch:)` holds (its serialized form, hashed
    /// once when it is read or loaded): the generated headers' key.
    public func kconfigDigest(arch: String) -> String {
        _ = kconfig(arch: arch)
        lock.lock()
        defer { lock.unlock() }
        return kconfigDigests[arch]!
    }

    /// The options Kbuild builds `file` under (from its directory's
    /// Makefile), with what they depend on: a file compiled only with
    /// CONFIG_CMA is parsed with CONFIG_CMA on, as it would be built.
    /// A directory a parent Makefile builds only under an option
    /// (`obj-$(CONFIG_KMSAN) += kmsan/`) adds that option for every file in it.
    public func gatingOptions(for file: URL, arch: String) -> [String] {
        let object = file.deletingPathExtension().lastPathComponent + ".o"
        var direct = makefileGates(file.deletingLastPathComponent()).gates[object] ?? []
        let root = tree.root.standardizedFileURL.path
        var dir = file.deletingLastPathComponent().standardizedFileURL
        // Kbuild also lists objects of subdirectories without a Makefile
        // (xe's `xe-$(CONFIG_DRM_XE_DISPLAY) += display/xe_hdcp_gsc.o`).
        var below = object
        while dir.path.hasPrefix(root + "/") {
            let parent = dir.deletingLastPathComponent()
            below = dir.lastPathComponent + "/" + below
            let g = makefileGates(parent)
            direct += (g.gates[dir.lastPathComponent + "/"] ?? []) + (g.gates[below] ?? [])
            dir = parent
        }
        guard !direct.isEmpty else { return [] }
        let index = kconfig(arch: arch)
        return index.closure(of: direct, foreign: ArchSelects.foreignSymbols(arch: arch)).filter { ["bool", "tristate"].contains(index.entries[$0]?.type ?? "bool") }.sorted()
    }

    /// The arch that builds `file` (outside arch/) when the options it is
    /// gated on need a capability only other arches select: kernel/scs.c is
    /// built under SHADOW_CALL_STACK, which depends on
    /// ARCH_SUPPORTS_SHADOW_CALL_STACK, which arm64 and riscv select (under
    /// a compiler condition) and x86 does not. Nil when `arch` has every
    /// such capability, or no arch selects all of them. 64-bit arches with
    /// a configuration table are preferred.
    ///
    /// The options on the object's own Makefile lines are alternatives
    /// (mm/kasan/shadow.o is listed under KASAN_GENERIC and under
    /// KASAN_SW_TAGS, which only arm64 has): the arch changes only when
    /// every one of them needs such a capability.
    ///
    /// Options the arch's Kconfig does not define at all, because only
    /// other arches `source` the file that does, take the first arch whose
    /// Kconfig defines them all (drivers/hwtracing/coresight/Kconfig is
    /// read from arch/arm64/Kconfig.debug and arm's: coresight-tmc-etr.c
    /// uses arm64's dmb()).
    func archWithCapabilities(for file: URL, arch: String) -> String? {
        let object = file.deletingPathExtension().lastPathComponent + ".o"
        let own = makefileGates(file.deletingLastPathComponent()).gates[object] ?? []
        if !own.isEmpty, own.allSatisfy({ kconfig(arch: arch).entries[$0] == nil }) {
            return Workspace.capabilityArches.first { other in
                other != arch && tree.arches.contains(other) && own.allSatisfy { kconfig(arch: other).entries[$0] != nil }
            }
        }
        // Of a `depends on A || B`, an alternative the arch can take is
        // preferred (KASAN: generic before HW tags).
        let absent = selectedByAnyArch.subtracting(capabilities(arch: arch))
        let foreign = ArchSelects.foreignSymbols(arch: arch).union(absent)
        func lacking(_ symbols: [String]) -> Set<String> {
            Set(kconfig(arch: arch).closure(of: symbols, foreign: foreign, withDefaults: false)).intersection(absent)
        }
        guard !own.isEmpty, own.allSatisfy({ !lacking([$0]).isEmpty }) else { return nil }
        let missing = lacking(own)
        return Workspace.capabilityArches.first { other in
            other != arch && tree.arches.contains(other) && missing.isSubset(of: selectedSymbols(arch: other))
        }
    }

    /// The sub-arch of `arch` whose configuration meets a header prelude's
    /// `requirements`, when kpolicy's default configuration of the arch
    /// does not (asm/nohash/pgtable.h needs PPC_BOOK3S off: powerpc 8xx).
    public func subArchitecture(arch: String, meeting requirements: [String: Bool]) -> DefaultConfig.SubArchitecture? {
        let base = capabilities(arch: arch)
        guard requirements.contains(where: { base.contains($0.key) != $0.value }) else { return nil }
        return DefaultConfig.subArchitectures[arch]?.first { sub in
            let own = Dictionary(sub.options.map { ($0.0, $0.1 != .off) }, uniquingKeysWith: { _, last in last })
            return requirements.allSatisfy { (own[$0.key] ?? base.contains($0.key)) == $0.value }
        }
    }

    /// The arches a file outside arch/ may be parsed for by its
    /// capabilities, in order of preference.
    static let capabilityArches = ["x86", "arm64", "riscv", "powerpc", "s390"]

    /// What the default configuration of `arch` turns on, with the selects
    /// of its main Kconfig entries (ArchSelects), computed once.
    func capabilities(arch: String) -> Set<String> {
        lock.lock()
        if let known = capabilityCache[arch] { lock.unlock(); return known }
        lock.unlock()
        let all = DefaultConfig.options(arch: arch)
        let on = Set(all.filter { $0.1 != .off }.map(\.0))
        let result = on.union(ArchSelects.enabled(tree: tree, arch: arch, base: on, disabled: Set(all.filter { $0.1 == .off }.map(\.0))))
        lock.lock()
        capabilityCache[arch] = result
        lock.unlock()
        return result
    }

    /// Every symbol some arch's main Kconfig entry selects.
    /// What arch/<arch>/Kconfig's own config symbol selects, read once
    /// (every file outside arch/ asks when its options lack a capability).
    func selectedSymbols(arch: String) -> Set<String> {
        lock.lock()
        if let known = archSelectsCache[arch] { lock.unlock(); return known }
        lock.unlock()
        let result = Set(ArchSelects.selects(tree: tree, arch: arch).map(\.0))
        lock.lock()
        archSelectsCache[arch] = result
        lock.unlock()
        return result
    }

    private var selectedByAnyArch: Set<String> {
        lock.lock()
        if let known = selectedByAnyArchCache { lock.unlock(); return known }
        lock.unlock()
        let all = Set(Workspace.capabilityArches.filter { tree.arches.contains($0) }.flatMap { selectedSymbols(arch: $0) })
        lock.lock()
        selectedByAnyArchCache = all
        lock.unlock()
        return all
    }

    /// The Makefile gates of one directory, read once.
    func makefileGates(_ directory: URL) -> MakefileGates {
        lock.lock()
        defer { lock.unlock() }
        if let cached = gates[directory.path] { return cached }
        let g = MakefileGates(directory: directory)
        gates[directory.path] = g
        return g
    }

    /// The arch's option for a 32-bit build, which a `*_$(BITS).o` object's
    /// `_32` file is built under.
    static let thirtyTwoBitSymbol = ["x86": "X86_32", "powerpc": "PPC32"]

    /// The sub-arch Kbuild builds `file` for, when it is not kpolicy's
    /// default one for `arch`: the Makefile names it `*_$(BITS).o` and it
    /// is the `_32` one, or its gating options name a trigger of one of
    /// `DefaultConfig.subArchitectures` (CONFIG_X86_32, CONFIG_PPC_8xx ...).
    func subArchitecture(for file: URL, arch: String, gates: [String]) -> DefaultConfig.SubArchitecture? {
        var options = Set(gates)
        let object = file.deletingPathExtension().lastPathComponent + ".o"
        let g = makefileGates(file.deletingLastPathComponent())
        options.formUnion(g.gates[object] ?? [])
        if g.thirtyTwoBitOnly.contains(object), let symbol = Workspace.thirtyTwoBitSymbol[arch] { options.insert(symbol) }
        return DefaultConfig.subArchitecture(arch: arch, options: options)
    }

    /// The `-I` directories the Makefiles above `file` add (nearest first).
    func makefileIncludes(for file: URL) -> [String] {
        let root = tree.root.standardizedFileURL.path
        var dir = file.deletingLastPathComponent().standardizedFileURL
        var out: [String] = []
        while dir.path.hasPrefix(root + "/") {
            out += makefileFlags(dir).directories.filter { !out.contains($0) }
            dir = dir.deletingLastPathComponent()
        }
        return out
    }

    /// The `-D` macros Kbuild compiles `file` with from Makefiles: the
    /// `ccflags-*` of the Makefile that lists it (the nearest directory
    /// above it with a Makefile or Kbuild) and the `subdir-ccflags-*` of
    /// that one and every one above it, outermost first (xe's i915 display
    /// compat `-Ddrm_i915_private=xe_device`, i915's `-DI915`).
    func makefileDefines(for file: URL) -> [String] {
        let root = tree.root.standardizedFileURL.path
        var dir = file.deletingLastPathComponent().standardizedFileURL
        var out: [[String]] = []
        var listed = false
        while dir.path.hasPrefix(root + "/") {
            let includes = makefileFlags(dir)
            let fm = FileManager.default
            if !listed, fm.fileExists(atPath: dir.path + "/Makefile") || fm.fileExists(atPath: dir.path + "/Kbuild") {
                listed = true
                out.append(includes.subdirectoryDefines + includes.defines)
            } else if listed {
                out.append(includes.subdirectoryDefines)
            }
            dir = dir.deletingLastPathComponent()
        }
        return out.reversed().flatMap { $0 }
    }

    /// One directory's Makefile flags, read once.
    private func makefileFlags(_ dir: URL) -> MakefileIncludes {
        lock.lock()
        defer { lock.unlock() }
        if let cached = includeCache[dir.path] { return cached }
        let includes = MakefileIncludes(directory: dir, treeRoot: tree.root)
        includeCache[dir.path] = includes
        return includes
    }

    /// The include directories the arch's own Makefile adds, read once.
    func archIncludes(_ arch: String) -> [String] {
        lock.lock()
        defer { lock.unlock() }
        if let known = archIncludeCache[arch] { return known }
        let found = MakefileIncludes(arch: arch, treeRoot: tree.root).directories
        archIncludeCache[arch] = found
        return found
    }

    /// The prelude of a header parsed as the main file (docs/robustness.md,
    /// "Parse fidelity"): the beginning of the includer found by
    /// `HeaderIncluders.bestIncluder`, after that includer's own prelude
    /// when it is a header too. Empty when nothing includes it. The choice
    /// is kept for the workspace's lifetime.
    public func prelude(forHeader file: URL, arch: String) -> HeaderPrelude {
        guard let relative = tree.relativePath(of: file.standardizedFileURL) else { return HeaderPrelude(parts: [], guardMacro: nil) }
        lock.lock()
        if let known = preludeCache[relative + "|" + arch] { lock.unlock(); return known }
        lock.unlock()
        var parts: [HeaderPrelude.Part] = []
        var requirements: [String: Bool] = [:]
        var current = relative
        var seen: Set<String> = [relative]
        let root = tree.root.standardizedFileURL.path
        for _ in 0..<HeaderPrelude.maximumDepth {
            guard let found = HeaderIncluders.bestIncluder(of: current, treeRoot: root, arch: arch, extraRoots: { includer in
                self.makefileIncludes(for: URL(fileURLWithPath: root + "/" + includer)).compactMap { self.tree.relativePath(of: URL(fileURLWithPath: $0)) }
            }), seen.insert(found.path).inserted else { break }
            let source = root + "/" + found.path
            let directory = (source as NSString).deletingLastPathComponent
            let name = ".kpolicy-prelude-\((found.path as NSString).lastPathComponent)"
            parts.insert(HeaderPrelude.Part(source: source, path: directory + "/" + name,
                                            text: HeaderIncluders.beginning(of: found.text, beforeLine: found.line)), at: 0)
            requirements.merge(HeaderIncluders.requirements(of: found.text, beforeLine: found.line)) { inner, _ in inner }
            guard found.path.hasSuffix(".h") else { break }
            current = found.path
        }
        // The includers' beginnings often include the header themselves
        // (through linux/mm.h and the like), and its guard would then hide
        // its body from the parse: the guard is defined over the prelude.
        var guardMacro: String?
        if !parts.isEmpty, case .success(let data) = SourceFile.read(file.path),
           let name = HeaderIncluders.includeGuard(in: [UInt8](data)) {
            guardMacro = name
            parts[0].text = "#define \(name)\n" + parts[0].text
            parts[parts.count - 1].text += "#undef \(name)\n"
        }
        var prelude = HeaderPrelude(parts: parts, guardMacro: guardMacro)
        prelude.requirements = requirements
        lock.lock()
        preludeCache[relative + "|" + arch] = prelude
        lock.unlock()
        return prelude
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


    /// For a file outside arch/ that includes `asm/<header>` the parse arch
    /// lacks: the arch that has it, which is where the file is built (Kbuild
    /// compiles drivers/misc/sram-exec.c only on 32-bit Arm, the one arch
    /// with asm/fncpy.h). 64-bit arches are preferred.
    public func archProviding(asmHeader header: String) -> String? {
        let preference = ["x86", "arm64", "riscv", "powerpc", "s390", "arm", "loongarch", "mips"]
        let candidates = tree.arches.filter {
            FileManager.default.fileExists(atPath: tree.root.appendingPathComponent("arch/\($0)/include/\(header)").path)
        }
        return candidates.min { (preference.firstIndex(of: $0) ?? 99, $0) < (preference.firstIndex(of: $1) ?? 99, $1) }
    }

    /// The clang target for an arch directory name (x86-64 for one
    /// without a target of its own in `Architecture.all`).
    package static func targetTriple(arch: String) -> String {
        Architecture.all[arch]?.triple ?? "x86_64-linux-gnu"
    }

    /// Per-arch flags the arch Makefiles set that change what headers see.
    package static func archFlags(_ arch: String) -> [String] {
        Architecture.all[arch]?.flags ?? []
    }

    /// Include directories an arch's Makefile computes from its
    /// configuration (with patsubst, which kpolicy does not evaluate), for
    /// the configuration kpolicy gives the arch (DefaultConfig.otherArch).
    static func archConfigurationIncludes(_ arch: String, src: String) -> [String] {
        switch arch {
        case "xtensa": return ["-I\(src)/arch/xtensa/variants/fsf/include", "-I\(src)/arch/xtensa/platforms/iss/include"]
        case "sh": return ["-I\(src)/arch/sh/include/cpu-sh4", "-I\(src)/arch/sh/include/mach-common"]
        default: return []
        }
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
