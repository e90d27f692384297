import ArgumentParser

extension KPolicyCommand {
    /// Placeholder until the model subcommand lands.
    struct Model: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run the reference allocator model.")
        func run() throws {
            throw Exit.fail("the model subcommand is not built yet", Exit.internalError)
        }
    }
}
