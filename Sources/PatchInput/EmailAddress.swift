import Foundation
import KPolicyFiles

/// One mail address as written in a header, a trailer or MAINTAINERS:
/// `Name <addr>`, `"Name, Jr." <addr>`, `<addr>`, `addr` or `addr (Name)`.
public struct EmailAddress: Hashable, Sendable, CustomStringConvertible {
    /// The display name, decoded, without quotes; nil when none was given.
    public var name: String?
    /// The address itself (`local@domain`), as written.
    public var address: String

    public init(name: String?, address: String) {
        self.name = name
        self.address = address
    }

    /// The address lowercased, which is how get_maintainer.pl and mail
    /// clients compare recipients.
    public var normalizedAddress: String { address.lowercased() }

    public var description: String {
        guard let name, !name.isEmpty else { return address }
        return "\(name) <\(address)>"
    }

    /// Parses one address; nil when `text` holds no address at all.
    ///
    /// Trailing comments kernel trailers carry (`# v6.1+`, `[ver]`) are
    /// dropped: `Cc: stable@vger.kernel.org # 6.1` is the address
    /// stable@vger.kernel.org.
    public static func parse(_ text: String) -> EmailAddress? {
        var s = Substring(text).trimmingCharacters(in: .whitespaces)
        if let open = s.firstIndex(of: "<"), let close = s[open...].firstIndex(of: ">") {
            let address = s[s.index(after: open)..<close].trimmingCharacters(in: .whitespaces)
            var name = s[..<open].trimmingCharacters(in: .whitespaces)
            if name.hasPrefix("\""), name.hasSuffix("\""), name.count >= 2 {
                name = String(name.dropFirst().dropLast()).replacingOccurrences(of: "\\\"", with: "\"")
            }
            guard !address.isEmpty else { return nil }
            return EmailAddress(name: name.isEmpty ? nil : name, address: address)
        }
        if let hash = s.firstIndex(of: "#") { s = String(s[..<hash]).trimmingCharacters(in: .whitespaces) }
        var name: String?
        if let open = s.firstIndex(of: "("), let close = s.lastIndex(of: ")"), open < close {
            name = s[s.index(after: open)..<close].trimmingCharacters(in: .whitespaces)
            s = String(s[..<open]).trimmingCharacters(in: .whitespaces)
        }
        let token = s.split(whereSeparator: { $0 == " " || $0 == "\t" }).first.map(String.init) ?? ""
        guard !token.isEmpty else { return nil }
        return EmailAddress(name: name?.isEmpty == false ? name : nil, address: token)
    }

    /// Parses an address list (`To:`/`Cc:` value): commas inside quotes,
    /// angle brackets or comments do not separate; group syntax
    /// (`undisclosed-recipients:;`, `team: a@b, c@d;`) yields its members.
    public static func parseList(_ text: String) -> [EmailAddress] {
        var parts: [String] = []
        var current = ""
        var inQuote = false, angle = 0, paren = 0
        var previous: Character = " "
        for c in text {
            switch c {
            case "\"" where previous != "\\": inQuote.toggle()
            case "<" where !inQuote: angle += 1
            case ">" where !inQuote && angle > 0: angle -= 1
            case "(" where !inQuote: paren += 1
            case ")" where !inQuote && paren > 0: paren -= 1
            default: break
            }
            if (c == "," || c == ";") && !inQuote && angle == 0 && paren == 0 {
                parts.append(current)
                current = ""
            } else if c == ":" && !inQuote && angle == 0 && paren == 0 && !current.contains("@") {
                current = "" // a group's display name
            } else {
                current.append(c)
            }
            previous = c
        }
        parts.append(current)
        return parts.compactMap { EmailAddress.parse($0) }
    }
}
