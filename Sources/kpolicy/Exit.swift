import ArgumentParser
import Foundation
import KPolicy
import KPolicyFiles
import PatchInput
import Kbuild

/// The exit codes kpolicy documents (docs/exit-codes.md). Every error a
/// subcommand throws goes through `Exit.code(for:)`, the one mapping.
enum Exit {
    static let ok = ExitCode(0)
    static let findings = ExitCode(1)
    static let badInput = ExitCode(2)
    static let parseFailure = ExitCode(3)
    static let usage = ExitCode(64)
    static let internalError = ExitCode(70)

    /// Prints one line on stderr, `kpolicy: <message>`, and returns the code
    /// to throw.
    static func fail(_ message: String, _ code: ExitCode) -> ExitCode {
        printError(message)
        return code
    }

    /// One line on stderr; a closed or full stderr is ignored (nothing else
    /// could be said anyway).
    /// A warning line on stderr (the message carries its own "kpolicy: warning:" prefix).
    static func printWarning(_ message: String) {
        StandardError.write(message.split(whereSeparator: \.isNewline).joined(separator: " ").escapingControlCharacters + "\n")
    }

    static func printError(_ message: String) {
        printWarning("kpolicy: " + message)
    }

    /// The code for an error that ended a subcommand, with its line printed:
    /// codes thrown on purpose pass through; kpolicy's input errors are 2
    /// (3 for a file libclang could not parse); command-line errors are 64;
    /// anything else is a bug: 70.
    static func code(for error: Error, command: any ParsableCommand.Type) -> Int32 {
        switch error {
        case let code as ExitCode:
            return code.rawValue
        case let e as KPolicyError:
            printError(e.description)
            return e.isParseFailure ? parseFailure.rawValue : badInput.rawValue
        case let e as InputError:
            printError(e.description)
            return badInput.rawValue
        case let e as WriteError:
            printError(e.description)
            return badInput.rawValue
        case let e as CocoaError where e.userInfo[NSFilePathErrorKey] != nil:
            // A file the command was told to write (or read) that the system refuses.
            printError("cannot use \(e.userInfo[NSFilePathErrorKey]!): \(Workspace.fileErrorReason(e))")
            return badInput.rawValue
        default:
            let argumentCode = KPolicyCommand.exitCode(for: error)
            if argumentCode.rawValue == usage.rawValue {
                let message = KPolicyCommand.message(for: error)
                printError("\(message) (see '\(helpCommand()) --help')")
                return usage.rawValue
            }
            printError("internal error: \(String(describing: type(of: error))): \(error); please report this with the command line")
            return internalError.rawValue
        }
    }
}

/// The command the user typed, as far as it names subcommands (`kpolicy
/// check`, `kpolicy hook install`, `kpolicy` alone): where the help for a
/// bad command line is. A parse error surfaces at the root command, so the
/// words are read from the command line, not from the failing type.
func helpCommand(_ arguments: [String] = CommandLine.arguments) -> String {
    var words = ["kpolicy"]
    var command: any ParsableCommand.Type = KPolicyCommand.self
    for argument in arguments.dropFirst() {
        guard let sub = command.configuration.subcommands.first(where: { $0._commandName == argument }) else { break }
        words.append(argument)
        command = sub
    }
    return words.joined(separator: " ")
}

/// Writing a report failed (stdout closed or full, --output not writable).
struct WriteError: Error, CustomStringConvertible {
    var target: String
    var reason: String
    var description: String { "cannot write \(target): \(reason)" }
}

/// Writes text to stdout or to a file given with `--output`; a write error
/// is bad input (exit 2) with one line, never a trap.
func emit(_ text: String, to output: String?) throws {
    if let output {
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: output))
        } catch {
            throw WriteError(target: output, reason: (error as NSError).localizedFailureReason ?? error.localizedDescription)
        }
        return
    }
    let bytes = Array(text.utf8)
    var done = 0
    while done < bytes.count {
        let n = bytes.withUnsafeBytes { write(1, $0.baseAddress! + done, bytes.count - done) }
        if n < 0 {
            if errno == EINTR { continue }
            throw WriteError(target: "standard output", reason: String(cString: strerror(errno)))
        }
        done += n
    }
}
