/// The kernel's version as the top-level Makefile states it.
public struct KernelVersion: Comparable, Hashable, Sendable, CustomStringConvertible, Codable {
    public var version: Int
    public var patchlevel: Int
    public var sublevel: Int
    public var extraversion: String

    public init(_ version: Int, _ patchlevel: Int, _ sublevel: Int = 0, extraversion: String = "") {
        self.version = version
        self.patchlevel = patchlevel
        self.sublevel = sublevel
        self.extraversion = extraversion
    }

    /// Parses "6.12", "6.1.192" or "6.10-rc1".
    public init?(string: String) {
        let core = string.split(separator: "-", maxSplits: 1).first.map(String.init) ?? string
        let parts = core.split(separator: ".").map { Int($0) }
        guard parts.count >= 2, parts.allSatisfy({ $0 != nil }) else { return nil }
        self.init(parts[0]!, parts[1]!, parts.count > 2 ? parts[2]! : 0)
    }

    public static func < (a: Self, b: Self) -> Bool {
        (a.version, a.patchlevel, a.sublevel) < (b.version, b.patchlevel, b.sublevel)
    }

    /// "6.12.117".
    public var description: String { "\(version).\(patchlevel).\(sublevel)\(extraversion)" }
    /// "6.12": the series, which is what API availability depends on.
    public var series: String { "\(version).\(patchlevel)" }
}
