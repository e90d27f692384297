import Foundation
import XCTest
@testable import KPolicy
@testable import PatchInput

/// Unified diffs, patch application, series and mail parsing (Sources/PatchInput).
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

// MARK: - Mail

extension InputTests {
    static let series = """
        From 1234567890abcdef1234567890abcdef12345678 Mon Sep 17 00:00:00 2001
        From: =?UTF-8?q?J=C3=B6rg_R=C3=B6del?= <joerg@example.org>
        Date: Tue, 5 Mar 2024 10:11:12 +0100
        Subject: [PATCH v2 0/2] mm: expose
         a helper
        Message-ID: <cover.1709630000.git.joerg@example.org>
        To: Andrew Morton <akpm@linux-foundation.org>
        Cc: linux-mm@kvack.org, "Rezki, Uladzislau" <urezki@gmail.com>,
        \tbpf@vger.kernel.org

        This series exposes a helper.

        Jörg Rödel (2):
          mm: one
          mm: two

        --
        2.43.0

        From abcdef1234567890abcdef1234567890abcdef12 Mon Sep 17 00:00:00 2001
        From: =?utf-8?b?SsO2cmcgUsO2ZGVs?= <joerg@example.org>
        Date: Tue, 5 Mar 2024 10:11:13 +0100
        Subject: [RFC PATCH net-next v2 1/2] mm: one
        Message-ID: <20240305.1@example.org>
        To: akpm@linux-foundation.org
        Cc: linux-mm@kvack.org

        First line of the message.
        >From the mboxrd quoting, this line starts with From.

        Link: https://lore.kernel.org/r/abc@kernel.org
        Reviewed-by: Christoph Hellwig <hch@lst.de>
        Cc: stable@vger.kernel.org # 6.1+
        Signed-off-by: Jörg Rödel <joerg@example.org>
        ---
         mm/vmalloc.c | 2 +-
         1 file changed, 1 insertion(+), 1 deletion(-)

        diff --git a/mm/vmalloc.c b/mm/vmalloc.c
        index 1111111..2222222 100644
        --- a/mm/vmalloc.c
        +++ b/mm/vmalloc.c
        @@ -1,3 +1,3 @@
         a
        -b
        +B
         c
        --
        2.43.0

        From abcdef1234567890abcdef1234567890abcdef13 Mon Sep 17 00:00:00 2001
        From: joerg@example.org (Joerg)
        Subject: [PATCH v2 2/2] mm: two
        Content-Type: text/plain; charset=UTF-8
        Content-Transfer-Encoding: quoted-printable

        A long line that the mailer wrapped with a soft =
        break, and an =C3=A9 encoded byte.

        Signed-off-by: Joerg <joerg@example.org>
        ---
        diff --git a/mm/vmalloc.c b/mm/vmalloc.c
        --- a/mm/vmalloc.c
        +++ b/mm/vmalloc.c
        @@ -1,3 +1,3 @@
         a
        -B
        +x =3D 1;
         c

        """

    func testSplitsAnMboxAndReadsHeadersTrailersAndDiffs() throws {
        let mbox = try Mbox.parse(Self.series, source: "s.mbox")
        XCTAssertEqual(mbox.messages.count, 3)
        let cover = try XCTUnwrap(mbox.coverLetter)
        XCTAssertTrue(cover.isCoverLetter)
        XCTAssertNil(cover.diff)
        XCTAssertEqual(cover.subject, "mm: expose a helper")
        XCTAssertEqual(cover.prefix, SubjectPrefix(tags: ["PATCH"], version: 2, index: 0, total: 2))
        XCTAssertEqual(cover.from, EmailAddress(name: "Jörg Rödel", address: "joerg@example.org"))
        XCTAssertEqual(cover.messageID, "cover.1709630000.git.joerg@example.org")
        XCTAssertEqual(cover.recipients, .listed(
            to: [EmailAddress(name: "Andrew Morton", address: "akpm@linux-foundation.org")],
            cc: [EmailAddress(name: nil, address: "linux-mm@kvack.org"),
                 EmailAddress(name: "Rezki, Uladzislau", address: "urezki@gmail.com"),
                 EmailAddress(name: nil, address: "bpf@vger.kernel.org")]))
        XCTAssertEqual(cover.recipients.includes("BPF@vger.kernel.org"), true)
        XCTAssertNotNil(cover.parsedDate)
        XCTAssertEqual(cover.parsedDate.map { Int($0.timeIntervalSince1970) }, 1_709_629_872)

        XCTAssertEqual(mbox.patches.count, 2)
        let first = mbox.patches[0]
        XCTAssertEqual(first.from?.name, "Jörg Rödel")
        XCTAssertEqual(first.prefix, SubjectPrefix(tags: ["RFC", "PATCH", "net-next"], version: 2, index: 1, total: 2))
        XCTAssertTrue(first.prefix.isRFC)
        XCTAssertTrue(first.message.contains("\nFrom the mboxrd quoting"), first.message)
        XCTAssertEqual(first.trailers.map(\.key), ["Link", "Reviewed-by", "Cc", "Signed-off-by"])
        XCTAssertNil(first.trailers[0].address)
        XCTAssertEqual(first.trailers("cc").first?.address?.address, "stable@vger.kernel.org")
        XCTAssertEqual(first.trailers("Signed-off-by").first?.address,
                       EmailAddress(name: "Jörg Rödel", address: "joerg@example.org"))
        XCTAssertEqual(first.diff?.files.map(\.path), ["mm/vmalloc.c"])
        XCTAssertEqual(first.diff?.files.first?.addedLineNumbers, [2])

        let second = mbox.patches[1]
        XCTAssertEqual(second.from, EmailAddress(name: "Joerg", address: "joerg@example.org"))
        XCTAssertEqual(second.recipients, .listed(to: [], cc: []))
        XCTAssertTrue(second.message.contains("soft break, and an é encoded byte."), second.message)
        XCTAssertEqual(second.diff?.files.first?.hunks.first?.lines[2], .added(Array("x = 1;".utf8)))
    }

    func testASingleFormatPatchFileWithoutFromLine() throws {
        let text = "Subject: [PATCH] kernel: fix\nTo: a@b.c\n\nmsg\n---\n--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\n+b\n"
        let mbox = try Mbox.parse(text)
        XCTAssertEqual(mbox.messages.count, 1)
        XCTAssertEqual(mbox.messages[0].subject, "kernel: fix")
        XCTAssertEqual(mbox.messages[0].prefix.index, nil)
        XCTAssertEqual(mbox.messages[0].message, "msg")
        XCTAssertEqual(mbox.messages[0].recipients.all, [EmailAddress(name: nil, address: "a@b.c")])
    }

    func testAPlainDiffIsASeriesOfOneWithNoRecipientInformation() throws {
        let mbox = try Mbox.parse(twoHunks)
        XCTAssertEqual(mbox.messages.count, 1)
        XCTAssertEqual(mbox.messages[0].recipients, .noRecipientInformation)
        XCTAssertNil(mbox.messages[0].recipients.all)
        XCTAssertNil(mbox.messages[0].recipients.includes("linux-mm@kvack.org"))
        XCTAssertEqual(mbox.patches.first?.diff?.files.first?.path, "mm/foo.c")
    }

    func testBase64Body() throws {
        let body = "Signed-off-by: A <a@b.c>\n---\n--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\n+b\n"
        let encoded = Data(body.utf8).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
        let text = "From x Mon Sep 17 00:00:00 2001\nSubject: [PATCH 1/1] b\nContent-Transfer-Encoding: base64\n\n\(encoded)\n"
        let patch = try XCTUnwrap(Mbox.parse(text).patches.first)
        XCTAssertEqual(patch.trailers.first?.address?.address, "a@b.c")
        XCTAssertEqual(patch.diff?.files.first?.addedLineNumbers, [1])
        XCTAssertThrowsError(try Mbox.parse("Subject: x\nContent-Transfer-Encoding: base64\n\n!!!not base64!!!\n")) {
            XCTAssertEqual($0 as? InputError, .malformedMail(source: "<mbox>", line: 4, reason: "body is not valid base64"))
        }
    }

    func testHostileAndMalformedHeaders() throws {
        // A header line without a colon inside the header block.
        XCTAssertThrowsError(try Mbox.parse("From x Mon Sep 17 00:00:00 2001\nSubject: a\nthis is not a header\n\nbody\n", source: "h.mbox")) {
            XCTAssertEqual("\($0)", "h.mbox:3: malformed mail: header line is not 'Name: value': this is not a header")
        }
        // Broken encoded words stay as written; an unknown charset is not guessed.
        let mail = try Mbox.parse("Subject: =?UTF-8?B?@@@?= and =?koi8-r?Q?abc?= =?UTF-8?Q?ok?=\nFrom: \"a, b\" <x@y>\n\nbody\n")
        XCTAssertEqual(mail.messages[0].subject, "=?UTF-8?B?@@@?= and =?koi8-r?Q?abc?= ok")
        XCTAssertEqual(mail.messages[0].from, EmailAddress(name: "a, b", address: "x@y"))
        // A diff in a mail with wrong counts names the mbox line.
        let bad = "From x Mon Sep 17 00:00:00 2001\nSubject: [PATCH] x\n\nm\n---\n--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n-a\n+b\n"
        XCTAssertThrowsError(try Mbox.parse(bad, source: "bad.mbox")) {
            XCTAssertEqual("\($0)", "bad.mbox:11: malformed diff: diff ends inside hunk @@ -1,2 +1,2 @@ (line 8): 1 of 2 old and 1 of 2 new lines read")
        }
        // Neither mail nor diff.
        XCTAssertThrowsError(try Mbox.parse("just some words\nand more\n")) {
            XCTAssertTrue("\($0)".contains("neither an mbox, a mail nor a diff"), "\($0)")
        }
        XCTAssertThrowsError(try Mbox.parse("\n\n"))
        // Thousands of header fields are refused, not stored.
        let many = (0..<(InputLimits.maxHeaders + 1)).map { "X-H\($0): v\n" }.joined()
        XCTAssertThrowsError(try Mbox.parse("Subject: s\n" + many + "\nbody\n")) {
            XCTAssertTrue("\($0)".contains("too large"), "\($0)")
        }
    }

    func testCRLFHeaders() throws {
        let text = "Subject: [PATCH 2/5] x: y\r\nCc: a@b.c,\r\n d@e.f\r\n\r\nbody\r\n"
        let mail = try XCTUnwrap(Mbox.parse(text).messages.first)
        XCTAssertEqual(mail.subject, "x: y")
        XCTAssertEqual(mail.prefix.index, 2)
        XCTAssertEqual(mail.recipients.all?.map(\.address), ["a@b.c", "d@e.f"])
    }

    /// Truncated and corrupted copies of a real series: every one either
    /// parses (and then applies or fails with an InputError) or throws an
    /// InputError — never traps, never throws anything else.
    func testMutatedInputOnlyEverThrowsInputError() {
        let original = Array(Self.series.utf8)
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ bound: Int) -> Int {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((seed >> 33) % UInt64(bound))
        }
        let alphabet = Array("@+- \n,0123456789\"\\>=?".utf8) + [0xFF, 0x0D]
        var parsed = 0
        for round in 0..<600 {
            var bytes = original
            if round % 3 == 0 {
                bytes = Array(bytes.prefix(next(bytes.count)))
            } else {
                for _ in 0..<(1 + next(6)) { bytes[next(bytes.count)] = alphabet[next(alphabet.count)] }
            }
            do {
                let mbox = try Mbox.parse(bytes: bytes, source: "fuzz")
                parsed += 1
                var series = PatchSeries { _ in Array("a\nb\nc\n".utf8) }
                for patch in mbox.patches { if let diff = patch.diff { series.apply(diff) } }
            } catch {
                XCTAssertTrue(error is InputError, "round \(round): \(error)")
            }
        }
        XCTAssertGreaterThan(parsed, 0)
    }

    func testFromLineInsideAParagraphDoesNotSplit() throws {
        let text = "From a Mon Sep 17 00:00:00 2001\nSubject: one\n\nfirst\nFrom here on it is the same mail\n\nFrom b Mon Sep 17 00:00:00 2001\nSubject: two\n\nsecond\n"
        let mbox = try Mbox.parse(text)
        XCTAssertEqual(mbox.messages.map(\.subject), ["one", "two"])
        XCTAssertEqual(mbox.messages[0].message, "first\nFrom here on it is the same mail")
        XCTAssertEqual(mbox.messages[1].firstLine, 8)
    }
}
