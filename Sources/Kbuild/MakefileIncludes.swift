import Foundation
import KPolicyFiles
import PatchInput

/// The `-I` directories and `-D` macros a directory's Makefile/Kbuild adds
/// through `ccflags-y` / `subdir-ccflags-y` (drivers/gpu/drm/i915 adds
/// `$(src)` and `-DI915`, nouveau its include/ and nvkm/ trees, xe the i915
/// display compat `-Ddrm_i915_private=xe_device`, atomisp a long
/// `INCLUDES += -I$(atomisp)/...` variable). Kbuild applies an ancestor's
/// flags to the objects it lists from subdirectories, so a file gets the
/// `-I`s of every directory above it.
struct MakefileIncludes {
    /// Absolute include directories, in Makefile order.
    let directories: [String]
    /// `-D` words of `ccflags-*` (the objects this Makefile lists).
    let defines: [String]
    /// `-D` words of `subdir-ccflags-*` (every object below it too).
    let subdirectoryDefines: [String]

    init(directory: URL, treeRoot: URL) {
        var found: [String] = []
        var defines: [String] = [], subdirectoryDefines: [String] = []
        let root = treeRoot.standardizedFileURL.path
        let relative = directory.standardizedFileURL.path == root ? "" : String(directory.standardizedFileURL.path.dropFirst(root.count + 1))
        for name in KbuildMakefile.names {
            guard let makefile = KbuildMakefile(contentsOf: directory.appendingPathComponent(name)) else { continue }
            let variables = ["srctree": root, "src": relative, "obj": relative]
            MakefileIncludes.scan(makefile, root: root, variables: variables,
                                  prefixes: ["ccflags-y", "subdir-ccflags-y", "ccflags-$(CONFIG_", "subdir-ccflags-$(CONFIG_"], into: &found)
            defines += MakefileIncludes.defines(makefile, variables: variables, prefixes: ["ccflags-y", "ccflags-$(CONFIG_"])
            subdirectoryDefines += MakefileIncludes.defines(makefile, variables: variables, prefixes: ["subdir-ccflags-y", "subdir-ccflags-$(CONFIG_"])
        }
        directories = found
        self.defines = defines
        self.subdirectoryDefines = subdirectoryDefines
    }

    /// The `-I` directories an arch's top Makefile adds for every file built
    /// for it (powerpc's `KBUILD_CPPFLAGS += -I $(srctree)/arch/powerpc`,
    /// which `#include <mm/mmu_decl.h>` relies on).
    init(arch: String, treeRoot: URL) {
        var found: [String] = []
        let root = treeRoot.standardizedFileURL.path
        if let makefile = KbuildMakefile(contentsOf: treeRoot.appendingPathComponent("arch/\(arch)/Makefile")) {
            MakefileIncludes.scan(makefile, root: root, variables: ["srctree": root, "ARCH": arch, "SRCARCH": arch, "src": "arch/\(arch)"],
                                  prefixes: ["KBUILD_CPPFLAGS", "KBUILD_CFLAGS", "LINUXINCLUDE", "cflags-y"], into: &found)
        }
        directories = found
        defines = []
        subdirectoryDefines = []
    }

    /// The `-I` words of the assignments to `prefixes`, with the file's
    /// variables and `variables` expanded (`INCLUDES += -I$(atomisp)/pci`
    /// then `ccflags-y += $(INCLUDES)`); words that still hold an unknown
    /// `$(...)` are skipped.
    static func scan(_ makefile: KbuildMakefile, root: String, variables given: [String: String], prefixes: [String], into found: inout [String]) {
        for word in flagWords(makefile, variables: given, prefixes: prefixes) {
            guard let raw = word.hasPrefix("-I") ? String(word.dropFirst(2)) : nil, !raw.isEmpty, !raw.contains("$") else { continue }
            let absolute = raw.hasPrefix("/") ? raw : root + "/" + raw
            let normalized = URL(fileURLWithPath: absolute).standardizedFileURL.path
            if normalized.hasPrefix(root), !found.contains(normalized) { found.append(normalized) }
        }
    }

    /// The `-DNAME` / `-DNAME=VALUE` words of the assignments to
    /// `prefixes`; values the shell would have to unquote or that still
    /// hold a Make reference are skipped.
    static func defines(_ makefile: KbuildMakefile, variables: [String: String], prefixes: [String]) -> [String] {
        flagWords(makefile, variables: variables, prefixes: prefixes).filter { word in
            guard word.hasPrefix("-D"), word.count > 2 else { return false }
            let name = word.dropFirst(2).prefix { $0 != "=" }
            return !name.isEmpty && name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" }
                && !word.contains { "$()'\"\\`".contains($0) }
        }
    }

    /// The words assigned to `prefixes` (`-I dir` joined into `-Idir`),
    /// with Make variables expanded: the file's own (`=`, `:=`, `?=` set,
    /// `+=` appends, whatever conditional they sit in) and `variables`.
    static func flagWords(_ makefile: KbuildMakefile, variables given: [String: String], prefixes: [String]) -> [String] {
        var raw: [String: String] = [:]
        for line in makefile.lines {
            guard let assignment = KbuildMakefile.assignment(line), KbuildMakefile.isVariableName(assignment.name, dashes: false),
                  given[assignment.name] == nil else { continue }
            let name = assignment.name
            let value = assignment.value.trimmingCharacters(in: .whitespaces)
            switch assignment.op {
            case .append: raw[name] = (raw[name].map { $0 + " " } ?? "") + value
            case .conditional: if raw[name] == nil { raw[name] = value }
            case .set, .immediate: raw[name] = value
            }
        }
        var words: [String] = []
        for line in makefile.lines {
            let l = line.trimmingCharacters(in: .whitespaces)
            guard prefixes.contains(where: { l.hasPrefix($0) }), let assignment = KbuildMakefile.assignment(l[...]) else { continue }
            let split = expandAll(String(assignment.value), given, raw, depth: 0)
                .split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            var i = 0
            while i < split.count {
                if (split[i] == "-I" || split[i] == "-D"), i + 1 < split.count {
                    words.append(split[i] + split[i + 1])
                    i += 2
                    continue
                }
                words.append(split[i].replacingOccurrences(of: "//", with: "/"))
                i += 1
            }
        }
        return words
    }

    /// `$(name)` replaced from `given`, then from the file's `raw`
    /// variables (themselves expanded, eight levels at most); an unknown
    /// reference is left as written.
    static func expandAll(_ text: String, _ given: [String: String], _ raw: [String: String], depth: Int) -> String {
        var out = ""
        var rest = text[...]
        while let open = rest.range(of: "$(") {
            out += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].firstIndex(of: ")") else { break }
            let name = String(rest[open.upperBound..<close])
            if let value = given[name] {
                out += value
            } else if let value = raw[name], depth < 8 {
                out += expandAll(value, given, raw, depth: depth + 1)
            } else {
                out += rest[open.lowerBound...close]
            }
            rest = rest[rest.index(after: close)...]
        }
        return out + rest
    }

    /// `$(name)` replaced from `variables`; nil when one is unknown.
    static func expand(_ text: String, _ variables: [String: String]) -> String? {
        var out = ""
        var rest = text[...]
        while let open = rest.range(of: "$(") {
            out += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].firstIndex(of: ")") else { return nil }
            guard let value = variables[String(rest[open.upperBound..<close])] else { return nil }
            out += value
            rest = rest[rest.index(after: close)...]
        }
        return (out + rest).replacingOccurrences(of: "//", with: "/")
    }
}
