import Foundation
import KernelModel
import KPolicyFiles
import PatchInput

/// A Linux kernel source tree on disk: read, never written.
public struct KernelTree: Sendable {
    /// Absolute, standardized path of the tree's top directory.
    public let root: URL

    /// The error for a path of the tree (absolute, standardized) whose
    /// symbolic links lead outside the tree, or nil when it stays inside
    /// (or does not exist): what is outside is never read as the tree's.
    public func escapeError(_ path: String, name: String) -> KPolicyError? {
        let realRoot = root.resolvingSymlinksInPath().path
        let real = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        guard real != realRoot, !real.hasPrefix(realRoot + "/") else { return nil }
        return .badInput(path: name, reason: "is a symbolic link to \(real), outside the tree \(root.path)")
    }
    public let version: KernelVersion
    /// The architectures under arch/ (directory names, e.g. "x86", "arm64").
    public let arches: [String]
    /// MAINTAINERS, when the tree has one.
    public let maintainers: URL?
    /// compile_commands.json at the top of the tree, when it was built.
    public let compileCommands: URL?

    /// Opens the tree at `path`.
    /// - Throws: `KPolicyError.notAKernelTree` when there is no top-level
    ///   Makefile with VERSION and PATCHLEVEL, or no arch/ and include/.
    public init(path: String) throws {
        let url = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath()
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: url.path, isDirectory: &isDir), isDir.boolValue else {
            throw KPolicyError.notAKernelTree(path: path, reason: "no such directory")
        }
        let makefile = url.appendingPathComponent("Makefile")
        guard let text = try? String(contentsOf: makefile, encoding: .utf8) else {
            throw KPolicyError.notAKernelTree(path: path, reason: "no readable top-level Makefile")
        }
        guard let version = KernelTree.parseVersion(makefile: text) else {
            throw KPolicyError.notAKernelTree(path: path, reason: "the top-level Makefile sets no VERSION/PATCHLEVEL")
        }
        for needed in ["arch", "include"] {
            guard fm.fileExists(atPath: url.appendingPathComponent(needed).path) else {
                throw KPolicyError.notAKernelTree(path: path, reason: "no \(needed)/ directory")
            }
        }
        root = url
        self.version = version
        let archDir = url.appendingPathComponent("arch")
        arches = ((try? fm.contentsOfDirectory(atPath: archDir.path)) ?? []).filter { name in
            var d: ObjCBool = false
            return fm.fileExists(atPath: archDir.appendingPathComponent(name).path, isDirectory: &d) && d.boolValue
        }.sorted()
        let m = url.appendingPathComponent("MAINTAINERS")
        maintainers = fm.fileExists(atPath: m.path) ? m : nil
        let cc = url.appendingPathComponent("compile_commands.json")
        compileCommands = fm.fileExists(atPath: cc.path) ? cc : nil
    }

    /// Reads VERSION, PATCHLEVEL, SUBLEVEL and EXTRAVERSION assignments.
    static func parseVersion(makefile: String) -> KernelVersion? {
        var values: [String: String] = [:]
        for line in makefile.split(separator: "\n", omittingEmptySubsequences: false).prefix(40) {
            let parts = line.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let key = parts[0].trimmingCharacters(in: .whitespaces)
            if ["VERSION", "PATCHLEVEL", "SUBLEVEL", "EXTRAVERSION"].contains(key), values[key] == nil {
                values[key] = parts[1].trimmingCharacters(in: .whitespaces)
            }
        }
        guard let v = values["VERSION"].flatMap({ Int($0) }),
              let p = values["PATCHLEVEL"].flatMap({ Int($0) }) else { return nil }
        return KernelVersion(v, p, values["SUBLEVEL"].flatMap { Int($0) } ?? 0, extraversion: values["EXTRAVERSION"] ?? "")
    }

    /// The path of `file` relative to the tree root, or nil when outside it.
    public func relativePath(of file: URL) -> String? {
        let path = file.standardizedFileURL.resolvingSymlinksInPath().path
        let rootPath = root.path.hasSuffix("/") ? root.path : root.path + "/"
        guard path.hasPrefix(rootPath) else { return nil }
        return String(path.dropFirst(rootPath.count))
    }

    /// The architecture whose headers a file is parsed with: its own for
    /// files under arch/<a>/, else `fallback` (x86 unless told otherwise).
    public func arch(for relativePath: String, fallback: String = "x86") -> String {
        let parts = relativePath.split(separator: "/")
        if parts.count > 2, parts[0] == "arch", arches.contains(String(parts[1])) {
            return String(parts[1])
        }
        return fallback
    }
}
