import ArgumentParser
import Foundation

/// The exit codes kpolicy documents (docs/exit-codes.md). Every subcommand
/// ends through one of these; ArgumentParser itself uses 64 for a bad
/// command line.
enum Exit {
    static let ok = ExitCode(0)
    static let findings = ExitCode(1)
    static let badInput = ExitCode(2)
    static let parseFailure = ExitCode(3)
    static let internalError = ExitCode(70)

    /// Prints one line on stderr, `kpolicy: <message>`, and returns the code
    /// to throw.
    static func fail(_ message: String, _ code: ExitCode) -> ExitCode {
        FileHandle.standardError.write(Data("kpolicy: \(message)\n".utf8))
        return code
    }
}

/// Writes text to stdout or to a file given with `--output`.
func emit(_ text: String, to output: String?) throws {
    if let output {
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: output))
        } catch {
            throw Exit.fail("cannot write \(output): \(error.localizedDescription)", Exit.badInput)
        }
    } else {
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}
