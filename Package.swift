// swift-tools-version:6.1
import Foundation
import PackageDescription

/// Where Debian's libclang-dev put the libclang headers and library.
///
/// Debian installs libclang-dev under /usr/lib/llvm-<N>/. We take, in order:
/// `KPOLICY_LLVM_DIR` from the environment, then the highest-numbered
/// /usr/lib/llvm-<N> that holds both clang-c/Index.h and libclang.so. The
/// Swift toolchain ships a libclang of its own; linking against it would make
/// the tool depend on the toolchain at run time, so the Debian directory is
/// put first on the library path and recorded as the run path.
func llvmDirectory() -> String {
    let fm = FileManager.default
    func usable(_ dir: String) -> Bool {
        fm.fileExists(atPath: dir + "/include/clang-c/Index.h")
            && fm.fileExists(atPath: dir + "/lib/libclang.so")
    }
    if let forced = ProcessInfo.processInfo.environment["KPOLICY_LLVM_DIR"], usable(forced) {
        return forced
    }
    let entries = (try? fm.contentsOfDirectory(atPath: "/usr/lib")) ?? []
    let versions = entries.compactMap { name -> Int? in
        guard name.hasPrefix("llvm-"), let n = Int(name.dropFirst(5)) else { return nil }
        return usable("/usr/lib/" + name) ? n : nil
    }
    if let best = versions.max() { return "/usr/lib/llvm-\(best)" }
    // Nothing found: keep a plausible default so the error names it.
    return "/usr/lib/llvm-14"
}

let llvm = llvmDirectory()
/// Every target that sees ClangKit needs the libclang headers for the C module.
let clangHeaders: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-I\(llvm)/include"])]

let package = Package(
    name: "kpolicy",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "kpolicy", targets: ["kpolicy"]),
        .library(name: "KPolicy", targets: ["KPolicy"]),
        .library(name: "KernelModel", targets: ["KernelModel"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
    ],
    targets: [
        .systemLibrary(name: "CClang", path: "Sources/CClang"),
        .target(
            name: "ClangKit",
            dependencies: ["CClang"],
            swiftSettings: clangHeaders,
            linkerSettings: [
                .unsafeFlags(["-L\(llvm)/lib", "-Xlinker", "-rpath", "-Xlinker", "\(llvm)/lib"]),
                .linkedLibrary("clang"),
            ]
        ),
        .target(name: "KernelModel"),
        // Reading the user's files safely, and the errors every stage shares.
        .target(name: "KPolicyFiles"),
        // Patches, mails and git diffs as data: pure Swift, no libclang.
        .target(name: "PatchInput", dependencies: ["KPolicyFiles"]),
        // The result cache: one SQLite database of per-file results, tree
        // knowledge and run records, keyed by content hashes.
        .target(name: "KPolicyCache", dependencies: ["KPolicyFiles", .product(name: "GRDB", package: "GRDB.swift")]),
        .target(name: "ModelScenarios", dependencies: ["KernelModel", .product(name: "Yams", package: "Yams")]),
        // The kernel's build system read as text: the tree (version, arches,
        // MAINTAINERS), Kconfig, the Makefiles, the default configurations,
        // compile_commands.json, the generated-header overlay and the
        // per-file parse configuration (Workspace). No libclang.
        .target(name: "Kbuild", dependencies: ["KernelModel", "KPolicyFiles", "PatchInput", "KPolicyCache"]),
        // libclang parses of a file as Kbuild would compile it: precompiled
        // headers and their declarations, the full parse, include guards;
        // and the C text scans before a parse (SourceText, Prefilter).
        .target(name: "Parse", dependencies: ["ClangKit", "Kbuild", "KPolicyFiles", "PatchInput", "KPolicyCache"], swiftSettings: clangHeaders),
        // From a parsed unit to facts (calls, macro uses, declarations,
        // exports) and to each function's control-flow IR.
        .target(name: "Extract", dependencies: ["ClangKit", "KernelModel", "Parse", "KPolicyFiles", "PatchInput"], swiftSettings: clangHeaders),
        // Every path of a function's IR run through the reference model,
        // with the summaries of the tree's functions other files call.
        .target(name: "PathCheck", dependencies: ["Extract", "Parse", "KernelModel", "KPolicyFiles", "PatchInput", "KPolicyCache"], swiftSettings: clangHeaders),
        // Suggestions proven on paths: a rule's rewrite applied to the
        // function's IR and every path of the result checked again.
        .target(name: "Suggest", dependencies: ["Extract", "PathCheck", "KernelModel", "KPolicyFiles", "PatchInput"], swiftSettings: clangHeaders),
        // What a run reports, before any rule: findings, their severity,
        // suggestions, the patch they come from.
        .target(name: "Findings", dependencies: ["Suggest", "PathCheck", "Extract", "Parse", "KPolicyFiles", "PatchInput"], swiftSettings: clangHeaders),
        // From facts and paths to findings: tree knowledge, rules and their
        // matchers (which run the suggestions' proofs), the rules built in
        // (Generated), stage times.
        .target(
            name: "Analysis",
            dependencies: ["ClangKit", "KernelModel", "ModelScenarios", "Kbuild", "Parse", "Extract", "PathCheck", "Suggest", "Findings", "KPolicyFiles", "PatchInput", "KPolicyCache",
                           .product(name: "Yams", package: "Yams")],
            swiftSettings: clangHeaders
        ),
        // The run's report (CheckReport, BaselineEntry) and one reporter per format.
        .target(name: "Report", dependencies: ["Analysis", "Findings", "Extract", "PathCheck", "Suggest", "KernelModel", "KPolicyFiles", "PatchInput"], swiftSettings: clangHeaders),
        // What hides findings from a report: inline suppressions, the
        // baseline, what the tree's owners accepted upstream.
        .target(name: "Filter", dependencies: ["Report", "Analysis", "Findings", "Extract", "Kbuild", "KPolicyFiles", "PatchInput"], swiftSettings: clangHeaders),
        // The run: check, patch and diff over a tree (CheckRun, PatchRun,
        // FileAnalyzer, shards, merge) and `rules test` (CorpusRunner).
        .target(
            name: "KPolicy",
            dependencies: ["ClangKit", "KernelModel", "KPolicyFiles", "PatchInput", "KPolicyCache", "Kbuild", "Parse", "Extract", "PathCheck", "Suggest", "Findings", "Analysis", "Report", "Filter",
                           .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: clangHeaders
        ),
        // What only the tests use of the library.
        .target(name: "KPolicyTestSupport", dependencies: ["KPolicy", "Analysis", "Extract", "Parse", "ClangKit", "KernelModel"], swiftSettings: clangHeaders),
        .executableTarget(
            name: "kpolicy",
            dependencies: ["KPolicy", "Kbuild", "Parse", "Extract", "PathCheck", "Suggest", "Findings", "Analysis", "Report", "Filter", "KernelModel", "KPolicyFiles", "PatchInput", "KPolicyCache", "ModelScenarios",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: clangHeaders
        ),
        .executableTarget(name: "kpolicy-bench", dependencies: ["KernelModel", "ModelScenarios"], path: "bench/Sources/kpolicy-bench"),
        .testTarget(name: "ClangKitTests", dependencies: ["ClangKit"], swiftSettings: clangHeaders),
        .testTarget(
            name: "KernelModelTests",
            dependencies: ["KernelModel", "ModelScenarios", .product(name: "PropertyBased", package: "swift-property-based")]
        ),
        .testTarget(
            name: "KPolicyTests",
            dependencies: ["KPolicy", "KPolicyTestSupport", "Kbuild", "Parse", "Extract", "PathCheck", "Suggest", "Findings", "Analysis", "Report", "Filter", "KernelModel", "KPolicyFiles", "PatchInput", "KPolicyCache"],
            swiftSettings: clangHeaders
        ),
    ]
)
