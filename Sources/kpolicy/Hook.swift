import ArgumentParser
import Foundation
import KPolicy
import KPolicyFiles
import PatchInput

extension KPolicyCommand {
    /// `kpolicy hook`: the git pre-commit hook.
    struct Hook: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Install or remove a git pre-commit hook that runs 'kpolicy diff --cached'.",
            subcommands: [Install.self, Uninstall.self])

        /// The first lines of the hook kpolicy writes; how it knows its own.
        static let marker = "# kpolicy pre-commit hook (kpolicy hook install)"

        /// This executable's absolute path, whatever it was started as (a
        /// bare `kpolicy` found on PATH is not a path relative to the
        /// current directory).
        static func ownExecutable() -> String {
            if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"), exe.hasPrefix("/") {
                return exe
            }
            return URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
        }

        /// `text` as one sh word.
        static func shellQuoted(_ text: String) -> String {
            "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
        }

        static func hookPath(_ tree: TreeOptions) throws -> (URL, Git) {
            let git = try Git(directory: URL(fileURLWithPath: tree.tree))
            let path = String(decoding: try git.run(["rev-parse", "--git-path", "hooks/pre-commit"]), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let url = path.hasPrefix("/") ? URL(fileURLWithPath: path) : git.top.appendingPathComponent(path)
            return (url, git)
        }

        struct Install: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Write .git/hooks/pre-commit (refuses to replace another hook without --force).")

            @OptionGroup var tree: TreeOptions

            @Flag(help: "Replace an existing pre-commit hook that kpolicy did not write.")
            var force = false

            @Option(help: "The kpolicy the hook runs (default: this one).")
            var kpolicy: String?

            func run() throws {
                let (hook, _) = try Hook.hookPath(tree)
                let fm = FileManager.default
                if fm.fileExists(atPath: hook.path), !force {
                    let existing = (try? String(contentsOf: hook, encoding: .utf8)) ?? ""
                    guard existing.contains(Hook.marker) else {
                        throw KPolicyError.badInput(path: hook.path, reason: "is another pre-commit hook; kpolicy leaves it alone (use --force to replace it)")
                    }
                }
                let binary = kpolicy.map { URL(fileURLWithPath: $0).standardizedFileURL.path } ?? Hook.ownExecutable()
                let arch = tree.arch.map { " --arch " + Hook.shellQuoted($0) } ?? ""
                // The report goes to stderr by redirection: `--output
                // /dev/stderr` would reopen (and truncate) a file stderr is
                // redirected to.
                let script = """
                    #!/bin/sh
                    \(Hook.marker)
                    # Checks what this commit records (the staged changes) against kpolicy's rules;
                    # findings go to stderr and stop the commit. Skip once with 'git commit --no-verify'.
                    exec \(Hook.shellQuoted(binary)) diff --cached --tree "$(git rev-parse --show-toplevel)"\(arch) --quiet --format text >&2

                    """
                try fm.createDirectory(at: hook.deletingLastPathComponent(), withIntermediateDirectories: true)
                do {
                    try Data(script.utf8).write(to: hook)
                    try fm.setAttributes([.posixPermissions: 0o755], ofItemAtPath: hook.path)
                } catch {
                    throw KPolicyError.unreadableFile(path: hook.path, reason: "cannot be written: \(error.localizedDescription)")
                }
                try emit("kpolicy: installed \(hook.path)\n", to: nil)
            }
        }

        struct Uninstall: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Remove the pre-commit hook kpolicy wrote (and no other).")

            @OptionGroup var tree: TreeOptions

            func run() throws {
                let (hook, _) = try Hook.hookPath(tree)
                guard FileManager.default.fileExists(atPath: hook.path) else {
                    try emit("kpolicy: no pre-commit hook at \(hook.path)\n", to: nil)
                    return
                }
                let existing = (try? String(contentsOf: hook, encoding: .utf8)) ?? ""
                guard existing.contains(Hook.marker) else {
                    throw KPolicyError.badInput(path: hook.path, reason: "is not kpolicy's pre-commit hook; left alone")
                }
                try FileManager.default.removeItem(at: hook)
                try emit("kpolicy: removed \(hook.path)\n", to: nil)
            }
        }
    }
}
