import Foundation
import KPolicyFiles

/// Runs git in a repository and reads its output; never writes to the work
/// tree or the index.
public struct Git: Sendable {
    /// The top of the work tree.
    public let top: URL

    /// The repository whose work tree `directory` is the top of; bad input
    /// when it is not one.
    public init(directory: URL) throws {
        let out = try Git.run(["rev-parse", "--show-toplevel"], in: directory)
        let top = String(decoding: out, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !top.isEmpty else { throw KPolicyError.badInput(path: directory.path, reason: "is not in a git work tree") }
        let a = URL(fileURLWithPath: top).resolvingSymlinksInPath().path
        let b = directory.standardizedFileURL.resolvingSymlinksInPath().path
        guard a == b else {
            throw KPolicyError.badInput(path: directory.path, reason: "is not the top of its git work tree (\(top)); give the tree's top as --tree")
        }
        self.top = URL(fileURLWithPath: top)
    }

    /// git's output; a failing git is bad input naming the command and
    /// git's first line of complaint.
    @discardableResult
    public func run(_ arguments: [String]) throws -> [UInt8] { try Git.run(arguments, in: top) }

    /// A blob's bytes (`REV:path`, `:path` for the index), nil when the
    /// revision has no such path.
    public func blob(_ spec: String) -> [UInt8]? {
        try? Git.run(["cat-file", "blob", spec], in: top)
    }

    /// Whether `rev` names a commit.
    public func hasCommit(_ rev: String) -> Bool { commit(rev) != nil }

    /// The id of the commit `rev` names, nil when it names none. `rev` is
    /// never read as an option (`--end-of-options`), and the id is what
    /// later git commands get.
    public func commit(_ rev: String) -> String? {
        guard !rev.isEmpty, let out = try? Git.run(["rev-parse", "--verify", "--quiet", "--end-of-options", rev + "^{commit}"], in: top) else {
            return nil
        }
        let id = String(decoding: out, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return id.isEmpty ? nil : id
    }

    static func run(_ arguments: [String], in directory: URL) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        // Plain, stable output whatever the user's configuration says.
        process.arguments = ["git", "-c", "color.ui=never", "-c", "core.quotepath=on", "-c", "diff.noprefix=false",
                             "-c", "diff.mnemonicPrefix=false", "-c", "diff.external="] + arguments
        process.currentDirectoryURL = directory
        var environment = ProcessInfo.processInfo.environment
        environment["GIT_PAGER"] = "cat"
        environment["LC_ALL"] = "C"
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch {
            throw KPolicyError.badInput(path: directory.path, reason: "cannot run git: \(error.localizedDescription)")
        }
        // Read both pipes while git runs, so a large diff cannot fill one and block.
        // Both bounded like any input (InputSource): a blob or diff past
        // the limit stops git and is bad input.
        final class Box: @unchecked Sendable { var data: [UInt8] = [] }
        let errBox = Box()
        let done = DispatchSemaphore(value: 0)
        let errDescriptor = err.fileHandleForReading.fileDescriptor
        let command = "git " + (arguments.first ?? "")
        Thread {
            errBox.data = (try? InputSource.read(fileDescriptor: errDescriptor, source: command)) ?? []
            done.signal()
        }.start()
        let data: [UInt8]
        do { data = try InputSource.read(fileDescriptor: out.fileHandleForReading.fileDescriptor, source: command) } catch {
            process.terminate()
            process.waitUntilExit()
            done.wait()
            throw error
        }
        process.waitUntilExit()
        done.wait()
        let errData = errBox.data
        guard process.terminationStatus == 0 else {
            let line = String(decoding: errData, as: UTF8.self).split(whereSeparator: \.isNewline).first.map(String.init) ?? "exit \(process.terminationStatus)"
            throw KPolicyError.badInput(path: directory.path, reason: "git \(arguments.joined(separator: " ")): \(line)")
        }
        return data
    }
}
