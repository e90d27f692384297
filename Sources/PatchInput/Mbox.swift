import Foundation
import KPolicyFiles

/// A patch series as mail: an mbox (`b4 am`, `git format-patch --stdout`,
/// a mail client's export), one `git format-patch` file, or a plain diff.
///
/// What kpolicy needs from the mail, beyond the diff, is who it went to:
/// the Cc rules compare `To:`/`Cc:` with MAINTAINERS. A plain diff is read
/// as a series of one whose recipients are `.noRecipientInformation`.
public struct Mbox: Equatable, Sendable {
    /// The mails in order.
    public var messages: [PatchMessage]

    /// The cover letter, when the series has one.
    public var coverLetter: PatchMessage? { messages.first { $0.isCoverLetter } }
    /// The mails that carry a diff, in order.
    public var patches: [PatchMessage] { messages.filter { $0.diff != nil } }

    public init(messages: [PatchMessage]) { self.messages = messages }

    public static func parse(_ text: String, source: String = "<mbox>") throws -> Mbox {
        try parse(bytes: Array(text.utf8), source: source)
    }

    /// `bytes` with CRLF line ends made LF when every line ends in CRLF (a
    /// patch saved from a mail client or passed through unix2dos), as `git
    /// am` reads mail (mailsplit without --keep-cr); otherwise unchanged, so
    /// a diff of a file with CRLF lines keeps them.
    static func withoutCRLF(_ bytes: [UInt8]) -> [UInt8] {
        var newlines = 0
        for i in bytes.indices where bytes[i] == 0x0A {
            guard i > bytes.startIndex, bytes[i - 1] == 0x0D else { return bytes }
            newlines += 1
        }
        guard newlines > 0 else { return bytes }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count - newlines)
        for i in bytes.indices where !(bytes[i] == 0x0D && i + 1 < bytes.endIndex && bytes[i + 1] == 0x0A) {
            out.append(bytes[i])
        }
        return out
    }

    /// Splits and parses `bytes`.
    ///
    /// An mbox is split at lines starting `From ` that open the input or
    /// follow an empty line (format-patch separators always do; a commit
    /// message line starting "From " inside a paragraph is not taken for
    /// one), and `>From `, `>>From ` lines are unquoted by one `>` (mboxrd).
    public static func parse(bytes input: [UInt8], source: String = "<mbox>") throws -> Mbox {
        guard input.count <= InputLimits.maxBytes else {
            throw InputError.tooLarge(source: source, reason: "\(input.count) bytes, more than \(InputLimits.maxBytes)")
        }
        let bytes = withoutCRLF(input)
        let lines = ByteLines(bytes).lines
        guard let first = lines.firstIndex(where: { !$0.isEmpty }) else {
            throw InputError.malformedMail(source: source, line: 1, reason: "empty input: neither a mail nor a diff")
        }
        if lines[first].hasASCIIPrefix("From ") {
            var messages: [PatchMessage] = []
            var start = first
            var k = first + 1
            while k <= lines.count {
                if k == lines.count || (lines[k].hasASCIIPrefix("From ") && lines[k - 1].isEmpty) {
                    let body = lines[(start + 1)..<k].map(unquoteFrom)
                    messages.append(try message(body[...], source: source, firstLine: start + 2))
                    start = k
                }
                k += 1
            }
            return Mbox(messages: messages)
        }
        if looksLikeHeaders(lines[first...]) {
            return Mbox(messages: [try message(lines[first...], source: source, firstLine: first + 1)])
        }
        let diff = try UnifiedDiff.parse(bytes: bytes, source: source)
        guard !diff.files.isEmpty else {
            throw InputError.malformedMail(source: source, line: first + 1,
                                           reason: "neither an mbox, a mail nor a diff: no 'From ' line, no headers, no file header")
        }
        let plain = PatchMessage(headers: MailHeaders(fields: []), recipients: .noRecipientInformation, from: nil,
                                 messageID: nil, date: nil, parsedDate: nil, subject: "", prefix: SubjectPrefix(),
                                 message: "", trailers: [], diff: diff, firstLine: 1)
        return Mbox(messages: [plain])
    }

    /// `>From ` → `From `, `>>From ` → `>From ` (mboxrd quoting).
    static func unquoteFrom(_ line: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        let quotes = line.prefix { $0 == UInt8(ascii: ">") }.count
        guard quotes > 0, line.dropFirst(quotes).hasASCIIPrefix("From ") else { return line }
        return line.dropFirst()
    }

    /// Whether the lines up to the first empty one are all header fields
    /// or continuations, and there is at least one field.
    static func looksLikeHeaders(_ lines: ArraySlice<ArraySlice<UInt8>>) -> Bool {
        var fields = 0
        for line in lines {
            if line.isEmpty || line.elementsEqual([0x0D]) { break }
            if line.first == UInt8(ascii: " ") || line.first == UInt8(ascii: "\t") {
                if fields == 0 { return false }
                continue
            }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex,
                  line[..<colon].allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return false }
            fields += 1
        }
        return fields > 0
    }

    /// One mail: headers, decoded body, message, trailers, diff.
    static func message(_ lines: ArraySlice<ArraySlice<UInt8>>, source: String, firstLine: Int) throws -> PatchMessage {
        // A CRLF mail's empty line is a lone CR.
        let blank = lines.firstIndex { $0.isEmpty || $0.elementsEqual([0x0D]) } ?? lines.endIndex
        let headers = try MailHeaders.parse(lines[lines.startIndex..<blank], source: source, firstLine: firstLine)
        let bodyStart = min(blank + 1, lines.endIndex)
        let bodyFirstLine = firstLine + (bodyStart - lines.startIndex)
        var body = Array(lines[bodyStart...])
        switch headers["Content-Transfer-Encoding"]?.lowercased().trimmingCharacters(in: .whitespaces) {
        case "quoted-printable"?:
            body = ByteLines(TransferEncoding.decodeQuotedPrintable(body)).lines
        case "base64"?:
            guard let decoded = TransferEncoding.decodeBase64(body) else {
                throw InputError.malformedMail(source: source, line: bodyFirstLine, reason: "body is not valid base64")
            }
            body = ByteLines(decoded).lines
        default:
            break
        }
        let diffStart = body.indices.first { k in
            body[k].hasASCIIPrefix("diff --git ")
                || (body[k].hasASCIIPrefix("--- ") && k + 1 < body.count && body[k + 1].hasASCIIPrefix("+++ "))
        }
        // The commit message ends at the last "---" line before the diff (format-patch's separator).
        let messageEnd = diffStart.map { d in body[..<d].lastIndex { $0.elementsEqual("---".utf8) } ?? d }
            ?? (body.lastIndex { $0.elementsEqual("-- ".utf8) } ?? body.count)
        let message = body[..<messageEnd].map(\.text).joined(separator: "\n")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        var diff: UnifiedDiff?
        if diffStart != nil {
            var bytes: [UInt8] = []
            for line in body[messageEnd...] { bytes.append(contentsOf: line); bytes.append(0x0A) }
            diff = try UnifiedDiff.parse(bytes: bytes, source: source, firstLine: bodyFirstLine + messageEnd)
        }
        let (prefix, subject) = SubjectPrefix.split(headers["Subject"] ?? "")
        let date = headers["Date"]
        return PatchMessage(
            headers: headers,
            recipients: .listed(to: headers.addresses("To"), cc: headers.addresses("Cc")),
            from: headers.addresses("From").first,
            messageID: headers["Message-ID"].map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "<> ")) },
            date: date, parsedDate: date.flatMap(MailDate.parse),
            subject: subject, prefix: prefix, message: message,
            trailers: Trailer.parse(message: message), diff: diff, firstLine: firstLine)
    }
}

/// `Content-Transfer-Encoding` bodies some mailers and b4 send.
enum TransferEncoding {
    /// Quoted-printable: `=XX` bytes, `=` at a line end joins lines.
    static func decodeQuotedPrintable(_ lines: [ArraySlice<UInt8>]) -> [UInt8] {
        var out: [UInt8] = []
        for line in lines {
            var i = line.startIndex
            var softBreak = false
            while i < line.endIndex {
                let b = line[i]
                if b == UInt8(ascii: "=") {
                    if i + 1 == line.endIndex || (i + 2 == line.endIndex && line[i + 1] == 0x0D) { softBreak = true; break }
                    if i + 2 < line.endIndex, let v = hexByte(line[i + 1], line[i + 2]) {
                        out.append(v); i += 3; continue
                    }
                }
                out.append(b)
                i += 1
            }
            if !softBreak { out.append(0x0A) }
        }
        return out
    }

    static func decodeBase64(_ lines: [ArraySlice<UInt8>]) -> [UInt8]? {
        var text = ""
        for line in lines { text += line.text.trimmingCharacters(in: .whitespaces) }
        return Data(base64Encoded: text).map { Array($0) }
    }
}

/// RFC 5322 dates (`Mon, 23 Nov 2026 18:31:22 +0000`, with or without the
/// day name, with an optional `(UTC)` comment).
enum MailDate {
    static func parse(_ text: String) -> Date? {
        var s = text
        if let paren = s.firstIndex(of: "(") { s = String(s[..<paren]) }
        s = s.trimmingCharacters(in: .whitespaces)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        for format in ["EEE, d MMM yyyy HH:mm:ss Z", "d MMM yyyy HH:mm:ss Z", "EEE, d MMM yyyy HH:mm Z"] {
            formatter.dateFormat = format
            if let d = formatter.date(from: s) { return d }
        }
        return nil
    }
}
