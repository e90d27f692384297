import Foundation
import Kbuild
import KPolicyFiles
import PatchInput

/// Keeps libclang from reading what is not source: before a parse, the
/// file's own `#include`s and the forced `-include`s are resolved the way
/// the preprocessor would look them up, and a FIFO (which blocks forever),
/// a device (`/dev/zero` never ends) or a directory among them fails the
/// file with its name instead of hanging the run. Headers included from
/// other headers are not looked at (a known gap: docs/ARCHITECTURE.md).
enum IncludeGuard {
    /// Why the parse must not start, or nil.
    static func problem(mainFile: URL, text: [UInt8], arguments: [String]) -> String? {
        var quoted: [String] = [mainFile.deletingLastPathComponent().path]
        var angled: [String] = []
        var forced: [String] = []
        var i = 0
        while i < arguments.count {
            let a = arguments[i]
            func value(_ flag: String) -> String? {
                if a == flag, i + 1 < arguments.count { i += 1; return arguments[i] }
                if a.hasPrefix(flag), a.count > flag.count { return String(a.dropFirst(flag.count)) }
                return nil
            }
            if let v = value("-iquote") { quoted.append(v) }
            else if let v = value("-isystem") { angled.append(v) }
            else if let v = value("-idirafter") { angled.append(v) }
            else if let v = value("-include") { forced.append(v) }
            else if let v = value("-I") { angled.append(v) }
            i += 1
        }
        for f in forced {
            if let kind = SourceFile.irregularKind(atPath: f) { return "the forced include \(f) is \(kind), not a header" }
        }
        for include in HeaderIncluders.includes(in: text) {
            let (name, isQuoted) = (include.name, include.quoted)
            let dirs = name.hasPrefix("/") ? [""] : (isQuoted ? quoted + angled : angled)
            for dir in dirs {
                let path = dir.isEmpty ? name : dir + "/" + name
                var st = stat()
                guard stat(path, &st) == 0 else { continue }
                if let kind = SourceFile.irregularKind(atPath: path) {
                    return "#include \(isQuoted ? "\"\(name)\"" : "<\(name)>") names \(path), which is \(kind), not a header"
                }
                break
            }
        }
        return nil
    }
}
