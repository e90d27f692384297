import ClangKit
import Foundation
import XCTest
@testable import KPolicy
@testable import Kbuild
@testable import Parse

/// When a file fits the arch's precompiled header; the whole-tree fidelity
/// gate is `kpolicy check --pch-fidelity` (docs/benchmarks.md).
final class PrecompiledHeaderTests: XCTestCase {
    func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    func testEarlyDefines() {
        XCTAssertEqual(PrecompiledHeader.earlyDefine(in: bytes("// SPDX\n/* c */\n#define pr_fmt(fmt) \"x: \" fmt\n#include <linux/x.h>\n")), "pr_fmt")
        XCTAssertEqual(PrecompiledHeader.earlyDefine(in: bytes("#define CREATE_TRACE_POINTS\n#include <trace/events/x.h>\n")), "CREATE_TRACE_POINTS")
        XCTAssertEqual(PrecompiledHeader.earlyDefine(in: bytes("  #  undef __DISABLE_EXPORTS\n#include <linux/x.h>\n")), "__DISABLE_EXPORTS")
        XCTAssertNil(PrecompiledHeader.earlyDefine(in: bytes("#include <linux/x.h>\n#define AFTER 1\n")))
        XCTAssertNil(PrecompiledHeader.earlyDefine(in: bytes("/* #define IN_COMMENT */\n#include <linux/x.h>\n")))
        XCTAssertNil(PrecompiledHeader.earlyDefine(in: bytes("#ifdef X\n#include <linux/x.h>\n#endif\n")))
    }

    func testIncludeGuardsAndSystemIncludes() {
        XCTAssertTrue(PrecompiledHeader.hasIncludeGuard(bytes("/* SPDX */\n#ifndef _LINUX_X_H\n#define _LINUX_X_H\n#endif\n")))
        XCTAssertTrue(PrecompiledHeader.hasIncludeGuard(bytes("// x\n#pragma once\n")))
        // bpf_types.h: included again and again under other macros.
        XCTAssertFalse(PrecompiledHeader.hasIncludeGuard(bytes("/* SPDX */\n#ifdef CONFIG_NET\nBPF_PROG_TYPE(a, b)\n#endif\n")))
        XCTAssertEqual(PrecompiledHeader.systemIncludes(in: bytes("#include <linux/mm.h>\n # include  <asm/io.h>\n#include \"local.h\"\n#include <net/sock.h>\n")),
                       ["linux/mm.h", "asm/io.h"])
        XCTAssertEqual(PrecompiledHeader.configNames(in: Data("#ifdef CONFIG_MMU\nIS_ENABLED(CONFIG_BPF_JIT) xCONFIG_NO\n".utf8)), ["CONFIG_MMU", "CONFIG_BPF_JIT"])
    }

    func testMisfits() {
        let pch = PrecompiledHeader(arch: "x86", path: "/c/common.pch", source: "/c/common.h", forcedIncludes: ["/t/include/linux/kconfig.h"],
                                    configNames: ["CONFIG_CMA", "CONFIG_MMU"], enabledOptions: ["CONFIG_MMU"],
                                    headers: ["linux/mm.h"], dropped: [], inputs: [], buildSeconds: 0, declarationsPath: nil)
        var c = ParseConfiguration(arguments: ["--target=x86_64-linux-gnu", "-include", "/t/include/linux/kconfig.h", "-DKBUILD_MODNAME=\"a\""],
                                   arch: "x86", origin: .synthesized, overlay: nil)
        let plain = bytes("#include <linux/mm.h>\n")
        XCTAssertNil(pch.misfit(text: plain, configuration: c))
        XCTAssertEqual(pch.arguments(for: c), ["-include-pch", "/c/common.pch", "--target=x86_64-linux-gnu", "-DKBUILD_MODNAME=\"a\""])
        XCTAssertNil(pch.misfit(text: bytes("#define pr_fmt(fmt) fmt\n#include <linux/mm.h>\n"), configuration: c))
        XCTAssertNotNil(pch.misfit(text: bytes("#define CREATE_TRACE_POINTS\n#include <linux/mm.h>\n"), configuration: c))
        c.gatingOptions = ["MMU"]
        XCTAssertNil(pch.misfit(text: plain, configuration: c), "MMU is on in the PCH's configuration already")
        c.gatingOptions = ["CMA"]
        XCTAssertEqual(pch.misfit(text: plain, configuration: c), "built with CONFIG_CMA, which the headers test")
        c.gatingOptions = ["ZSWAP"]
        XCTAssertNil(pch.misfit(text: plain, configuration: c), "no header of the PCH reads CONFIG_ZSWAP")
        c.arch = "arm64"
        XCTAssertNotNil(pch.misfit(text: plain, configuration: c))
        c.arch = "x86"
        c.origin = .compileCommands
        XCTAssertNotNil(pch.misfit(text: plain, configuration: c))
    }

    /// The declarations kept next to a PCH read back as libclang gave them:
    /// macros (the last definition of a name, its tokens and their kinds,
    /// spellings with tabs, backslashes and a line continuation) and
    /// function declarations (storage, definition, lines).
    func testDeclarationsRoundTrip() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kpolicy-pchdecl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let header = dir.appendingPathComponent("h.h")
        try Data("""
            #define PAGE_KERNEL_EXEC 0x163
            #define PAGE_KERNEL_EXEC 0x1e3
            #define EXEC_WRAP(p, n) module_alloc((n) + PAGE_KERNEL_EXEC)
            #define TAB "a\tb\\\\" \\
                "c"
            extern void *module_alloc(unsigned long size);
            static inline int helper(int x)
            {
            \treturn x + 1;
            }

            """.utf8).write(to: header)
        let index = try ClangIndex()
        let unit = try TranslationUnit(index: index, path: header.path, arguments: ["-x", "c-header"], options: [.detailedPreprocessingRecord])
        let file = dir.appendingPathComponent("h.declarations")
        try Data(PrecompiledDeclarations.encode(unit).utf8).write(to: file)
        let loaded = try XCTUnwrap(PrecompiledDeclarations.load(file.path))

        XCTAssertEqual(loaded.macros["PAGE_KERNEL_EXEC"]?.tokens.map(\.spelling), ["PAGE_KERNEL_EXEC", "0x1e3"], "the last definition wins")
        let wrap = try XCTUnwrap(loaded.macros["EXEC_WRAP"])
        XCTAssertTrue(wrap.isFunctionLike)
        XCTAssertEqual(wrap.file, header.path)
        var expected: [MacroToken] = []
        unit.cursor.visitChildren { c, _ in
            if c.kind == .macroDefinition, c.spelling == "EXEC_WRAP" { expected = c.tokens.map { MacroToken(kind: $0.kind, spelling: $0.spelling) } }
            return .continue
        }
        XCTAssertEqual(wrap.tokens, expected)
        XCTAssertEqual(wrap.tokens.filter { $0.kind == .identifier }.map(\.spelling), ["EXEC_WRAP", "p", "n", "module_alloc", "n", "PAGE_KERNEL_EXEC"])
        let tab = try XCTUnwrap(loaded.macros["TAB"]?.tokens.dropFirst().first)
        XCTAssertEqual(tab.kind, .literal)
        XCTAssertEqual(tab.spelling, "\"a\tb\\\\\"")
        XCTAssertFalse(loaded.macros["TAB"]?.isFunctionLike ?? true)

        let functions = Dictionary(loaded.functions.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(functions["module_alloc"]?.storage, .extern)
        XCTAssertEqual(functions["module_alloc"]?.isDefinition, false)
        XCTAssertEqual(functions["module_alloc"]?.line, 6)
        XCTAssertEqual(functions["helper"]?.storage, .static)
        XCTAssertEqual(functions["helper"]?.isDefinition, true)
        XCTAssertEqual(functions["helper"]?.endLine, 10)

        try Data("M\tX\t0\t7\tiX\n".utf8).write(to: file)
        XCTAssertNil(PrecompiledDeclarations.load(file.path), "a record naming a file the table lacks: the file is not used")
    }

    /// The fidelity gate on real files: with the PCH's declarations kept
    /// aside (each file visited without them), facts and results equal the
    /// full parse's, and the PCH was used.
    func testFidelityGateOnKernelBPF() throws {
        let tree = try RealTrees.path("6.12")
        let cache = FileManager.default.temporaryDirectory.appendingPathComponent("kpolicy-pchgate-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: cache) }
        let r = try KPolicyBinary.run(["check", "kernel/bpf", "--tree", tree, "--pch-fidelity", "--cache-dir", cache.path, "--jobs", "2", "--quiet"])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        let summary = try XCTUnwrap(r.stdout.split(separator: "\n").first { $0.contains(" candidates: ") })
        let used = Int(summary.split(separator: ":")[1].split(separator: " ").first ?? "0") ?? 0
        XCTAssertGreaterThan(used, 0, String(summary))
        let declarations = try FileManager.default.contentsOfDirectory(atPath: cache.path).filter { $0.hasPrefix("pch-x86-") }
            .flatMap { (try? FileManager.default.contentsOfDirectory(atPath: cache.appendingPathComponent($0).path)) ?? [] }
            .filter { $0.hasSuffix(".declarations") }
        XCTAssertFalse(declarations.isEmpty, "the x86 PCH keeps its declarations")
    }
}
