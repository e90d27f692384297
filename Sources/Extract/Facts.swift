import KPolicyFiles
import PatchInput
import Parse
/// What libclang saw in one source file, reduced to what rules read.
/// Rules never see cursors: only these facts (docs/ARCHITECTURE.md).
public struct FileFacts: Sendable, Equatable {
    /// Path relative to the tree root (or the corpus file's declared path).
    public var path: String
    public var calls: [CallFact] = []
    public var macroUses: [MacroUseFact] = []
    public var functions: [FunctionFact] = []
    public var exports: [ExportFact] = []

    public init(path: String) { self.path = path }
}

/// A place in a file; `file` is relative to the tree root.
public struct Position: Hashable, Sendable, Comparable, Codable {
    public var file: String
    public var line: Int
    public var column: Int
    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }
    public static func < (a: Self, b: Self) -> Bool {
        (a.file, a.line, a.column) < (b.file, b.line, b.column)
    }
}

/// A call, or a reference to a function's address (`.alloc = module_alloc`).
public struct CallFact: Sendable, Equatable {
    /// The name written at the site: a macro's name when a macro stands in
    /// between (`vmalloc` in 6.12, `my_alloc` for a local wrapper).
    public var spelled: String
    /// The function the compiler resolved (`vmalloc_noprof`, `module_alloc`).
    public var callee: String
    public var position: Position
    /// The function definition the call is in, nil at file scope.
    public var function: String?
    public var arguments: [ArgumentFact]
    /// True for a reference to the function that is not a call.
    public var isReference: Bool
    /// True when the call's value is what its function returns (directly,
    /// or through a local variable that is returned).
    public var isReturned: Bool

    /// Whether `name` is the spelled or the resolved callee.
    public func names(_ name: String) -> Bool { spelled == name || callee == name }
}

/// One argument of a call, as written and as resolved.
public struct ArgumentFact: Sendable, Equatable {
    /// The source text at the call site.
    public var text: String
    /// Every identifier the value is made of: those written, those of the
    /// macros they expand to (transitively), and those of the initialisers
    /// and assignments of the local variables it reads.
    public var identifiers: Set<String>
    /// True when the value depends on something the file does not show (a
    /// parameter, a global, a function's result).
    public var opaque: Bool
    /// The value, when the compiler can compute it.
    public var value: Int64?
}

/// A macro expanded in the file itself.
public struct MacroUseFact: Sendable, Equatable {
    public var name: String
    public var position: Position
    public var function: String?
    /// The identifiers the expansion is made of, transitively.
    public var expandsTo: Set<String>
    /// Where the macro is defined (relative path; nil outside the tree).
    public var definedIn: String?
}

/// A function declaration or definition.
public struct FunctionFact: Sendable, Equatable {
    public typealias Storage = FunctionStorage
    public var name: String
    public var position: Position
    public var storage: Storage
    public var isDefinition: Bool
    /// The last line of a definition's body (nil for a declaration): which
    /// functions a patch touches.
    public var endLine: Int?
}

/// An EXPORT_SYMBOL* use.
public struct ExportFact: Sendable, Equatable {
    public var symbol: String
    /// EXPORT_SYMBOL, EXPORT_SYMBOL_GPL, EXPORT_SYMBOL_NS_GPL ...
    public var macro: String
    public var position: Position
}
