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
            Exit codes: 0 ok; 1 findings or violations; 2 bad input (missing file, \
            not a kernel tree, bad rule or scenario file); 3 libclang could not \
            parse a file; 64 bad command line; 70 internal error. See docs/exit-codes.md.
            """,
        version: KPolicyVersion.string,
        subcommands: [Check.self, Rules.self, Parse.self, Model.self]
    )
}

enum KPolicyVersion {
    static let string = "0.1.0"
}
