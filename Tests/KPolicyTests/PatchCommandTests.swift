import Foundation
import XCTest

/// `kpolicy patch` on a series made with real git from real Debian 6.1
/// files, checked against the real 6.1 tree: findings are attributed to
/// the patch that introduces them, pre-existing findings in a touched
/// function are not reported, a line a later patch changes can make an
/// unchanged line wrong, a hunk that does not apply is named and the rest
/// of the series still runs, and the tree is never written.
final class PatchCommandTests: XCTestCase {
    var repo: URL!
    var tree: String!

    override func setUpWithError() throws {
        tree = try RealTrees.path("6.1")
        repo = FileManager.default.temporaryDirectory.appendingPathComponent("kpolicy-series-\(UUID().uuidString)")
        for path in ["kernel/kprobes.c", "drivers/misc/Makefile"] {
            let target = repo.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: URL(fileURLWithPath: tree).appendingPathComponent(path), to: target)
        }
        try git(["init", "-q"])
        try git(["add", "-A"])
        try commit("base")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: repo)
    }

    @discardableResult
    func git(_ arguments: [String]) throws -> String {
        let run = try KPolicyBinary.execute(URL(fileURLWithPath: "/usr/bin/env"),
                                            ["git", "-c", "user.name=Series Test", "-c", "user.email=series@example.org"] + arguments, in: repo)
        XCTAssertEqual(run.status, 0, "git \(arguments): \(run.stderr)")
        return run.stdout
    }

    func commit(_ message: String) throws { try git(["commit", "-qam", message]) }

    func edit(_ path: String, _ change: (String) -> String) throws {
        let url = repo.appendingPathComponent(path)
        let text = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try change(text).write(to: url, atomically: true, encoding: .utf8)
        try git(["add", "-A"])
    }

    static let driver = """
        // SPDX-License-Identifier: GPL-2.0
        #include <linux/vmalloc.h>
        #include <linux/mm.h>

        void *kp_jit_map(struct page **pages, unsigned int count)
        {
        \tpgprot_t prot = PAGE_KERNEL;

        \treturn vmap(pages, count, VM_MAP, prot);
        }

        """

    /// Three patches: a comment inside alloc_insn_page (whose module_alloc
    /// call predates the series), a new clean driver, then one line of it
    /// changed so that its unchanged vmap() line maps W+X.
    func makeSeries() throws -> URL {
        try edit("kernel/kprobes.c") { $0.replacingOccurrences(of: "\t * for most of the architectures.\n", with: "\t * for most of the architectures.\n\t * (a comment added by the series)\n") }
        try commit("kprobes: comment alloc_insn_page")
        try edit("drivers/misc/kp_jit.c") { _ in Self.driver }
        try edit("drivers/misc/Makefile") { $0 + "obj-$(CONFIG_KP_JIT)\t\t+= kp_jit.o\n" }
        try commit("misc: add kp_jit")
        try edit("drivers/misc/kp_jit.c") { $0.replacingOccurrences(of: "pgprot_t prot = PAGE_KERNEL;", with: "pgprot_t prot = PAGE_KERNEL_EXEC;") }
        try commit("misc: kp_jit: map the code executable")
        let out = repo.appendingPathComponent("out")
        try git(["format-patch", "-q", "--cover-letter", "--thread", "--to=linux-kernel@vger.kernel.org", "-3", "-o", out.path])
        let series = repo.appendingPathComponent("series.mbox")
        let parts = try FileManager.default.contentsOfDirectory(atPath: out.path).sorted()
        try parts.map { try String(contentsOf: out.appendingPathComponent($0), encoding: .utf8) }.joined().write(to: series, atomically: true, encoding: .utf8)
        return series
    }

    /// Files of the tree modified after `marker` (none may be).
    func modified(since marker: URL) throws -> String {
        try KPolicyBinary.execute(URL(fileURLWithPath: "/usr/bin/find"), [tree, "-newer", marker.path, "-print", "-quit"]).stdout
    }

    func testSeriesFindingsAreAttributedToTheirPatch() throws {
        let series = try makeSeries()
        let marker = FileManager.default.temporaryDirectory.appendingPathComponent("kpolicy-marker-\(UUID().uuidString)")
        try "".write(to: marker, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: marker) }
        let temps = Set(try FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory()))

        let run = try KPolicyBinary.run(["patch", series.path, "--tree", tree, "--format", "json"])
        XCTAssertEqual(run.status, 1, run.stderr)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let patches = try XCTUnwrap(report["patches"] as? [[String: Any]])
        XCTAssertEqual(patches.map { $0["index"] as? Int }, [1, 2, 3], "the cover letter is not a patch")
        XCTAssertEqual(patches.map { $0["subject"] as? String }, ["kprobes: comment alloc_insn_page", "misc: add kp_jit", "misc: kp_jit: map the code executable"])
        let findings = try XCTUnwrap(report["findings"] as? [[String: Any]])
        let summary = findings.map { f -> String in
            let patch = f["patch"] as? [String: Any]
            return "\(f["rule"]!) \(f["file"]!):\(f["line"]!) patch \(patch?["index"] ?? "-")"
        }
        // The vmap() line did not change in patch 3; the prot line did. The
        // pre-existing module_alloc() in alloc_insn_page, which patch 1
        // touches, is not reported; that patch went only to linux-kernel,
        // without the kprobes maintainers MAINTAINERS names.
        XCTAssertEqual(summary, ["missing-maintainer-cc kernel/kprobes.c:116 patch 1", "wx-mapping drivers/misc/kp_jit.c:9 patch 3"], run.stdout)
        let patch3 = try XCTUnwrap(findings.last?["patch"] as? [String: Any])
        XCTAssertEqual(patch3["messageID"] as? String, patches[2]["messageID"] as? String)
        XCTAssert((patch3["messageID"] as? String)?.contains("@") == true, "format-patch --thread gives Message-IDs")

        // The text and checkpatch formats name the patch too.
        let text = try KPolicyBinary.run(["patch", series.path, "--tree", tree])
        XCTAssert(text.stdout.contains("  patch: [3/3] misc: kp_jit: map the code executable <"), text.stdout)
        let terse = try KPolicyBinary.run(["patch", series.path, "--tree", tree, "--format", "checkpatch"])
        XCTAssert(terse.stdout.contains("\ndrivers/misc/kp_jit.c:9: ERROR: ") && terse.stdout.contains("(patch [3/3]"), terse.stdout)
        XCTAssert(terse.stdout.hasPrefix("kernel/kprobes.c:116: WARNING: patch touches kernel/kprobes.c but is not sent to "), terse.stdout)
        XCTAssert(terse.stdout.contains("Masami Hiramatsu <mhiramat@kernel.org>"), terse.stdout)

        // Nothing in the tree was written, and no scratch files were left behind.
        XCTAssertEqual(try modified(since: marker), "")
        let left = Set(try FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory())).subtracting(temps)
        XCTAssert(left.filter { $0.contains("kpolicy") }.isEmpty, "left in the temp directory: \(left)")
    }

    /// A patch that changes only the function allocating memory kept in a
    /// file-scope pointer makes the unchanged function that frees it wrong:
    /// the finding there is the patch's, and says which function left the state.
    func testFindingCausedByAnotherFunctionOfTheFileIsThePatchs() throws {
        let text = """
            // SPDX-License-Identifier: GPL-2.0
            #include <linux/vmalloc.h>
            #include <linux/set_memory.h>

            static void *kp_text;

            int kp_text_init(void)
            {
            \tkp_text = vmalloc(PAGE_SIZE);
            \tif (!kp_text)
            \t\treturn -ENOMEM;
            \tset_vm_flush_reset_perms(kp_text);
            \treturn 0;
            }

            void kp_text_seal(void)
            {
            \tset_memory_ro((unsigned long)kp_text, 1);
            }

            void kp_text_exit(void)
            {
            \tvfree(kp_text);
            }

            """
        try edit("drivers/misc/kp_text.c") { _ in text }
        try edit("drivers/misc/Makefile") { $0 + "obj-$(CONFIG_KP_TEXT)\t\t+= kp_text.o\n" }
        try commit("misc: add kp_text")
        try edit("drivers/misc/kp_text.c") { $0.replacingOccurrences(of: "\tset_vm_flush_reset_perms(kp_text);\n", with: "") }
        try commit("misc: kp_text: no reset")
        let out = repo.appendingPathComponent("out")
        try git(["format-patch", "-q", "-2", "-o", out.path])
        let files = try FileManager.default.contentsOfDirectory(atPath: out.path).sorted().map { out.appendingPathComponent($0).path }
        let run = try KPolicyBinary.run(["patch"] + files + ["--tree", tree, "--format", "json"])
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], run.stderr)
        let findings = try XCTUnwrap(report["findings"] as? [[String: Any]]).filter { $0["rule"] as? String == "missing-perms-reset" }
        let summary = findings.map { f -> String in "\(f["file"]!):\(f["line"]!) \(f["function"]!) patch \((f["patch"] as? [String: Any])?["index"] ?? "-")" }
        XCTAssertEqual(summary, ["drivers/misc/kp_text.c:22 kp_text_exit patch 2"], run.stdout)
        let message = try XCTUnwrap(findings.first?["message"] as? String)
        XCTAssert(message.contains("state left by kp_text_init() line 9, kp_text_seal() line 17"), message)
    }

    /// The first patch run builds a PCH over the touched files' includes
    /// and keeps it; the next one parses the patched files (read from
    /// memory) with it; the report is the one the full parse gives.
    func testSeriesBuildsThenReusesAPrecompiledHeader() throws {
        let series = try makeSeries()
        let cache = FileManager.default.temporaryDirectory.appendingPathComponent("kpolicy-patchpch-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: cache) }
        let common: [String] = ["patch", series.path, "--tree", tree!, "--format", "json", "--cache-dir", cache.path]
        let first = try KPolicyBinary.run(common, environment: ["KPOLICY_DEBUG": "1"])
        XCTAssertEqual(first.status, 1, first.stderr)
        XCTAssert(first.stderr.contains("kpolicy: precompiled header for x86: ") && first.stderr.contains(" built in "), first.stderr)
        let second = try KPolicyBinary.run(common, environment: ["KPOLICY_DEBUG": "1"])
        XCTAssertEqual(second.status, 1, second.stderr)
        XCTAssert(second.stderr.contains("kpolicy: precompiled header for x86: the last one built"), second.stderr)
        let full = try KPolicyBinary.run(common + ["--no-pch"], environment: ["KPOLICY_DEBUG": "1"])
        XCTAssertEqual(full.status, 1, full.stderr)
        XCTAssertFalse(full.stderr.contains("precompiled header for x86"), full.stderr)
        func findings(_ run: KPolicyBinary.Run) throws -> [String] {
            let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
            return try XCTUnwrap(report["findings"] as? [[String: Any]]).map { "\($0["rule"]!) \($0["file"]!):\($0["line"]!) \($0["message"]!)" }
        }
        XCTAssertEqual(try findings(first), try findings(full))
        XCTAssertEqual(try findings(second), try findings(full))
        XCTAssertEqual(try findings(full).count, 2, full.stdout)
    }

    func testHunkThatDoesNotApplyIsNamedAndTheRestRuns() throws {
        let series = try makeSeries()
        // Break patch 1's context: it no longer applies to the tree.
        var text = try String(contentsOf: series, encoding: .utf8)
        text = text.replacingOccurrences(of: " \t * for most of the architectures.\n+\t * (a comment added by the series)",
                                         with: " \t * for most of the architectures, or so.\n+\t * (a comment added by the series)")
        try text.write(to: series, atomically: true, encoding: .utf8)
        let run = try KPolicyBinary.run(["patch", series.path, "--tree", tree])
        XCTAssertEqual(run.status, 2, run.stdout + run.stderr)
        let lines = run.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, run.stderr)
        XCTAssert(lines[0].hasPrefix("kpolicy: [1/3] kprobes: comment alloc_insn_page") && lines[0].contains("kernel/kprobes.c")
                  && lines[0].contains("hunk #1"), run.stderr)
        // Patches 2 and 3 touch other files and still ran.
        XCTAssert(run.stdout.contains("drivers/misc/kp_jit.c:9:"), run.stdout)
    }

    func testBadPatchInput() throws {
        let empty = repo.appendingPathComponent("empty.patch")
        try "Subject: nothing here\n\njust words\n".write(to: empty, atomically: true, encoding: .utf8)
        let run = try KPolicyBinary.run(["patch", empty.path, "--tree", tree])
        XCTAssertEqual(run.status, 2)
        XCTAssert(run.stderr.hasPrefix("kpolicy: ") && run.stderr.contains("no patch"), run.stderr)
        let broken = repo.appendingPathComponent("broken.patch")
        try "diff --git a/x.c b/x.c\n--- a/x.c\n+++ b/x.c\n@@ -1,3 +1,4 @@\n a\n+b\n".write(to: broken, atomically: true, encoding: .utf8)
        let bad = try KPolicyBinary.run(["patch", broken.path, "--tree", tree])
        XCTAssertEqual(bad.status, 2, bad.stderr)
        XCTAssertEqual(bad.stderr.split(separator: "\n").count, 1, bad.stderr)
        XCTAssertEqual(try KPolicyBinary.run(["patch", "--tree", tree]).status, 64)
    }
}
