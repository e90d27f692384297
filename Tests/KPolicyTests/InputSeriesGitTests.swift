import Foundation
import XCTest
@testable import KPolicy
@testable import PatchInput
@testable import KPolicyCache

/// A real `git format-patch` series, made in a scratch repository from
/// files of the 6.1 tree, parsed and applied in memory: the result must be
/// byte-equal to what git committed, and the tree directory untouched.
final class InputSeriesGitTests: XCTestCase {
    static let files = ["mm/mmzone.c", "kernel/range.c", "mm/maccess.c"]
    /// Every line a commit adds or changes carries this, so the expected
    /// changed-line set is read off the final file, independently of kpolicy.
    static let marker = "KPOLICY_TEST"

    func testFormatPatchSeriesAppliedInMemoryReproducesTheCommits() throws {
        let kernel = URL(fileURLWithPath: try RealTrees.path("6.1"))
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("kpolicy-series-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let tree = scratch.appendingPathComponent("tree"), repo = scratch.appendingPathComponent("repo")
        for path in Self.files {
            for root in [tree, repo] {
                let dest = root.appendingPathComponent(path)
                try FileManager.default.createDirectory(at: dest.deletingLastPathComponent(), withIntermediateDirectories: true)
                try FileManager.default.copyItem(at: kernel.appendingPathComponent(path), to: dest)
            }
        }
        let treeBefore = try snapshot(tree)
        try git(repo, "init", "-q")
        try git(repo, "add", "-A")
        try git(repo, "commit", "-q", "-m", "base")

        // Patch 1: insert and change lines in two files.
        try edit(repo, "mm/mmzone.c") { lines in
            let at = try XCTUnwrap(lines.firstIndex(of: "#include <linux/mmzone.h>"))
            lines.insert(contentsOf: ["#include <linux/kpolicy.h> /* \(Self.marker) */", "/* \(Self.marker) two */"], at: at + 1)
            let ret = try XCTUnwrap(lines.firstIndex(of: "\treturn NODE_DATA(first_online_node);"))
            lines[ret] = "\treturn NODE_DATA(first_online_node); /* \(Self.marker) */"
        }
        try edit(repo, "kernel/range.c") { lines in
            lines += ["/* \(Self.marker) */", "int kpolicy_range(void) /* \(Self.marker) */", "{ return 0; } /* \(Self.marker) */"]
        }
        try git(repo, "commit", "-q", "-am", "mm, range: first")

        // Patch 2: change a line patch 1 added, add near the end, create a file.
        try edit(repo, "mm/mmzone.c") { lines in
            let at = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("/* \(Self.marker) two") })
            lines[at] = "/* \(Self.marker) two, edited */"
            lines.insert("/* \(Self.marker) near the end */", at: lines.count - 3)
        }
        let newFile = repo.appendingPathComponent("kernel/kpolicy_new.c")
        try Data("// \(Self.marker) new\nint kpolicy_new; /* \(Self.marker) */\n".utf8).write(to: newFile)
        try git(repo, "add", "kernel/kpolicy_new.c")
        try git(repo, "commit", "-q", "-am", "mm: second")

        // Patch 3: delete a file, remove lines from another.
        try FileManager.default.removeItem(at: repo.appendingPathComponent("mm/maccess.c"))
        try edit(repo, "kernel/range.c") { lines in
            lines.removeAll { $0 == "#include <linux/printk.h>" || $0 == "#include <linux/sort.h>" }
        }
        try git(repo, "commit", "-q", "-am", "third")

        let out = scratch.appendingPathComponent("out")
        try git(repo, "format-patch", "-q", "-3", "-o", out.path)
        let patchFiles = try FileManager.default.contentsOfDirectory(atPath: out.path).sorted()
        XCTAssertEqual(patchFiles.count, 3)
        let mboxBytes = try patchFiles.flatMap { Array(try Data(contentsOf: out.appendingPathComponent($0))) }
        let mbox = try Mbox.parse(bytes: mboxBytes, source: "series.mbox")
        XCTAssertEqual(mbox.patches.map(\.prefix.index), [1, 2, 3])
        XCTAssertEqual(mbox.patches.map(\.prefix.total), [3, 3, 3])
        XCTAssertEqual(mbox.patches.map(\.subject), ["mm, range: first", "mm: second", "third"])
        XCTAssertEqual(mbox.patches[2].diff?.files.map(\.status), [.modified, .deleted])

        var series = PatchSeries(tree: tree)
        for (k, patch) in mbox.patches.enumerated() {
            XCTAssertEqual(series.apply(try XCTUnwrap(patch.diff)), [], "patch \(k + 1)")
            // After each patch the overlay equals that commit.
            let rev = "HEAD~\(2 - k)"
            for path in ["mm/mmzone.c", "kernel/range.c"] {
                XCTAssertEqual(try series.contents(of: path), try gitShow(repo, rev, path), "\(path) after patch \(k + 1)")
            }
        }
        for path in ["mm/mmzone.c", "kernel/range.c", "kernel/kpolicy_new.c"] {
            let committed = try XCTUnwrap(gitShow(repo, "HEAD", path))
            guard case .patched(let file) = series.state(of: path) else { return XCTFail("\(path) not patched") }
            XCTAssertEqual(file.contents, committed, path)
            let finalLines = String(decoding: committed, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            let expected = Set(finalLines.indices.filter { finalLines[$0].contains(Self.marker) }.map { $0 + 1 })
            XCTAssertFalse(expected.isEmpty)
            XCTAssertEqual(file.changedLines, expected, path)
            // Every unchanged line is the original line the map names.
            if let originalPath = file.originalPath {
                let original = String(decoding: try Data(contentsOf: tree.appendingPathComponent(originalPath)), as: UTF8.self)
                    .split(separator: "\n", omittingEmptySubsequences: false)
                for (new, old) in file.originalLines {
                    XCTAssertEqual(finalLines[new - 1], original[old - 1], "\(path):\(new)")
                }
                XCTAssertEqual(file.originalLines.count + file.changedLines.count, finalLines.count - 1)
            }
        }
        XCTAssertEqual(series.state(of: "mm/maccess.c"), .deleted)
        XCTAssertNil(try series.contents(of: "mm/maccess.c"))
        // Removing two includes shifts nothing into "changed": only the three appended lines are.
        XCTAssertEqual(series.state(of: "kernel/range.c").changedLines?.count, 3)
        XCTAssertEqual(try snapshot(tree), treeBefore, "the tree directory must not change")
    }

    // MARK: helpers

    func edit(_ repo: URL, _ path: String, _ change: (inout [String]) throws -> Void) throws {
        let url = repo.appendingPathComponent(path)
        var lines = try String(contentsOf: url, encoding: .utf8).components(separatedBy: "\n")
        let trailing = lines.last == ""
        if trailing { lines.removeLast() }
        try change(&lines)
        try Data((lines.joined(separator: "\n") + (trailing ? "\n" : "")).utf8).write(to: url)
    }

    @discardableResult
    func git(_ repo: URL, _ args: String...) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        process.arguments = ["-C", repo.path, "-c", "user.name=KPolicy Test", "-c", "user.email=test@example.org",
                             "-c", "commit.gpgsign=false", "-c", "core.autocrlf=false"] + args
        var env = ProcessInfo.processInfo.environment
        env["GIT_AUTHOR_DATE"] = "2024-03-05T10:00:00+0000"
        env["GIT_COMMITTER_DATE"] = "2024-03-05T10:00:00+0000"
        env["GIT_CONFIG_NOSYSTEM"] = "1"
        process.environment = env
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw InputError.cannotApply(path: repo.path, reason: "git \(args.joined(separator: " ")) failed")
        }
        return data
    }

    func gitShow(_ repo: URL, _ rev: String, _ path: String) throws -> [UInt8]? {
        Array(try git(repo, "show", "\(rev):\(path)"))
    }

    func snapshot(_ root: URL) throws -> [String: Data] {
        var result: [String: Data] = [:]
        let enumerator = FileManager.default.enumerator(atPath: root.path)
        while let rel = enumerator?.nextObject() as? String {
            var isDir: ObjCBool = false
            let url = root.appendingPathComponent(rel)
            FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir)
            result[rel] = isDir.boolValue ? Data() : try Data(contentsOf: url)
        }
        return result
    }
}

extension PatchSeries.FileState {
    var changedLines: Set<Int>? {
        if case .patched(let f) = self { return f.changedLines }
        return nil
    }
}
