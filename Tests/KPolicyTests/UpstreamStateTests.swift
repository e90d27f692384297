import Foundation
import XCTest

/// What mm itself accepted upstream is not a new violation when a tree is
/// audited; a patch that adds the same is reported on every tree.
final class UpstreamStateTests: XCTestCase {
    func report(_ arguments: [String]) throws -> [String: Any] {
        let run = try KPolicyBinary.run(arguments)
        XCTAssertNotEqual(run.status, 2, run.stderr)
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], run.stderr)
    }

    /// 7.x declares vmap_pages_range() in include/linux/vmalloc.h, and the
    /// kexec handover code (reviewed on linux-mm) includes mm/vmalloc.h.
    func testCheckHidesWhatTheTreesOwnersAccepted() throws {
        let tree = try RealTrees.path("7")
        let cache = FileManager.default.temporaryDirectory.appendingPathComponent("upstream-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: cache) }
        let r = try report(["check", "kernel/liveupdate", "include/linux/vmalloc.h", "--tree", tree, "--cache-dir", cache.path,
                            "--format", "json", "--fail-on", "never"])
        let rule = "vmalloc-internal-exposed"
        let shown = (r["findings"] as? [[String: Any]] ?? []).filter { $0["rule"] as? String == rule }
        XCTAssertEqual(shown.count, 0, "\(shown)")
        let hidden = (r["suppressed"] as? [[String: Any]] ?? []).filter { $0["rule"] as? String == rule }
        let why = hidden.compactMap { ($0["suppression"] as? [String: Any])?["justification"] as? String }
        XCTAssertEqual(why.count, hidden.count)
        XCTAssertTrue(why.allSatisfy { $0.hasPrefix("upstream state: ") }, "\(why)")
        XCTAssertTrue(why.contains { $0.contains("vmap_pages_range() in its public header include/linux/vmalloc.h") }, "\(why)")
        XCTAssertTrue(why.contains { $0.contains("kexec_handover.c is reviewed on linux-mm@kvack.org") }, "\(why)")
    }

    /// The same calls, added by a patch to a driver, are reported.
    func testAPatchThatReachesInIsStillReported() throws {
        let tree = try RealTrees.path("7")
        let repo = FileManager.default.temporaryDirectory.appendingPathComponent("upstream-patch-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: repo) }
        let makefile = repo.appendingPathComponent("drivers/misc/Makefile")
        try FileManager.default.createDirectory(at: makefile.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: URL(fileURLWithPath: tree).appendingPathComponent("drivers/misc/Makefile"), to: makefile)
        func git(_ arguments: [String]) throws -> String {
            let run = try KPolicyBinary.execute(URL(fileURLWithPath: "/usr/bin/env"),
                                                ["git", "-c", "user.name=Upstream Test", "-c", "user.email=upstream@example.org"] + arguments, in: repo)
            XCTAssertEqual(run.status, 0, "git \(arguments): \(run.stderr)")
            return run.stdout
        }
        _ = try git(["init", "-q"]); _ = try git(["add", "-A"]); _ = try git(["commit", "-qm", "base"])
        try """
            // SPDX-License-Identifier: GPL-2.0
            #include <linux/vmalloc.h>
            #include "../../mm/vmalloc.h"

            void *arena_map(struct page **pages, unsigned int n)
            {
            \tstruct vm_struct *area = __get_vm_area_node(n * PAGE_SIZE, 1, PAGE_SHIFT, VM_MAP, VMALLOC_START, VMALLOC_END,
            \t\t\t\t\t\t   NUMA_NO_NODE, GFP_KERNEL, __builtin_return_address(0));

            \tif (!area)
            \t\treturn NULL;
            \tif (vmap_pages_range((unsigned long)area->addr, (unsigned long)area->addr + n * PAGE_SIZE, PAGE_KERNEL, pages, PAGE_SHIFT))
            \t\treturn NULL;
            \treturn area->addr;
            }

            """.write(to: repo.appendingPathComponent("drivers/misc/arena_map.c"), atomically: true, encoding: .utf8)
        _ = try git(["add", "-A"]); _ = try git(["commit", "-qm", "misc: map an arena"])
        let patch = try git(["format-patch", "-1", "--stdout"])
        let file = repo.appendingPathComponent("0001.patch")
        try patch.write(to: file, atomically: true, encoding: .utf8)
        let r = try report(["patch", file.path, "--tree", tree, "--cache-dir", repo.appendingPathComponent(".cache").path, "--format", "json"])
        let subjects = Set((r["findings"] as? [[String: Any]] ?? []).filter { $0["rule"] as? String == "vmalloc-internal-exposed" }
            .compactMap { $0["subject"] as? String })
        XCTAssertEqual(subjects, ["__get_vm_area_node", "vmap_pages_range"], "\(r["findings"] ?? [])")
    }
}
