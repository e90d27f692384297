import Foundation
import XCTest
@testable import KPolicy
@testable import PatchInput
@testable import Kbuild

/// MAINTAINERS as get_maintainer.pl reads it (Sources/Kbuild/Maintainers.swift).
final class MaintainersTests: XCTestCase {
    static let sample = """
        List of maintainers
        ===================

        \tM: *Mail* patches to: FullName <address@domain>
        \t   (indented: documentation, not an entry)

        MEMORY MANAGEMENT
        M:\tAndrew Morton <akpm@linux-foundation.org>
        L:\tlinux-mm@kvack.org
        S:\tMaintained
        F:\tmm/
        F:\tinclude/linux/mm.h
        X:\tmm/secret/

        VMALLOC
        M:\tUladzislau Rezki <urezki@gmail.com>
        R:\tChristoph Hellwig <hch@infradead.org>
        L:\tlinux-mm@kvack.org
        F:\tmm/vmalloc.c

        MM TOP FILES
        M:\tTop Person <top@example.org>
        M:\tAndrew Morton <AKPM@linux-foundation.org>
        L:\tsecret@example.org (subscribers-only)
        F:\tmm/*

        KASAN
        M:\tK Person <k@example.org>
        L:\tkasan-dev@googlegroups.com (moderated for non-subscribers)
        F:\tmm/kasan
        F:\tdrivers/gpio/gpio-da90??.[ch]

        BPF
        M:\tB Person <b@example.org>
        L:\tbpf@vger.kernel.org
        N:\tbpf
        K:\t\\bbpf_prog_pack_alloc\\b

        THE REST
        M:\tLinus Torvalds <torvalds@linux-foundation.org>
        L:\tlinux-kernel@vger.kernel.org
        S:\tBuried alive in reporters
        F:\t*
        F:\t*/

        """

    func names(_ m: Maintainers, _ paths: [String], _ lines: [String]? = nil) -> [String] {
        m.sections(for: paths, patchLines: lines).map(\.section.name)
    }

    func testParsesSections() throws {
        let m = try Maintainers(text: Self.sample)
        XCTAssertEqual(m.sections.map(\.name), ["MEMORY MANAGEMENT", "VMALLOC", "MM TOP FILES", "KASAN", "BPF", "THE REST"])
        let mm = m.sections[0]
        XCTAssertEqual(mm.line, 7)
        XCTAssertEqual(mm.maintainers, [EmailAddress(name: "Andrew Morton", address: "akpm@linux-foundation.org")])
        XCTAssertEqual(mm.lists.map(\.address), ["linux-mm@kvack.org"])
        XCTAssertEqual(mm.status, "Maintained")
        XCTAssertEqual(mm.files, ["mm/", "include/linux/mm.h"])
        XCTAssertEqual(mm.excludedFiles, ["mm/secret/"])
        XCTAssertTrue(m.sections[3].lists[0].isModerated)
        XCTAssertTrue(m.sections[2].lists[0].isSubscribersOnly)
    }

    func testRanksMostSpecificFirst() throws {
        let m = try Maintainers(text: Self.sample)
        // mm/vmalloc.c (depth 2) and mm/* (depth 2, later in the file), then mm/ (1), then * (-1).
        XCTAssertEqual(names(m, ["mm/vmalloc.c"]), ["VMALLOC", "MM TOP FILES", "MEMORY MANAGEMENT", "THE REST"])
        XCTAssertEqual(m.sections(for: ["mm/vmalloc.c"]).map(\.depth), [2, 2, 1, -1])
    }

    func testStarMatchesOnlyDirectlyInTheDirectoryAndPlainDirectoriesMatchBelow() throws {
        let m = try Maintainers(text: Self.sample)
        XCTAssertEqual(names(m, ["mm/kasan/common.c"]), ["KASAN", "MEMORY MANAGEMENT", "THE REST"])
        XCTAssertEqual(names(m, ["mm/secret/x.c"]), ["THE REST"], "X: excludes the section")
        XCTAssertEqual(names(m, ["include/linux/mm.h"]), ["MEMORY MANAGEMENT", "THE REST"])
        XCTAssertEqual(names(m, ["include/linux/mmzone.h"]), ["THE REST"])
        XCTAssertEqual(names(m, ["drivers/gpio/gpio-da9055.c"]), ["KASAN", "THE REST"])
        XCTAssertEqual(names(m, ["drivers/gpio/gpio-da9055.o"]), ["THE REST"])
        XCTAssertEqual(names(m, ["./kernel/bpf/core.c"]), ["BPF", "THE REST"], "N: is a regex on the path")
        // A plain pattern is a prefix: mm/kasan matches the file mm/kasan_x.c,
        // unless the tree says mm/kasan is a directory.
        XCTAssertTrue(names(m, ["mm/kasan_x.c"]).contains("KASAN"))
        let withTree = try Maintainers(text: Self.sample) { $0 == "mm/kasan" }
        XCTAssertEqual(names(withTree, ["mm/kasan_x.c"]), ["MM TOP FILES", "MEMORY MANAGEMENT", "THE REST"])
    }

    func testKeywordsOnlyWhenPatchLinesAreGiven() throws {
        let m = try Maintainers(text: Self.sample)
        XCTAssertEqual(names(m, ["arch/x86/net/jit.c"]), ["THE REST"])
        XCTAssertEqual(names(m, ["arch/x86/net/jit.c"], ["+\tp = bpf_prog_pack_alloc(size);"]), ["THE REST", "BPF"])
        XCTAssertEqual(names(m, ["arch/x86/net/jit.c"], ["+\tp = bpf_prog_pack_alloc_x(size);"]), ["THE REST"])
    }

    func testAddressesAreTheUnionWithoutDuplicatesOrChiefPenguin() throws {
        let m = try Maintainers(text: Self.sample)
        let a = m.addresses(for: ["mm/vmalloc.c", "mm/kasan/common.c"])
        // Ranked sections in order (ties by position in the file); Andrew Morton
        // once, as first written; Linus and the subscribers-only list left out.
        XCTAssertEqual(a.maintainers.map(\.address), ["urezki@gmail.com", "top@example.org", "AKPM@linux-foundation.org", "k@example.org"])
        XCTAssertEqual(a.reviewers.map(\.address), ["hch@infradead.org"])
        XCTAssertEqual(a.lists, ["linux-mm@kvack.org", "kasan-dev@googlegroups.com", "linux-kernel@vger.kernel.org"])
    }

    func testEntryBeforeAnySectionIsAnError() {
        XCTAssertThrowsError(try Maintainers(text: "F:\tmm/\n", source: "M")) {
            XCTAssertEqual("\($0)", "M:1: 'F:' entry before any section title")
        }
    }

    // MARK: the real 6.12 MAINTAINERS

    func testRealMaintainers612() throws {
        let tree = URL(fileURLWithPath: try RealTrees.path("6.12"))
        let start = Date()
        let m = try Maintainers(tree: tree)
        let loaded = Date()
        let vmalloc = m.addresses(for: ["mm/vmalloc.c"])
        let queried = Date()
        print("MAINTAINERS 6.12: \(m.sections.count) sections, load \(Int(loaded.timeIntervalSince(start) * 1000)) ms, "
              + "one query \(Int(queried.timeIntervalSince(loaded) * 1000)) ms (debug build)")
        XCTAssertGreaterThan(m.sections.count, 2500)
        XCTAssertEqual(m.warnings, [])
        XCTAssertTrue(vmalloc.lists.contains("linux-mm@kvack.org"))
        XCTAssertTrue(vmalloc.maintainers.contains { $0.address == "akpm@linux-foundation.org" && $0.name == "Andrew Morton" })
        XCTAssertTrue(m.addresses(for: ["kernel/module/main.c"]).lists.contains("linux-modules@vger.kernel.org"))
        XCTAssertTrue(m.addresses(for: ["kernel/bpf/core.c"]).lists.contains("bpf@vger.kernel.org"))
        XCTAssertFalse(m.addresses(for: ["mm/vmalloc.c"]).lists.contains("bpf@vger.kernel.org"))
        XCTAssertTrue(m.addresses(for: ["arch/x86/net/bpf_jit_comp.c"], patchLines: ["+\tbpf_prog_pack_alloc(x);"])
            .lists.contains("bpf@vger.kernel.org"))
    }

    /// get_maintainer.pl itself is the oracle: M:, R: and L: sets must agree.
    func testAgreesWithGetMaintainerPl() throws {
        let tree = try RealTrees.path("6.12")
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/perl") else { throw XCTSkip("perl not installed") }
        let m = try Maintainers(tree: URL(fileURLWithPath: tree))
        let files = ["mm/execmem.c", "mm/vmalloc.c", "kernel/module/main.c", "kernel/bpf/core.c",
                     "arch/x86/net/bpf_jit_comp.c", "arch/x86/kernel/alternative.c", "kernel/kprobes.c",
                     "include/linux/vmalloc.h", "arch/arm64/kernel/probes/kprobes.c", "drivers/irqchip/irq-gic-v3.c"]
        for file in files {
            let ours = m.addresses(for: [file])
            let theirM = try getMaintainer(tree, file, ["--nor", "--nol"])
            let theirR = try getMaintainer(tree, file, ["--nom", "--nol"])
            let theirL = try getMaintainer(tree, file, ["--nom", "--nor"])
            // get_maintainer.pl quotes names with dots ("David S. Miller"): compare parsed.
            XCTAssertEqual(Set(ours.maintainers), Set(theirM.compactMap(EmailAddress.parse)), "M: \(file)")
            XCTAssertEqual(Set(ours.reviewers), Set(theirR.compactMap(EmailAddress.parse)), "R: \(file)")
            XCTAssertEqual(Set(ours.lists), Set(theirL), "L: \(file)")
            print("\(file): M \(theirM.count) R \(theirR.count) L \(theirL.count) — " + (Set(ours.lists) == Set(theirL)
                && Set(ours.maintainers) == Set(theirM.compactMap(EmailAddress.parse)) ? "agree" : "DIFFER"))
        }
    }

    /// The 6.1 script matched K: against the whole file given with -f: with
    /// the file's text as patch lines the answers agree again.
    func testKeywordsInFileReproduceThe61Script() throws {
        let tree = try RealTrees.path("6.1")
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/perl") else { throw XCTSkip("perl not installed") }
        let m = try Maintainers(tree: URL(fileURLWithPath: tree))
        let file = "drivers/clk/mmp/reset.h"
        let text = try String(contentsOfFile: tree + "/" + file, encoding: .utf8)
        let theirs = Set(try getMaintainer(tree, file, ["--nol"]).compactMap(EmailAddress.parse).map(\.normalizedAddress))
        let plain = m.addresses(for: [file])
        let withText = m.addresses(for: [file], patchLines: [text])
        XCTAssertNotEqual(Set((plain.maintainers + plain.reviewers).map(\.normalizedAddress)), theirs)
        XCTAssertEqual(Set((withText.maintainers + withText.reviewers).map(\.normalizedAddress)), theirs)
    }

    func getMaintainer(_ tree: String, _ file: String, _ extra: [String]) throws -> [String] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/perl")
        process.currentDirectoryURL = URL(fileURLWithPath: tree)
        process.arguments = ["scripts/get_maintainer.pl", "--no-git", "--no-git-fallback", "--no-rolestats"] + extra + ["-f", file]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
    }
}
