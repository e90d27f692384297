import ArgumentParser
import KPolicy

extension KPolicyCommand {
    struct Parse: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Parse files with the workspace configuration (diagnostic).")
        func run() throws { print(KPolicyInfo.libclang) }
    }
}
