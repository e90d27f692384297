import ArgumentParser
import Foundation

/// The `kpolicy` command: a policy linter and static model checker for
/// Linux kernel executable-memory code.
@main
struct KPolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kpolicy",
        abstract: "Policy linter and model checker for Linux kernel executable-memory code.",
        discussion: """
            Exit codes: 0 ok; 1 findings at or above --fail-on, or model violations; 2 bad input \
            (missing file, not a kernel tree, bad rule, scenario or baseline file, output not writable); \
            3 a file could not be parsed or read; 64 bad command line; 70 internal error. See docs/exit-codes.md.
            """,
        version: KPolicyVersion.string,
        subcommands: [Check.self, Merge.self, Patch.self, Diff.self, Hook.self, Baseline.self, Rules.self, Parse.self, Model.self]
    )

    /// Parses and runs the command; every error goes through `Exit.code(for:)`.
    static func main() {
        // A closed stdout must give an error from write(), not a signal.
        signal(SIGPIPE, SIG_IGN)
        var command: ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            // --help and --version: ArgumentParser's own clean exits (wrapped,
            // in recent versions, in an error type of its own).
            if error is CleanExit || (error as? ExitCode) == .success || exitCode(for: error) == .success { exit(withError: error) }
            Foundation.exit(Exit.code(for: error, command: KPolicyCommand.self))
        }
        do {
            // Test hook (docs/exit-codes.md): KPOLICY_FAULT=internal makes the
            // command fail the way a kpolicy bug would, to test code 70.
            if ProcessInfo.processInfo.environment["KPOLICY_FAULT"] == "internal" { throw InjectedFault() }
            try command.run()
        } catch {
            // `--help` of a subcommand is run as ArgumentParser's help
            // command, which throws a "help requested" error to print it.
            if error is CleanExit || exitCode(for: error) == .success { exit(withError: error) }
            Foundation.exit(Exit.code(for: error, command: type(of: command)))
        }
        Foundation.exit(0)
    }
}

enum KPolicyVersion {
    static let string = "0.2.0"
}

/// The error KPOLICY_FAULT=internal throws: not one kpolicy expects.
struct InjectedFault: Error {}
