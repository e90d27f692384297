import Foundation
import KPolicyFiles
import PatchInput
import KPolicyCache

/// The headers Kbuild generates before compiling anything, recreated for an
/// unbuilt tree in a cache directory (never in the tree itself).
///
/// Kbuild writes, under the object tree:
/// - `arch/<a>/include/generated/asm/X.h` containing `#include <asm-generic/X.h>`
///   for every `generic-y` of arch/<a>/include/asm/Kbuild and every
///   `mandatory-y` of include/asm-generic/Kbuild the arch does not provide
///   itself (scripts/Makefile.asm-generic, Makefile.asm-headers in 6.12);
///   the same for uapi under `generated/uapi/asm`;
/// - `generated-y` headers (syscall tables and numbers, xen hypercalls...);
/// - include/generated/autoconf.h from the configuration, and bounds.h,
///   timeconst.h, utsrelease.h, uapi/linux/version.h.
///
/// The syscall numbers are produced from the arch's syscall tables where
/// the table is in a known place; the remaining generated-y files become
/// empty stubs. A file the parser later finds missing under `generated/` or
/// `asm/` is stubbed on demand (`stub(include:)`).
public struct GeneratedHeaders: Sendable {
    /// The overlay's root: it mirrors the layout of a kernel object tree.
    public let root: URL
    public let arch: String
    /// Where the configuration came from: "autoconf.h", ".config" or "default".
    public let configurationSource: String
    /// The source tree (read only), for headers made on demand.
    let sourceRoot: URL

    /// Builds (once) and returns the overlay for `tree` and `arch` below `cacheRoot`.
    /// `kconfig`: the tree's Kconfig index for `arch` and a hash of it
    /// when the caller has them (`Workspace.kconfigDigest`); read here
    /// otherwise, only for a tree without its own configuration.
    public static func overlay(for tree: KernelTree, arch: String, cacheRoot: URL,
                               kconfig: (index: KconfigIndex, digest: String)? = nil) throws -> GeneratedHeaders {
        let fm = FileManager.default
        // The default configuration is made from the Kconfig files: an
        // overlay made while one was missing or different is not the one
        // for the files there now.
        var known = kconfig
        if configurationSourceName(tree) == "default", known == nil {
            let index = KconfigIndex(tree: tree, arch: arch)
            known = (index, ContentHash.of(index.serialized()))
        }
        let index = known?.index
        let kconfigStamp = known?.digest ?? "-"
        let key = stableHash("\(tree.root.path)|\(tree.version)|\(arch)|\(formatVersion)|\(configurationStamp(tree))|\(DefaultConfig.autoconf(arch: arch))|\(kconfigStamp)")
        let root = cacheRoot.appendingPathComponent("overlay-\(arch)-\(tree.version)-\(key)")
        let marker = root.appendingPathComponent(".complete")
        let source = configurationSourceName(tree)
        if fm.fileExists(atPath: marker.path) {
            if verify(root) {
                // The marker's mtime says when the overlay was last used (for `evict`).
                try? fm.setAttributes([.modificationDate: Date()], ofItemAtPath: marker.path)
                return GeneratedHeaders(root: root, arch: arch, configurationSource: source, sourceRoot: tree.root)
            }
            // Emptied, edited or half-deleted: set it aside and build it again.
            let damaged = cacheRoot.appendingPathComponent(".damaged-\(UUID().uuidString)")
            if (try? fm.moveItem(at: root, to: damaged)) != nil { try? fm.removeItem(at: damaged) }
        }
        try fm.createDirectory(at: cacheRoot, withIntermediateDirectories: true)
        let scratch = cacheRoot.appendingPathComponent(".tmp-\(UUID().uuidString)")
        defer { try? fm.removeItem(at: scratch) }
        let files = try populate(scratch, tree: tree, arch: arch, kconfig: index)
        try Data(completionMarker(files).utf8).write(to: scratch.appendingPathComponent(".complete"))
        // Another process may have finished first; either copy is equivalent.
        if !fm.fileExists(atPath: marker.path) {
            try? fm.removeItem(at: root)
            do { try fm.moveItem(at: scratch, to: root) } catch {
                if !fm.fileExists(atPath: marker.path) { throw error }
            }
        }
        return GeneratedHeaders(root: root, arch: arch, configurationSource: source, sourceRoot: tree.root)
    }

    /// Removes derived directories of the cache (`overlay-*`, `pch-*`) not
    /// used for `maxAge`, and beyond the `keep` most recently used those
    /// not used for an hour (a run still using one touched it when it
    /// started); leftovers of interrupted builds (`.tmp-*`, `.damaged-*`)
    /// an hour old. Each is renamed away first, so no run sees half of one.
    public static func evict(cacheRoot: URL, keep: Int = 24, maxAge: TimeInterval = 14 * 86400, now: Date = Date()) {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: cacheRoot.path) else { return }
        func lastUse(_ dir: URL) -> Date {
            let marker = dir.appendingPathComponent(".complete").path
            let attributes = (try? fm.attributesOfItem(atPath: marker)) ?? (try? fm.attributesOfItem(atPath: dir.path))
            return attributes?[.modificationDate] as? Date ?? .distantPast
        }
        func remove(_ dir: URL) {
            let trash = cacheRoot.appendingPathComponent(".damaged-\(UUID().uuidString)")
            if (try? fm.moveItem(at: dir, to: trash)) != nil { try? fm.removeItem(at: trash) }
        }
        var derived: [(URL, Date)] = []
        for name in names {
            let url = cacheRoot.appendingPathComponent(name)
            if name.hasPrefix(".tmp-") || name.hasPrefix(".damaged-") {
                if now.timeIntervalSince(lastUse(url)) > 3600 { try? fm.removeItem(at: url) }
            } else if name.hasPrefix("overlay-") || name.hasPrefix("pch-") {
                derived.append((url, lastUse(url)))
            }
        }
        derived.sort { $0.1 > $1.1 }
        for (i, (url, used)) in derived.enumerated() {
            let age = now.timeIntervalSince(used)
            if age > maxAge || (i >= keep && age > 3600) { remove(url) }
        }
    }

    /// Bump when the overlay's contents change, so old caches are not reused.
    static let formatVersion = 17

    static let markerHeader = "kpolicy-overlay-files 1"

    /// The completion marker: every file the overlay was built with and a
    /// hash of its content, one `<hash> <path>` a line.
    static func completionMarker(_ files: [String: String]) -> String {
        ([markerHeader] + files.keys.sorted().map { "\(stableHash(files[$0]!)) \($0)" }).joined(separator: "\n") + "\n"
    }

    /// Whether every file the marker lists is there with the content it was
    /// written with. Headers stubbed on demand later are not listed: they
    /// only add to the overlay.
    static func verify(_ root: URL) -> Bool {
        guard let data = FileManager.default.contents(atPath: root.appendingPathComponent(".complete").path) else { return false }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n")
        guard lines.first == Substring(markerHeader), lines.count > 1 else { return false }
        for line in lines.dropFirst() {
            guard let space = line.firstIndex(of: " ") else { return false }
            let path = String(line[line.index(after: space)...])
            guard !path.contains(".."), let content = FileManager.default.contents(atPath: root.appendingPathComponent(path).path),
                  stableHash(String(decoding: content, as: UTF8.self)) == line[..<space] else { return false }
        }
        return true
    }

    /// Writes an empty header for an include the parser could not find, if it
    /// is one Kbuild would have generated. Returns whether the stub is there
    /// now: written here, or by another worker between that parse and this
    /// call (two files of one driver parsed at once both miss it; the
    /// second must parse again too, not keep its error).
    public func stub(include name: String) -> Bool {
        let relative: String
        if name.hasPrefix("generated/") {
            relative = "include/" + name
        } else if name.hasPrefix("asm/") {
            relative = "arch/\(arch)/include/generated/" + name
        } else {
            return false
        }
        guard !name.contains("..") else { return false }
        let url = root.appendingPathComponent(relative)
        if FileManager.default.fileExists(atPath: url.path) { return true }
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(UUID().uuidString)")
        let text = GeneratedHeaders.recipe(for: name, sourceRoot: sourceRoot) ?? "/* kpolicy: empty stand-in for a generated header */\n"
        do {
            try Data(text.utf8).write(to: tmp)
            try FileManager.default.moveItem(at: tmp, to: url)
        } catch {
            try? FileManager.default.removeItem(at: tmp)
        }
        return true
    }

    /// Generated headers whose contents matter to the parse, made the way
    /// their build-time generator would; nil for the others (an empty
    /// stand-in is enough). xe's `generated/<stem>_wa_oob.h` numbers the
    /// workarounds of drivers/gpu/drm/xe/<stem>_wa_oob.rules as
    /// xe_gen_wa_oob.c does, with the header's upper-cased name as prefix:
    /// `xe_wa_oob.h` gives XE_WA_OOB_* (6.8 on), `xe_device_wa_oob.h`
    /// XE_DEVICE_WA_OOB_* (7.x). Without them every XE_WA() or
    /// XE_DEVICE_WA() use is an undeclared identifier.
    static func recipe(for name: String, sourceRoot: URL) -> String? {
        let prefix = "generated/", suffix = "_wa_oob.h"
        guard name.hasPrefix(prefix), name.hasSuffix(suffix) else { return nil }
        let header = String(name.dropFirst(prefix.count))
        let stem = String(header.dropLast(2))
        guard !stem.contains("/"),
              let rules = try? String(contentsOf: sourceRoot.appendingPathComponent("drivers/gpu/drm/xe/\(stem).rules"), encoding: .utf8)
        else { return nil }
        let symbol = stem.uppercased()
        var out = "/* kpolicy: made from drivers/gpu/drm/xe/\(stem).rules as xe_gen_wa_oob numbers them */\n"
        out += "#ifndef _GENERATED_\(symbol)_\n#define _GENERATED_\(symbol)_\nenum {\n"
        var index = 0
        for line in rules.split(separator: "\n") {
            guard let first = line.first, first != "#", !first.isWhitespace else { continue }
            let name = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).first.map(String.init) ?? ""
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else { continue }
            out += "\t\(symbol)_\(name) = \(index),\n"
            index += 1
        }
        return out + "\t_\(symbol)_COUNT = \(index)\n};\n#endif\n"
    }

    // MARK: - Building the overlay

    static func configurationSourceName(_ tree: KernelTree) -> String {
        let fm = FileManager.default
        if fm.fileExists(atPath: tree.root.appendingPathComponent("include/generated/autoconf.h").path) { return "autoconf.h" }
        if fm.fileExists(atPath: tree.root.appendingPathComponent(".config").path) { return ".config" }
        return "default"
    }

    /// Changes when the tree's own configuration (include/generated/autoconf.h
    /// or .config) appears, changes or goes away.
    static func configurationStamp(_ tree: KernelTree) -> String {
        ["include/generated/autoconf.h", ".config"].map { relative -> String in
            let path = tree.root.appendingPathComponent(relative).path
            guard let attrs = try? FileManager.default.attributesOfItem(atPath: path),
                  let date = attrs[.modificationDate] as? Date else { return "-" }
            return "\(date.timeIntervalSince1970):\((attrs[.size] as? NSNumber)?.int64Value ?? -1)"
        }.joined(separator: "|")
    }

    /// Writes the overlay below `root`; returns its files (path → content).
    static func populate(_ root: URL, tree: KernelTree, arch: String, kconfig: KconfigIndex?) throws -> [String: String] {
        var files: [String: String] = [:]
        let src = tree.root
        // asm-generic wrappers and generated-y stubs, kernel and uapi.
        for (archDir, genericKbuild, outDir) in [
            ("arch/\(arch)/include/asm", "include/asm-generic/Kbuild", "arch/\(arch)/include/generated/asm"),
            ("arch/\(arch)/include/uapi/asm", "include/uapi/asm-generic/Kbuild", "arch/\(arch)/include/generated/uapi/asm"),
        ] {
            let archLists = KbuildLists(file: src.appendingPathComponent(archDir + "/Kbuild"))
            let generic = KbuildLists(file: src.appendingPathComponent(genericKbuild))
            var wrap = archLists.genericY
            for header in generic.mandatoryY where !archLists.generatedY.contains(header) {
                if !FileManager.default.fileExists(atPath: src.appendingPathComponent("\(archDir)/\(header)").path) {
                    wrap.append(header)
                }
            }
            for header in wrap {
                let stem = header.hasSuffix(".h") ? String(header.dropLast(2)) : header
                files["\(outDir)/\(header)"] = "#include <asm-generic/\(stem).h>\n"
            }
            for header in archLists.generatedY + archLists.syscallY {
                files["\(outDir)/\(header)"] = "/* kpolicy: empty stand-in for a generated header */\n"
            }
        }
        for (path, text) in SyscallHeaders.headers(tree: tree, arch: arch) {
            files[path] = text
        }
        for (path, text) in ArchTools.headers(tree: tree, arch: arch) {
            files[path] = text
        }
        files["include/generated/autoconf.h"] = try configurationHeader(tree: tree, arch: arch, kconfig: kconfig)
        files["include/generated/bounds.h"] = """
            #define NR_PAGEFLAGS 24
            #define MAX_NR_ZONES 4
            #define NR_CPUS_BITS 6
            #define SPINLOCK_SIZE 4
            #define LRU_GEN_WIDTH 0
            #define __LRU_REFS_WIDTH 0
            #define LRU_REFS_WIDTH 0

            """
        files["include/generated/timeconst.h"] = """
            #define HZ_TO_MSEC_MUL32 0x80000000
            #define HZ_TO_MSEC_SHR32 29
            #define HZ_TO_MSEC_NUM 4
            #define HZ_TO_MSEC_DEN 1
            #define MSEC_TO_HZ_MUL32 0x80000000
            #define MSEC_TO_HZ_ADJ32 0x180000000
            #define MSEC_TO_HZ_SHR32 33
            #define MSEC_TO_HZ_NUM 1
            #define MSEC_TO_HZ_DEN 4
            #define HZ_TO_USEC_NUM 4000
            #define HZ_TO_USEC_DEN 1
            #define USEC_TO_HZ_MUL32 0x83126e98
            #define USEC_TO_HZ_ADJ32 0x7ff7ced9168
            #define USEC_TO_HZ_SHR32 43
            #define USEC_TO_HZ_NUM 1
            #define USEC_TO_HZ_DEN 4000

            """
        let v = tree.version
        files["include/generated/utsrelease.h"] = "#define UTS_RELEASE \"\(v)\"\n"
        files["include/generated/compile.h"] = "#define UTS_MACHINE \"\(arch)\"\n#define UTS_VERSION \"#1\"\n"
        files["include/generated/uapi/linux/version.h"] = """
            #define LINUX_VERSION_CODE \(v.version << 16 + v.patchlevel << 8 + min(v.sublevel, 255))
            #define KERNEL_VERSION(a,b,c) (((a) << 16) + ((b) << 8) + ((c) > 255 ? 255 : (c)))
            #define LINUX_VERSION_MAJOR \(v.version)
            #define LINUX_VERSION_PATCHLEVEL \(v.patchlevel)
            #define LINUX_VERSION_SUBLEVEL \(v.sublevel)

            """
        for name in ["asm-offsets.h", "rq-offsets.h", "randstruct_hash.h", "rustc_cfg"] {
            files["include/generated/\(name)"] = "/* kpolicy: empty stand-in for a generated header */\n"
        }
        let fm = FileManager.default
        for (path, text) in files {
            let url = root.appendingPathComponent(path)
            try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        }
        return files
    }

    /// autoconf.h: the tree's own, else one made from its .config, else the default.
    static func configurationHeader(tree: KernelTree, arch: String, kconfig: KconfigIndex?) throws -> String {
        let own = tree.root.appendingPathComponent("include/generated/autoconf.h")
        if let text = try? String(contentsOf: own, encoding: .utf8) { return text }
        let config = tree.root.appendingPathComponent(".config")
        if FileManager.default.fileExists(atPath: config.path) {
            guard let text = try? String(contentsOf: config, encoding: .utf8) else {
                throw KPolicyError.unreadableFile(path: config.path, reason: "not UTF-8 text")
            }
            return autoconf(fromDotConfig: text)
        }
        return DefaultConfig.autoconf(arch: arch, tree: tree, kconfig: kconfig ?? KconfigIndex(tree: tree, arch: arch))
    }

    /// Turns .config lines into autoconf.h defines the way Kconfig does:
    /// `=y` → 1, `=m` → `CONFIG_X_MODULE 1`, numbers and strings verbatim.
    public static func autoconf(fromDotConfig text: String) -> String {
        var lines = ["/* kpolicy: made from the tree's .config */"]
        for line in text.split(separator: "\n") where line.hasPrefix("CONFIG_") {
            let parts = line.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let name = parts[0], value = parts[1]
            switch value {
            case "y": lines.append("#define \(name) 1")
            case "m": lines.append("#define \(name)_MODULE 1")
            case "n": continue
            default: lines.append("#define \(name) \(value)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// The header lists of one Kbuild file.
struct KbuildLists {
    var genericY: [String] = []
    var mandatoryY: [String] = []
    var generatedY: [String] = []
    var syscallY: [String] = []

    init(file: URL) {
        guard let makefile = KbuildMakefile(contentsOf: file) else { return }
        for line in makefile.lines {
            guard let assignment = KbuildMakefile.assignment(line), assignment.op == .append else { continue }
            let names = KbuildMakefile.words(assignment.value).filter { $0.hasSuffix(".h") }
            switch assignment.name {
            case "generic-y": genericY += names
            case "mandatory-y": mandatoryY += names
            case "generated-y": generatedY += names
            case "syscall-y": syscallY += names
            default: break
            }
        }
    }
}

/// `__NR_*` numbers from an architecture's syscall table.
enum SyscallHeaders {
    /// (overlay-relative path, contents) for the syscall headers we can derive.
    static func headers(tree: KernelTree, arch: String) -> [(String, String)] {
        let out = "arch/\(arch)/include/generated/uapi/asm"
        switch arch {
        case "x86":
            return [
                ("\(out)/unistd_64.h", defines(table: tree.root.appendingPathComponent("arch/x86/entry/syscalls/syscall_64.tbl"), abis: ["common", "64"], guardName: "_ASM_UNISTD_64_H")),
                ("\(out)/unistd_32.h", defines(table: tree.root.appendingPathComponent("arch/x86/entry/syscalls/syscall_32.tbl"), abis: ["i386"], guardName: "_ASM_UNISTD_32_H")),
            ]
        case "arm64", "riscv":
            let table = tree.root.appendingPathComponent("scripts/syscall.tbl")
            guard FileManager.default.fileExists(atPath: table.path) else { return [] }
            return [("\(out)/unistd_64.h", defines(table: table, abis: Set(["common", "64"]).union(extraABIs(tree: tree, arch: arch)), guardName: "_ASM_UNISTD_64_H"))]
        default:
            return []
        }
    }

    /// The ABIs an arch adds to the 64-bit table's (6.12
    /// arch/<arch>/kernel/Makefile.syscalls: `syscall_abis_64 += rlimit
    /// memfd_secret ...`).
    static func extraABIs(tree: KernelTree, arch: String) -> Set<String> {
        guard let makefile = KbuildMakefile(contentsOf: tree.root.appendingPathComponent("arch/\(arch)/kernel/Makefile.syscalls")) else { return [] }
        return Set(MakefileIncludes.flagWords(makefile, variables: [:], prefixes: ["syscall_abis_64"]))
    }

    /// As scripts/syscallhdr.sh --emit-nr writes them (both Makefiles pass
    /// it): the numbers, then `__NR_syscalls`, one past the highest, for
    /// the kernel (NR_syscalls in asm/unistd.h is defined from it).
    static func defines(table: URL, abis: Set<String>, guardName: String) -> String {
        var lines = ["#ifndef \(guardName)", "#define \(guardName)"]
        var highest = -1
        if let text = try? String(contentsOf: table, encoding: .utf8) {
            for line in text.split(separator: "\n") where !line.hasPrefix("#") {
                let f = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
                guard f.count >= 3, let nr = Int(f[0]), abis.contains(String(f[1])) else { continue }
                lines.append("#define __NR_\(f[2]) \(nr)")
                highest = max(highest, nr)
            }
        }
        if highest >= 0 { lines += ["#ifdef __KERNEL__", "#define __NR_syscalls \(highest + 1)", "#endif"] }
        lines.append("#endif")
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Headers arch Makefiles generate with awk scripts kept in the tree
/// (arm64: cpucap-defs.h from arch/arm64/tools/cpucaps, sysreg-defs.h from
/// arch/arm64/tools/sysreg; x86 on 7.x: cpufeaturemasks.h from
/// asm/cpufeatures.h and the .config). The scripts are the tree's own; they
/// are run with the system awk, reading the tree and writing only to the
/// overlay.
enum ArchTools {
    /// (name prefix of a generated-y header, awk script, inputs) per arch:
    /// the header is cpucaps.h in 6.1 and cpucap-defs.h in 6.12. An input
    /// outside the tree (/dev/null) is read as it is: x86's masks are made
    /// with an empty .config, so no feature is compile-time required or
    /// disabled (the X86_{REQUIRED,DISABLED}_FEATURE_* options are not in
    /// kpolicy's configuration) and cpu_feature_enabled() stays a run-time
    /// question; without the header every use of it is an undeclared
    /// DISABLED_MASK_BIT_SET().
    static let generators: [String: [(prefix: String, script: String, inputs: [String])]] = [
        "arm64": [
            ("cpucap", "arch/arm64/tools/gen-cpucaps.awk", ["arch/arm64/tools/cpucaps"]),
            ("sysreg", "arch/arm64/tools/gen-sysreg.awk", ["arch/arm64/tools/sysreg"]),
        ],
        "x86": [
            ("cpufeaturemasks", "arch/x86/tools/cpufeaturemasks.awk", ["arch/x86/include/asm/cpufeatures.h", "/dev/null"]),
        ],
    ]

    static func headers(tree: KernelTree, arch: String) -> [(String, String)] {
        let generated = KbuildLists(file: tree.root.appendingPathComponent("arch/\(arch)/include/asm/Kbuild")).generatedY
        return (generators[arch] ?? []).flatMap { gen -> [(String, String)] in
            let script = tree.root.appendingPathComponent(gen.script).path
            let inputs = gen.inputs.map { $0.hasPrefix("/") ? $0 : tree.root.appendingPathComponent($0).path }
            guard generated.contains(where: { $0.hasPrefix(gen.prefix) }),
                  FileManager.default.fileExists(atPath: script), inputs.allSatisfy(FileManager.default.fileExists(atPath:)),
                  let text = runAwk(script: script, inputs: inputs) else { return [] }
            return generated.filter { $0.hasPrefix(gen.prefix) }.map { ("arch/\(arch)/include/generated/asm/\($0)", text) }
        }
    }

    static func runAwk(script: String, inputs: [String]) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/awk")
        process.arguments = ["-f", script] + inputs
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = try? InputSource.read(fileDescriptor: out.fileHandleForReading.fileDescriptor, source: "awk -f \(script)")
        if data == nil { process.terminate() }
        process.waitUntilExit()
        guard process.terminationStatus == 0, let data else { return nil }
        return String(decoding: data, as: UTF8.self)
    }
}

/// FNV-1a, for cache directory names that stay the same across runs.
func stableHash(_ text: String) -> String { String(FNV1a.hash(text), radix: 16) }
