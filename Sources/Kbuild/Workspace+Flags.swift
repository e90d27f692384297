import Foundation
import KPolicyFiles

/// The flags a file is parsed with beyond its options: the `-I` and `-D`
/// its Makefiles add, the arch's include directories and target, and a
/// header's prelude (the beginning of one includer).
extension Workspace {
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
}
