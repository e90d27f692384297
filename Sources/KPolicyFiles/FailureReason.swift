import Foundation

/// Why a file was not checked.
public enum FailureReason: Error, Sendable, Codable, Equatable, CustomStringConvertible {
    /// libclang returned no translation unit.
    case parse(String)
    /// The file could not be read (permissions, vanished).
    case unreadable(String)
    /// A FIFO, device, socket or directory named like a source file.
    case notARegularFile(String)

    public var description: String {
        switch self {
        case .parse(let why): return why
        case .unreadable(let why): return "cannot be read: \(why)"
        case .notARegularFile(let kind): return "not a regular file (\(kind)); only regular files are read as source"
        }
    }

    /// The bracketed tag text reports use.
    public var tag: String {
        switch self {
        case .parse: return "parse-failure"
        case .unreadable: return "unreadable-file"
        case .notARegularFile: return "not-a-regular-file"
        }
    }
}
