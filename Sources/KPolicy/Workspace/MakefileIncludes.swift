import Foundation

/// The `-I` directories a directory's Makefile/Kbuild adds through
/// `ccflags-y` / `subdir-ccflags-y` (drivers/gpu/drm/i915 adds `$(src)`,
/// nouveau its include/ and nvkm/ trees). Kbuild applies an ancestor's flags
/// to the objects it lists from subdirectories, so a file gets those of
/// every directory above it.
struct MakefileIncludes {
    /// Absolute include directories, in Makefile order.
    let directories: [String]

    init(directory: URL, treeRoot: URL) {
        var found: [String] = []
        let root = treeRoot.standardizedFileURL.path
        let relative = directory.standardizedFileURL.path == root ? "" : String(directory.standardizedFileURL.path.dropFirst(root.count + 1))
        for name in ["Makefile", "Kbuild"] {
            guard let text = try? String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8) else { continue }
            MakefileIncludes.scan(text, root: root, variables: ["srctree": root, "src": relative, "obj": relative],
                                  prefixes: ["ccflags-y", "subdir-ccflags-y", "ccflags-$(CONFIG_", "subdir-ccflags-$(CONFIG_"], into: &found)
        }
        directories = found
    }

    /// The `-I` directories an arch's top Makefile adds for every file built
    /// for it (powerpc's `KBUILD_CPPFLAGS += -I $(srctree)/arch/powerpc`,
    /// which `#include <mm/mmu_decl.h>` relies on).
    init(arch: String, treeRoot: URL) {
        var found: [String] = []
        let root = treeRoot.standardizedFileURL.path
        if let text = try? String(contentsOf: treeRoot.appendingPathComponent("arch/\(arch)/Makefile"), encoding: .utf8) {
            MakefileIncludes.scan(text, root: root, variables: ["srctree": root, "ARCH": arch, "SRCARCH": arch, "src": "arch/\(arch)"],
                                  prefixes: ["KBUILD_CPPFLAGS", "KBUILD_CFLAGS", "LINUXINCLUDE", "cflags-y"], into: &found)
        }
        directories = found
    }

    /// The `-I` words of the assignments to `prefixes`, with simple
    /// variables of the file and `variables` expanded; words that still
    /// hold an unknown `$(...)` are skipped.
    static func scan(_ text: String, root: String, variables given: [String: String], prefixes: [String], into found: inout [String]) {
        var variables = given
        let lines = text.replacingOccurrences(of: "\\\n", with: " ").split(separator: "\n")
        // Simple variables first (NOUVEAU_PATH ?= $(srctree)).
        for line in lines {
            let parts = line.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let name = parts[0].trimmingCharacters(in: CharacterSet(charactersIn: " \t?:+"))
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }), variables[name] == nil else { continue }
            if let value = MakefileIncludes.expand(parts[1].trimmingCharacters(in: .whitespaces), variables), !value.contains("$") {
                variables[name] = value
            }
        }
        for line in lines {
            let l = line.trimmingCharacters(in: .whitespaces)
            guard prefixes.contains(where: { l.hasPrefix($0) }), let eq = l.firstIndex(of: "=") else { continue }
            let words = l[l.index(after: eq)...].split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            var i = 0
            while i < words.count {
                var path: String?
                if words[i] == "-I", i + 1 < words.count { path = words[i + 1]; i += 1 }
                else if words[i].hasPrefix("-I") { path = String(words[i].dropFirst(2)) }
                i += 1
                guard let raw = path, let expanded = MakefileIncludes.expand(raw, variables), !expanded.contains("$") else { continue }
                let absolute = expanded.hasPrefix("/") ? expanded : root + "/" + expanded
                let normalized = URL(fileURLWithPath: absolute).standardizedFileURL.path
                if normalized.hasPrefix(root), !found.contains(normalized) { found.append(normalized) }
            }
        }
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
