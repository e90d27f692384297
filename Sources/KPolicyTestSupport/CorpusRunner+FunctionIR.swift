import Analysis
import ClangKit
import KernelModel
import KPolicy
import Parse
import Extract

/// What only the tests ask of a corpus runner: the IR stage on its own.
extension CorpusRunner {
    /// The control-flow IR of every function of C `text` that has an
    /// executable-memory event (for tests of the IR stage).
    public func functionIRs(text: String, path: String, kernel: KernelVersion) throws -> [FunctionIR] {
        try functionIRs(text: text, path: path, kernel: kernel, builder: IRBuilder()).functions
    }

    /// The same with a given builder (its bound), and the functions it left
    /// without an IR.
    public func functionIRs(text: String, path: String, kernel: KernelVersion, builder: IRBuilder) throws
        -> (functions: [FunctionIR], unbuilt: [IRBuilder.Unbuilt]) {
        try functionIRs(text: text, path: path, kernel: kernel, builds: [(builder, nil)], memo: nil)[0]
    }

    /// Several builds of one parse of `text` (each builder, with `only`
    /// when given), sharing `memo` when there is one.
    public func functionIRs(text: String, path: String, kernel: KernelVersion, builds: [(IRBuilder, Set<String>?)],
                            memo: IRBuilder.Memo?) throws -> [(functions: [FunctionIR], unbuilt: [IRBuilder.Unbuilt])] {
        let unit = try parse(text, kernel: kernel)
        return LargeStack.run {
            let index = UnitIndex(unit: unit, source: SourceText(text: text), interest: [])
            let facts = FactExtractor().facts(of: index, relativePath: path, treeRoot: nil)
            return builds.map { $0.0.build(of: index, facts: facts, only: $0.1, memo: memo) }
        }
    }
}
