import Foundation
import XCTest
@testable import KPolicy

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
                                    headers: ["linux/mm.h"], dropped: [], inputs: [], buildSeconds: 0)
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
}
