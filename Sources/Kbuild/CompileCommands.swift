import Foundation
import KPolicyFiles
import PatchInput

/// compile_commands.json of a built tree, reduced to what parsing needs.
///
/// Only the preprocessor's view of a command is kept (include paths,
/// defines, forced includes, language standard, -nostdinc): the code
/// generation flags GCC builds carry (-mindirect-branch, -fconserve-stack,
/// ...) mean nothing to libclang and some are errors to it.
struct CompileCommands: Sendable {
    /// Absolute source path → arguments for libclang.
    let arguments: [String: [String]]

    init(url: URL) throws {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw KPolicyError.badCompileCommands(path: url.path, reason: "cannot be read")
        }
        guard let entries = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]] else {
            throw KPolicyError.badCompileCommands(path: url.path, reason: "not a JSON array of compile commands")
        }
        var map: [String: [String]] = [:]
        for entry in entries {
            guard let directory = entry["directory"] as? String, let file = entry["file"] as? String else { continue }
            let words: [String]
            if let args = entry["arguments"] as? [String] {
                words = args
            } else if let command = entry["command"] as? String {
                words = CompileCommands.split(command)
            } else { continue }
            let absolute = file.hasPrefix("/") ? file : directory + "/" + file
            map[URL(fileURLWithPath: absolute).standardizedFileURL.path] = CompileCommands.keep(words, directory: directory)
        }
        arguments = map
    }

    /// Keeps the preprocessor-relevant flags, with relative paths made absolute.
    static func keep(_ words: [String], directory: String) -> [String] {
        func absolute(_ path: String) -> String {
            path.hasPrefix("/") ? path : URL(fileURLWithPath: directory + "/" + path).standardizedFileURL.path
        }
        var result: [String] = []
        var i = 1 // skip the compiler
        while i < words.count {
            let w = words[i]
            let next = i + 1 < words.count ? words[i + 1] : nil
            switch w {
            case "-I", "-isystem", "-iquote", "-include", "-idirafter":
                if let next { result += [w, absolute(next)] }
                i += 2
                continue
            case "-D", "-U":
                if let next { result += [w, next] }
                i += 2
                continue
            case "-nostdinc", "-m64", "-m32", "-mx32":
                result.append(w)
            default:
                if w.hasPrefix("-I") { result.append("-I" + absolute(String(w.dropFirst(2)))) }
                else if w.hasPrefix("-isystem") { result.append("-isystem" + absolute(String(w.dropFirst(8)))) }
                else if w.hasPrefix("-D") || w.hasPrefix("-U") || w.hasPrefix("-std=") { result.append(w) }
            }
            i += 1
        }
        return result
    }

    /// Splits a shell command line (quotes and backslashes, no expansions).
    static func split(_ command: String) -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character? = nil
        var escape = false
        for c in command {
            if escape { current.append(c); escape = false; inWord = true; continue }
            if c == "\\" && quote != "'" { escape = true; continue }
            if let q = quote {
                if c == q { quote = nil } else { current.append(c) }
                continue
            }
            if c == "\"" || c == "'" { quote = c; inWord = true; continue }
            if c == " " || c == "\t" || c == "\n" {
                if inWord { words.append(current); current = ""; inWord = false }
                continue
            }
            current.append(c)
            inWord = true
        }
        if inWord { words.append(current) }
        return words
    }
}
