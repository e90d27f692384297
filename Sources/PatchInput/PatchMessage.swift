import Foundation
import KPolicyFiles

/// One mail of a patch series: a patch, or the cover letter (`[PATCH 0/N]`).
public struct PatchMessage: Equatable, Sendable {
    public var headers: MailHeaders
    /// Who the mail was addressed to, or explicitly nothing known.
    public var recipients: Recipients
    public var from: EmailAddress?
    public var messageID: String?
    /// `Date:` as written, and parsed when it is RFC 5322.
    public var date: String?
    public var parsedDate: Date?
    /// The decoded subject without its `[PATCH ...]` prefix.
    public var subject: String
    public var prefix: SubjectPrefix
    /// The commit message (or cover letter text): the body up to the `---`
    /// line before the diff, trailers included.
    public var message: String
    /// `Signed-off-by:`, `Cc:`, `Reviewed-by:`, ... from the message's last paragraph.
    public var trailers: [Trailer]
    /// The diff after `---`; nil when the mail carries none.
    public var diff: UnifiedDiff?
    /// The line of the source this mail starts on.
    public var firstLine: Int

    /// `[PATCH 0/N]` (or any mail numbered 0) without a diff.
    public var isCoverLetter: Bool { diff == nil && prefix.index == 0 }

    /// Trailers with the given key (case-insensitive), e.g. "Signed-off-by".
    public func trailers(_ key: String) -> [Trailer] {
        trailers.filter { $0.key.caseInsensitiveCompare(key) == .orderedSame }
    }
}

/// Recipients of a mail.
///
/// A plain diff carries no headers, so "nobody was Cc'd" cannot be told from
/// "we don't know who was Cc'd"; the second is its own case so a rule about
/// Cc'ing maintainers says once that it could not check, instead of
/// reporting every maintainer as missing.
public enum Recipients: Equatable, Sendable {
    /// The mail's `To:` and `Cc:` lists (possibly empty).
    case listed(to: [EmailAddress], cc: [EmailAddress])
    /// The input was a plain diff: no recipient information at all.
    case noRecipientInformation

    /// Every recipient, or nil when there is no recipient information.
    public var all: [EmailAddress]? {
        switch self {
        case .listed(let to, let cc): return to + cc
        case .noRecipientInformation: return nil
        }
    }

    /// Whether `address` was among the recipients (case-insensitive); nil
    /// when there is no recipient information.
    public func includes(_ address: String) -> Bool? {
        all.map { $0.contains { $0.normalizedAddress == address.lowercased() } }
    }
}

/// The bracketed prefix of a patch subject: `[RFC PATCH net-next v2 3/7]`.
public struct SubjectPrefix: Equatable, Sendable {
    /// Words other than the version and the number (`PATCH`, `RFC`, `net-next`).
    public var tags: [String]
    /// `v2` → 2; nil for a first version.
    public var version: Int?
    /// `3/7` → 3 and 7; nil when the patch is not numbered.
    public var index: Int?
    public var total: Int?

    public var isRFC: Bool { tags.contains { $0.uppercased() == "RFC" } }

    public init(tags: [String] = [], version: Int? = nil, index: Int? = nil, total: Int? = nil) {
        self.tags = tags
        self.version = version
        self.index = index
        self.total = total
    }

    /// Splits the leading `[...]` groups off `subject` (as git am does) and
    /// reads them; returns the prefix and the rest of the subject.
    public static func split(_ subject: String) -> (SubjectPrefix, String) {
        var prefix = SubjectPrefix()
        var rest = Substring(subject).drop(while: \.isWhitespace)
        while rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
            for word in rest[rest.index(after: rest.startIndex)..<close].split(whereSeparator: { $0 == " " || $0 == "," }) {
                if let v = number(after: "v", in: word) ?? number(after: "V", in: word), prefix.version == nil {
                    prefix.version = v
                } else if let slash = word.firstIndex(of: "/"), let i = number(word[..<slash]),
                          let n = number(word[word.index(after: slash)...]), prefix.index == nil {
                    prefix.index = i
                    prefix.total = n
                } else {
                    prefix.tags.append(String(word))
                }
            }
            rest = rest[rest.index(after: close)...].drop(while: \.isWhitespace)
        }
        return (prefix, String(rest))
    }

    static func number<S: StringProtocol>(_ s: S) -> Int? {
        guard !s.isEmpty, s.count <= 6, s.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(s)
    }

    static func number(after letter: String, in word: Substring) -> Int? {
        guard word.hasPrefix(letter) else { return nil }
        return number(word.dropFirst())
    }
}

/// A trailer line: `Key: value`, with the address when the value has one.
public struct Trailer: Equatable, Sendable {
    public var key: String
    public var value: String
    public var address: EmailAddress?

    /// Reads the trailer block: the message's last paragraph, when at least
    /// half its lines are `Key: value` with a key of letters, digits and
    /// dashes (git interpret-trailers asks for a quarter; kernel trailer
    /// blocks are all trailers). Lines that are not trailers are ignored.
    static func parse(message: String) -> [Trailer] {
        let lines = message.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        guard let lastText = lines.lastIndex(where: { !$0.isEmpty }) else { return [] }
        var first = lastText
        while first > 0, !lines[first - 1].isEmpty { first -= 1 }
        let paragraph = lines[first...lastText]
        let trailers = paragraph.compactMap(parseLine)
        guard trailers.count * 2 >= paragraph.count else { return [] }
        return trailers
    }

    static func parseLine(_ line: String) -> Trailer? {
        guard let colon = line.firstIndex(of: ":"), colon > line.startIndex else { return nil }
        let key = line[..<colon]
        guard key.count <= 64, key.first?.isLetter == true,
              key.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else { return nil }
        let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        guard !value.isEmpty else { return nil }
        // Link:, Fixes:, Closes: values may contain '@' without being addresses.
        let lower = key.lowercased()
        let carriesAddress = lower.hasSuffix("-by") || lower == "cc" || lower == "to"
        let address = carriesAddress && value.contains("@") ? EmailAddress.parse(value) : nil
        return Trailer(key: String(key), value: value, address: address)
    }
}
