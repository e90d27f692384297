import Foundation
import KPolicyFiles

/// RFC 5322 header fields of one mail, unfolded and RFC 2047-decoded.
///
/// Kept as an ordered list because mails legitimately repeat fields
/// (`Received:`, and hostile ones repeat `Subject:`): the first occurrence
/// is the one used, as git mailinfo does.
public struct MailHeaders: Equatable, Sendable {
    public struct Field: Equatable, Sendable {
        public var name: String
        /// The unfolded value with encoded words decoded.
        public var value: String
        /// The unfolded value as written.
        public var raw: String
    }

    public var fields: [Field]

    /// The first field called `name` (case-insensitive), decoded.
    public subscript(_ name: String) -> String? {
        fields.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    /// The first field called `name`, as written (addresses are parsed
    /// before decoding so an encoded comma in a name does not split it).
    public func raw(_ name: String) -> String? {
        fields.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.raw
    }

    /// Every address of every field called `name`.
    public func addresses(_ name: String) -> [EmailAddress] {
        fields.filter { $0.name.caseInsensitiveCompare(name) == .orderedSame }
            .flatMap { EmailAddress.parseList($0.raw) }
            .map { EmailAddress(name: $0.name.map(EncodedWords.decode), address: $0.address) }
    }

    /// Parses header lines (without the blank line that ends them).
    /// `firstLine` is the line number of `lines[0]` in `source`.
    static func parse(_ lines: ArraySlice<ArraySlice<UInt8>>, source: String, firstLine: Int) throws -> MailHeaders {
        guard lines.count <= InputLimits.maxHeaders * 4 else {
            throw InputError.tooLarge(source: source, reason: "more than \(InputLimits.maxHeaders * 4) header lines in one mail")
        }
        var fields: [Field] = []
        for (offset, line) in zip(lines.indices, lines) {
            let number = firstLine + (offset - lines.startIndex)
            if line.first == UInt8(ascii: " ") || line.first == UInt8(ascii: "\t") {
                guard !fields.isEmpty else {
                    throw InputError.malformedMail(source: source, line: number, reason: "continuation line before any header field")
                }
                fields[fields.count - 1].raw += " " + line.text.trimmingCharacters(in: .whitespacesAndNewlines)
                continue
            }
            let text = line.text
            guard let colon = text.firstIndex(of: ":"), colon > text.startIndex,
                  text[..<colon].allSatisfy({ $0.isASCII && !$0.isWhitespace && $0 != ":" }) else {
                throw InputError.malformedMail(source: source, line: number,
                                               reason: "header line is not 'Name: value': \(text.prefix(60))")
            }
            guard fields.count < InputLimits.maxHeaders else {
                throw InputError.tooLarge(source: source, reason: "more than \(InputLimits.maxHeaders) header fields in one mail")
            }
            let value = text[text.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
            fields.append(Field(name: String(text[..<colon]), value: "", raw: value))
        }
        for i in fields.indices { fields[i].value = EncodedWords.decode(fields[i].raw) }
        return MailHeaders(fields: fields)
    }
}

/// RFC 2047 encoded words (`=?UTF-8?Q?...?=`, `=?utf-8?B?...?=`), which
/// mailers use for non-ASCII names and subjects. UTF-8, US-ASCII and
/// ISO-8859-1 are decoded; a word in another charset, or one that does not
/// decode, is left as written rather than guessed at.
enum EncodedWords {
    static func decode(_ text: String) -> String {
        guard text.contains("=?") else { return text }
        var out = ""
        var rest = Substring(text)
        var lastWasEncoded = false
        var pendingSpace = ""
        while let start = rest.range(of: "=?") {
            let before = rest[..<start.lowerBound]
            guard let word = parseWord(rest[start.lowerBound...]) else {
                out += pendingSpace + before + "=?"
                pendingSpace = ""
                rest = rest[start.upperBound...]
                lastWasEncoded = false
                continue
            }
            // Whitespace between two encoded words is not part of the text.
            if !(lastWasEncoded && before.allSatisfy(\.isWhitespace)) { out += pendingSpace + before }
            out += word.text
            pendingSpace = ""
            lastWasEncoded = true
            rest = rest[word.end...]
        }
        return out + rest
    }

    static func parseWord(_ s: Substring) -> (text: String, end: Substring.Index)? {
        // =?charset?enc?text?=
        let body = s.dropFirst(2)
        guard let q1 = body.firstIndex(of: "?") else { return nil }
        let charset = body[..<q1].lowercased().split(separator: "*").first.map(String.init) ?? ""
        let afterCharset = body[body.index(after: q1)...]
        guard let q2 = afterCharset.firstIndex(of: "?") else { return nil }
        let encoding = afterCharset[..<q2].uppercased()
        let payloadStart = afterCharset.index(after: q2)
        guard let close = afterCharset[payloadStart...].range(of: "?=") else { return nil }
        let payload = afterCharset[payloadStart..<close.lowerBound]
        guard !payload.contains(" ") else { return nil }
        let bytes: [UInt8]?
        switch encoding {
        case "Q": bytes = decodeQ(payload)
        case "B": bytes = Data(base64Encoded: padBase64(String(payload))).map { Array($0) }
        default: bytes = nil
        }
        guard let bytes, let text = decodeCharset(bytes, charset) else { return nil }
        return (text, close.upperBound)
    }

    static func decodeQ(_ s: Substring) -> [UInt8]? {
        var out: [UInt8] = []
        var it = Array(s.utf8)[...]
        while let b = it.popFirst() {
            if b == UInt8(ascii: "_") { out.append(0x20) }
            else if b == UInt8(ascii: "=") {
                guard it.count >= 2, let v = hexByte(it[it.startIndex], it[it.startIndex + 1]) else { return nil }
                out.append(v)
                it = it.dropFirst(2)
            } else { out.append(b) }
        }
        return out
    }

    static func decodeCharset(_ bytes: [UInt8], _ charset: String) -> String? {
        switch charset {
        case "utf-8", "utf8", "us-ascii", "ascii":
            return String(validating: bytes, as: UTF8.self)
        case "iso-8859-1", "latin1", "iso-8859-15":
            return String(bytes.map { Character(Unicode.Scalar($0)) })
        default:
            return nil
        }
    }

    static func padBase64(_ s: String) -> String {
        let r = s.count % 4
        return r == 0 ? s : s + String(repeating: "=", count: 4 - r)
    }
}

/// A hex pair as a byte (`=3D` in quoted-printable and Q words).
func hexByte(_ a: UInt8, _ b: UInt8) -> UInt8? {
    func v(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        default: return nil
        }
    }
    guard let hi = v(a), let lo = v(b) else { return nil }
    return hi << 4 | lo
}
