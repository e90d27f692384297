import Foundation
import XCTest
@testable import KPolicy

/// Unified diffs, patch application, series and mail parsing (Sources/KPolicy/Input).
final class InputTests: XCTestCase {
    // MARK: UnifiedDiff

    let twoHunks = """
        diff --git a/mm/foo.c b/mm/foo.c
        index 1111111..2222222 100644
        --- a/mm/foo.c
        +++ b/mm/foo.c
        @@ -1,3 +1,4 @@ static int a;
         one
        +one-and-a-half
         two
         three
        @@ -10,2 +11,3 @@ int f(void)
         ten
        -eleven
        +ELEVEN
        +eleven-b

        """

    func testParsesGitDiffHunksAndAddedLineNumbers() throws {
        let diff = try UnifiedDiff.parse(twoHunks)
        XCTAssertEqual(diff.files.count, 1)
        let file = diff.files[0]
        XCTAssertEqual(file.oldPath, "mm/foo.c")
        XCTAssertEqual(file.newPath, "mm/foo.c")
        XCTAssertEqual(file.status, .modified)
        XCTAssertEqual(file.hunks.map(\.header), ["@@ -1,3 +1,4 @@", "@@ -10,2 +11,3 @@"])
        XCTAssertEqual(file.hunks.map(\.section), ["static int a;", "int f(void)"])
        XCTAssertEqual(file.hunks[0].addedLineNumbers, [2])
        XCTAssertEqual(file.hunks[1].addedLineNumbers, [12, 13])
        XCTAssertEqual(file.addedLineNumbers, [2, 12, 13])
        XCTAssertEqual(file.hunks[1].lines, [.context(Array("ten".utf8)), .removed(Array("eleven".utf8)),
                                             .added(Array("ELEVEN".utf8)), .added(Array("eleven-b".utf8))])
    }

    func testOmittedCountIsOne() throws {
        let diff = try UnifiedDiff.parse("--- a/x\n+++ b/x\n@@ -3 +3 @@\n-old\n+new\n")
        let hunk = try XCTUnwrap(diff.files.first?.hunks.first)
        XCTAssertEqual([hunk.oldStart, hunk.oldCount, hunk.newStart, hunk.newCount], [3, 1, 3, 1])
    }

    func testNewDeletedRenamedCopiedAndBinaryFiles() throws {
        let text = """
            diff --git a/kernel/new.c b/kernel/new.c
            new file mode 100644
            index 0000000..3333333
            --- /dev/null
            +++ b/kernel/new.c
            @@ -0,0 +1,2 @@
            +int x;
            +int y;
            diff --git a/kernel/old.c b/kernel/old.c
            deleted file mode 100644
            index 4444444..0000000
            --- a/kernel/old.c
            +++ /dev/null
            @@ -1 +0,0 @@
            -gone
            diff --git a/mm/a.c b/mm/b.c
            similarity index 100%
            rename from mm/a.c
            rename to mm/b.c
            diff --git a/mm/c.c b/mm/d.c
            similarity index 90%
            copy from mm/c.c
            copy to mm/d.c
            --- a/mm/c.c
            +++ b/mm/d.c
            @@ -1 +1 @@
            -c
            +d
            diff --git a/fw/blob.bin b/fw/blob.bin
            index 5555555..6666666 100644
            GIT binary patch
            literal 12
            TcmZ?wbhEHbRA5kGU|;|M2mk>9

            literal 0
            HcmV?d00001

            diff --git a/fw/other.bin b/fw/other.bin
            index 7777777..8888888 100644
            Binary files a/fw/other.bin and b/fw/other.bin differ
            diff --git a/scripts/run.sh b/scripts/run.sh
            old mode 100644
            new mode 100755

            """
        let files = try UnifiedDiff.parse(text).files
        XCTAssertEqual(files.map(\.status), [.added, .deleted, .renamed, .copied, .modified, .modified, .modified])
        XCTAssertEqual(files[0].oldPath, nil)
        XCTAssertEqual(files[0].newPath, "kernel/new.c")
        XCTAssertEqual(files[0].newMode, "100644")
        XCTAssertEqual(files[0].addedLineNumbers, [1, 2])
        XCTAssertEqual(files[1].newPath, nil)
        XCTAssertEqual(files[1].oldPath, "kernel/old.c")
        XCTAssertEqual([files[2].oldPath, files[2].newPath], ["mm/a.c", "mm/b.c"])
        XCTAssertTrue(files[2].hunks.isEmpty)
        XCTAssertEqual([files[3].oldPath, files[3].newPath], ["mm/c.c", "mm/d.c"])
        XCTAssertEqual(files.map(\.isBinary), [false, false, false, false, true, true, false])
        XCTAssertEqual(files[4].path, "fw/blob.bin")
        XCTAssertEqual(files[6].oldMode, "100644")
        XCTAssertEqual(files[6].newMode, "100755")
    }

    func testQuotedPathsWithCEscapes() throws {
        let text = """
            diff --git "a/docs/caf\\303\\251 \\"x\\".txt" "b/docs/caf\\303\\251 \\"x\\".txt"
            --- "a/docs/caf\\303\\251 \\"x\\".txt"
            +++ "b/docs/caf\\303\\251 \\"x\\".txt"
            @@ -1 +1 @@
            -a
            +b
            diff --git a/tab b/"tab\\tname"
            new file mode 100644
            --- /dev/null
            +++ "b/tab\\tname"
            @@ -0,0 +1 @@
            +t

            """
        let files = try UnifiedDiff.parse(text).files
        XCTAssertEqual(files[0].path, "docs/café \"x\".txt")
        XCTAssertEqual(files[1].path, "tab\tname")
    }

    func testPlainDiffUWithTimestampsAndStrip() throws {
        let text = """
            --- linux.orig/mm/vmalloc.c\t2024-01-01 10:00:00.000000000 +0100
            +++ linux/mm/vmalloc.c\t2024-01-02 10:00:00.000000000 +0100
            @@ -5,3 +5,3 @@
             a
            -b
            +B
             c

            """
        let file = try XCTUnwrap(UnifiedDiff.parse(text).files.first)
        XCTAssertEqual(file.oldPath, "mm/vmalloc.c")
        XCTAssertEqual(file.newPath, "mm/vmalloc.c")
        XCTAssertEqual(file.addedLineNumbers, [6])
        let unstripped = try XCTUnwrap(UnifiedDiff.parse(text, strip: 0).files.first)
        XCTAssertEqual(unstripped.newPath, "linux/mm/vmalloc.c")
    }

    func testNoNewlineMarkers() throws {
        let text = "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n"
        let hunk = try XCTUnwrap(UnifiedDiff.parse(text).files.first?.hunks.first)
        XCTAssertTrue(hunk.oldMissingNewline)
        XCTAssertTrue(hunk.newMissingNewline)
        XCTAssertEqual(hunk.lines.count, 3)
    }

    func testHunkWithTooFewLinesNamesTheLine() {
        // Header promises 3 old lines, only 2 follow before the next file.
        let text = "--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n a\n-b\n+B\ndiff --git a/g b/g\n"
        assertDiffError(text, line: 7, contains: "ends early")
    }

    func testHunkWithTooManyLinesNamesTheLine() {
        let text = "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n-b\n+B\n+extra\n"
        assertDiffError(text, line: 7, contains: "more lines than hunk @@ -1,2 +1,2 @@")
    }

    func testTruncatedDiffNamesTheHunk() {
        let text = "diff --git a/f b/f\n--- a/f\n+++ b/f\n@@ -10,4 +10,5 @@ fn\n a\n b\n"
        assertDiffError(text, line: 7, contains: "diff ends inside hunk @@ -10,4 +10,5 @@ (line 4)")
    }

    func testAbsurdCountsAreRejectedNotTrapped() {
        assertDiffError("--- a/f\n+++ b/f\n@@ -1,99999999999999999999 +1 @@\n-a\n", line: 3, contains: "bad hunk header")
        assertDiffError("--- a/f\n+++ b/f\n@@ -1,999999999 +1 @@\n-a\n", line: 3, contains: "above")
        assertDiffError("--- a/f\n+++ b/f\n@@ -0,2 +1 @@\n-a\n", line: 3, contains: "line 0")
    }

    func testHunkWithoutFileHeaderAndOutOfOrderHunks() {
        assertDiffError("some text\n@@ -1 +1 @@\n-a\n+b\n", line: 2, contains: "without a file header")
        let text = "--- a/f\n+++ b/f\n@@ -10 +10 @@\n-a\n+b\n@@ -2 +2 @@\n-c\n+d\n"
        assertDiffError(text, line: 6, contains: "overlaps or precedes")
    }

    func testErrorLineNumbersAreOffsetByFirstLine() {
        XCTAssertThrowsError(try UnifiedDiff.parse("--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n", source: "x.mbox", firstLine: 40)) {
            XCTAssertTrue(String(describing: $0).hasPrefix("x.mbox:44: malformed diff"), "\($0)")
        }
    }

    func assertDiffError(_ text: String, line: Int, contains: String, file: StaticString = #filePath, lineNo: UInt = #line) {
        XCTAssertThrowsError(try UnifiedDiff.parse(text, source: "t.patch"), file: file, line: lineNo) { error in
            guard case InputError.malformedDiff(let source, let l, let reason) = error else {
                return XCTFail("unexpected error \(error)", file: file, line: lineNo)
            }
            XCTAssertEqual(source, "t.patch", file: file, line: lineNo)
            XCTAssertEqual(l, line, "\(reason)", file: file, line: lineNo)
            XCTAssertTrue(reason.contains(contains), reason, file: file, line: lineNo)
        }
    }

    // MARK: PatchApplier

    func numbered(_ n: Int) -> String { (1...n).map { "line \($0)\n" }.joined() }

    func testAppliesAtStatedLineAndAtAnOffset() throws {
        let patch = """
            --- a/f
            +++ b/f
            @@ -4,3 +4,4 @@
             line 4
            -line 5
            +line five
            +line 5.5
             line 6

            """
        let file = try XCTUnwrap(UnifiedDiff.parse(patch).files.first)
        let old = numbered(10)
        let result = try XCTUnwrap(PatchApplier.apply(file, to: Array(old.utf8)))
        XCTAssertEqual(result.text, old.replacingOccurrences(of: "line 5\n", with: "line five\nline 5.5\n"))
        XCTAssertEqual(result.changedLines, [5, 6])
        XCTAssertEqual(result.originalLine(forNewLine: 4), 4)
        XCTAssertEqual(result.originalLine(forNewLine: 7), 6)
        XCTAssertNil(result.originalLine(forNewLine: 5))
        // Three lines inserted above: found 3 lines further down.
        let shifted = "x\ny\nz\n" + old
        let moved = try XCTUnwrap(PatchApplier.apply(file, to: Array(shifted.utf8)))
        XCTAssertEqual(moved.text, "x\ny\nz\n" + old.replacingOccurrences(of: "line 5\n", with: "line five\nline 5.5\n"))
        XCTAssertEqual(moved.changedLines, [8, 9])
        XCTAssertEqual(moved.originalLine(forNewLine: 10), 9)
    }

    func testNearestOffsetWins() throws {
        // The context occurs twice; the copy nearer the stated line is patched.
        let old = "a\nb\nc\nx\nx\nx\nx\nx\na\nb\nc\n"
        let patch = "--- a/f\n+++ b/f\n@@ -8,3 +8,3 @@\n a\n-b\n+B\n c\n"
        let text = try PatchApplier.apply(try XCTUnwrap(UnifiedDiff.parse(patch).files.first), to: old)
        XCTAssertEqual(text, "a\nb\nc\nx\nx\nx\nx\nx\na\nB\nc\n")
    }

    func testHunkThatDoesNotApplyNamesFileHunkAndHeader() throws {
        let patch = "--- a/mm/f.c\n+++ b/mm/f.c\n@@ -1,3 +1,3 @@\n line 1\n-line 2\n+two\n line 3\n@@ -6,3 +6,3 @@\n line 6\n-not there\n+seven\n line 8\n"
        let file = try XCTUnwrap(UnifiedDiff.parse(patch).files.first)
        XCTAssertThrowsError(try PatchApplier.apply(file, to: numbered(9))) { error in
            XCTAssertEqual(error as? InputError, .hunkDoesNotApply(
                path: "mm/f.c", hunk: 2, header: "@@ -6,3 +6,3 @@",
                reason: "its context and removed lines match nowhere in the file"))
            XCTAssertEqual(String(describing: error),
                           "mm/f.c: hunk #2 @@ -6,3 +6,3 @@ does not apply: its context and removed lines match nowhere in the file")
        }
    }

    func testHunkAtStartMustMatchAtStart() throws {
        let patch = "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n-line 1\n+one\n line 2\n"
        let file = try XCTUnwrap(UnifiedDiff.parse(patch).files.first)
        XCTAssertEqual(try PatchApplier.apply(file, to: "line 1\nline 2\n"), "one\nline 2\n")
        XCTAssertThrowsError(try PatchApplier.apply(file, to: "zero\nline 1\nline 2\n"))
    }

    func testNewAndDeletedFiles() throws {
        let diff = try UnifiedDiff.parse("""
            diff --git a/n b/n
            new file mode 100644
            --- /dev/null
            +++ b/n
            @@ -0,0 +1,2 @@
            +x
            +y
            diff --git a/d b/d
            deleted file mode 100644
            --- a/d
            +++ /dev/null
            @@ -1,2 +0,0 @@
            -p
            -q

            """)
        let added = try XCTUnwrap(PatchApplier.apply(diff.files[0], to: nil as [UInt8]?))
        XCTAssertEqual(added.text, "x\ny\n")
        XCTAssertEqual(added.changedLines, [1, 2])
        XCTAssertNil(try PatchApplier.apply(diff.files[1], to: Array("p\nq\n".utf8)))
        XCTAssertThrowsError(try PatchApplier.apply(diff.files[1], to: Array("p\nq\nr\n".utf8))) {
            // The deletion's hunk must cover the whole file (start and end).
            XCTAssertEqual($0 as? InputError, .hunkDoesNotApply(path: "d", hunk: 1, header: "@@ -1,2 +0,0 @@",
                reason: "its context and removed lines do not match at the start of the file"))
        }
        XCTAssertThrowsError(try PatchApplier.apply(diff.files[0], to: Array("already\n".utf8))) {
            XCTAssertTrue("\($0)".contains("already exists"), "\($0)")
        }
        XCTAssertThrowsError(try PatchApplier.apply(diff.files[1], to: nil as [UInt8]?))
    }

    func testMissingNewlineAtEndIsReproduced() throws {
        let removeNewline = "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n\\ No newline at end of file\n"
        let file1 = try XCTUnwrap(UnifiedDiff.parse(removeNewline).files.first)
        XCTAssertEqual(try PatchApplier.apply(file1, to: "a\nb\n"), "a\nc")
        // The hunk says the old last line has a newline: a file without one does not match.
        XCTAssertThrowsError(try PatchApplier.apply(file1, to: "a\nb"))
        let addNewline = "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n"
        let file2 = try XCTUnwrap(UnifiedDiff.parse(addNewline).files.first)
        XCTAssertEqual(try PatchApplier.apply(file2, to: "a\nb"), "a\nb\n")
    }

    func testBytesThatAreNotUTF8AndCRLFSurvive() throws {
        let old: [UInt8] = Array("a\r\n".utf8) + [0xE9, 0x0D, 0x0A] + Array("c\r\n".utf8)
        var patch = Array("--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n a\r\n-".utf8) + [0xE9, 0x0D, 0x0A]
        patch += Array("+".utf8) + [0xE8, 0x0D, 0x0A] + Array(" c\r\n".utf8)
        let file = try XCTUnwrap(UnifiedDiff.parse(bytes: patch).files.first)
        let result = try XCTUnwrap(PatchApplier.apply(file, to: old))
        XCTAssertEqual(result.contents, Array("a\r\n".utf8) + [0xE8, 0x0D, 0x0A] + Array("c\r\n".utf8))
    }

    // MARK: PatchSeries

    func testSeriesRecordsAFailedFileAndAppliesTheRest() throws {
        let tree = ["a.c": "line 1\nline 2\nline 3\n", "b.c": "one\ntwo\n"]
        var reads: [String] = []
        var series = PatchSeries { path in
            reads.append(path)
            return tree[path].map { Array($0.utf8) }
        }
        let p1 = try UnifiedDiff.parse("--- a/a.c\n+++ b/a.c\n@@ -1,3 +1,4 @@\n line 1\n+line 1.5\n line 2\n line 3\n--- a/b.c\n+++ b/b.c\n@@ -1,2 +1,2 @@\n-nope\n+x\n two\n")
        let p2 = try UnifiedDiff.parse("--- a/a.c\n+++ b/a.c\n@@ -3,2 +3,2 @@\n line 2\n-line 3\n+line three\n")
        let p3 = try UnifiedDiff.parse("--- a/b.c\n+++ b/b.c\n@@ -1,2 +1,2 @@\n one\n-two\n+2\n")
        let f1 = series.apply(p1)
        XCTAssertEqual(f1.map(\.path), ["b.c"])
        XCTAssertEqual(f1.first?.patch, 1)
        XCTAssertTrue(series.apply(p2).isEmpty)
        let f3 = series.apply(p3)
        XCTAssertEqual(f3.map(\.patch), [3])
        XCTAssertTrue("\(f3[0])".contains("skipped: patch 1 failed on b.c"), "\(f3[0])")
        XCTAssertEqual(series.failures.count, 2)
        XCTAssertEqual(try series.contents(of: "a.c").map { String(decoding: $0, as: UTF8.self) },
                       "line 1\nline 1.5\nline 2\nline three\n")
        guard case .patched(let a) = series.state(of: "a.c") else { return XCTFail("a.c not patched") }
        XCTAssertEqual(a.changedLines, [2, 4])
        XCTAssertEqual(a.originalLines, [1: 1, 3: 2])
        guard case .failed = series.state(of: "b.c") else { return XCTFail("b.c not failed") }
        XCTAssertThrowsError(try series.contents(of: "b.c"))
        XCTAssertEqual(series.state(of: "c.c"), .unchanged)
        XCTAssertEqual(reads, ["a.c", "b.c"], "each original is read once, lazily")
    }

    func testSeriesRenameThenEditKeepsOriginalLines() throws {
        var series = PatchSeries { $0 == "old.c" ? Array("a\nb\nc\n".utf8) : nil }
        series.apply(try UnifiedDiff.parse("diff --git a/old.c b/new.c\nsimilarity index 100%\nrename from old.c\nrename to new.c\n"))
        series.apply(try UnifiedDiff.parse("--- a/new.c\n+++ b/new.c\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"))
        XCTAssertTrue(series.failures.isEmpty, "\(series.failures)")
        XCTAssertEqual(series.state(of: "old.c"), .deleted)
        XCTAssertNil(try series.contents(of: "old.c"))
        guard case .patched(let f) = series.state(of: "new.c") else { return XCTFail("new.c") }
        XCTAssertEqual(f.text, "a\nB\nc\n")
        XCTAssertEqual(f.originalPath, "old.c")
        XCTAssertEqual(f.changedLines, [2])
        XCTAssertEqual(f.originalLines, [1: 1, 3: 3])
    }
}
