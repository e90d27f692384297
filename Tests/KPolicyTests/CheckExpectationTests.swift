import Foundation
import XCTest

/// `kpolicy check kernel mm arch/x86` on both Debian trees must report
/// exactly what Tests/Expectations/core-<series>.txt lists (rule, place,
/// fingerprint). A difference fails with every added and missing line.
final class CheckExpectationTests: XCTestCase {
    func check(_ series: String) throws {
        let tree = try RealTrees.path(series)
        let expectationFile = CorpusTests.repo.appendingPathComponent("Tests/Expectations/core-\(series).txt")
        let expected = try String(contentsOf: expectationFile, encoding: .utf8)
            .split(separator: "\n").map(String.init).filter { !$0.hasPrefix("#") && !$0.isEmpty }
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("core-\(series)-\(UUID().uuidString).json")
        // A cache of its own: what check reports, not what a shared cache holds.
        let cache = FileManager.default.temporaryDirectory.appendingPathComponent("core-cache-\(series)-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: cache) }
        let run = try KPolicyBinary.run(["check", "kernel", "mm", "arch/x86", "--tree", tree, "--quiet", "--format", "json", "--output", output.path,
                                         "--cache-dir", cache.path])
        XCTAssert(run.status == 0 || run.status == 1, "exit \(run.status): \(run.stderr)")
        let report = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: output)) as? [String: Any])
        var actual: [String] = []
        for f in report["findings"] as? [[String: Any]] ?? [] {
            actual.append("\(f["rule"]!)\t\(f["file"]!):\(f["line"]!)\t\(f["fingerprint"]!)")
        }
        for p in report["parseFailures"] as? [[String: Any]] ?? [] {
            actual.append("parse-failure\t\(p["file"]!)\t-")
        }
        let added = actual.filter { !expected.contains($0) }
        let missing = expected.filter { !actual.contains($0) }
        XCTAssert(added.isEmpty && missing.isEmpty,
                  "check on \(series) differs from Tests/Expectations/core-\(series).txt (scripts/update-expectations rewrites it)\n"
                  + added.map { "+ " + $0 }.joined(separator: "\n") + "\n" + missing.map { "- " + $0 }.joined(separator: "\n"))
        let stats = try XCTUnwrap(report["stats"] as? [String: Any])
        XCTAssertGreaterThan(stats["filesParsed"] as? Int ?? 0, 50, "the prefilter let almost nothing through")
    }

    func testCore61() throws { try check("6.1") }
    func testCore612() throws { try check("6.12") }
}
