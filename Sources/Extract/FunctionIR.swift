import KPolicyFiles
import PatchInput
/// The control-flow IR of one function: only what matters to executable
/// memory, in the order the code runs it. Built by `IRBuilder` (the only
/// part that reads cursors) and read by the path checker, which never sees
/// libclang.
///
/// Blocks hold events and end in an exit. Loops are unrolled
/// (`IRBuilder.loopUnrolling` iterations, so paths through 0, 1 ... n
/// iterations exist and there is no back edge); a backward `goto` is the
/// only edge that can close a cycle, and the path checker bounds it.
public struct FunctionIR: Sendable, Codable {
    public var name: String
    public var position: Position
    /// `blocks[0]` is the entry.
    public var blocks: [IRBlock]
    /// How each object the events name comes into the function.
    public var objects: [String: ObjectOrigin]
    /// True when unrolling was cut short because the IR grew past
    /// `IRBuilder.maxBlocks` (loops are then taken at most once).
    public var truncated: Bool
    /// The parameters' names, in order (a helper's are replaced by the
    /// caller's arguments when its summary is applied).
    public var parameters: [String]
    /// The IRs of the same-file helpers this function calls, directly or
    /// through other helpers (`IRBuilder.maxHelperDepth` levels deep), by
    /// name: what the path checker runs at a `helper` event.
    public var helpers: [String: FunctionIR]
    /// Set when the build stopped at `IRBuilder.defaultMaxWork` (the statements
    /// and expressions lowered by then): the IR is empty and the function
    /// is not checked.
    public var unbuilt: Int?

    public init(name: String, position: Position, blocks: [IRBlock], objects: [String: ObjectOrigin], truncated: Bool,
                parameters: [String] = [], helpers: [String: FunctionIR] = [:]) {
        self.name = name
        self.position = position
        self.blocks = blocks
        self.objects = objects
        self.truncated = truncated
        self.parameters = parameters
        self.helpers = helpers
    }

    /// What a `return NULL;` returns.
    public static let null = "$null"
    /// What `return 0;` / `return false;` and a non-zero constant
    /// (`return true;`, `return -ENOMEM;`) return: a helper whose call is a
    /// condition (`if (helper(...))`) takes the branch its path returned.
    public static let zero = "$zero"
    public static let nonZero = "$nonzero"
    /// What a failure returns: a negative constant (`return -ENOMEM;`) or
    /// `ERR_PTR()`/`ERR_CAST()`. Non-zero as a condition; what such a path
    /// leaves in memory kept across calls is not carried (the caller
    /// discards the half-built object).
    public static let failure = "$failure"

    /// Every event, in block order (for tests and summaries).
    public var events: [IREvent] { blocks.flatMap(\.events) }
}

/// Where an object (a pointer the function works on) comes from.
public enum ObjectOrigin: String, Sendable, Codable {
    /// A local variable (its memory comes from a call in the function, or
    /// from something the IR does not show).
    case local
    /// A parameter, or a member reached through one: the caller's memory.
    case parameter
    /// A file-scope variable, or a member of one: memory kept across calls.
    case global
}

public struct IRBlock: Sendable, Codable {
    public var events: [IREvent]
    public var exit: IRExit
    public init(events: [IREvent] = [], exit: IRExit = .return(nil)) {
        self.events = events
        self.exit = exit
    }
}

public enum IRExit: Sendable, Equatable, Codable {
    case goto(Int)
    /// Two-way branch on a condition the checker may decide.
    case branch(IRCondition, then: Int, else: Int)
    /// A switch: any of the targets.
    case any([Int])
    /// The function returns (the object it returns, if it returns one;
    /// `FunctionIR.null` for `return NULL`).
    case `return`(String?)
}

/// What a branch tests, when it tests an object against NULL; everything
/// else is `.unknown` and both ways are taken.
public enum IRCondition: Sendable, Equatable, Codable {
    case isNull(String)
    case nonNull(String)
    /// A status is non-zero (`if (err)`, `if (set_memory_ro(...))`, `err < 0`):
    /// the path checker follows it when a `set_memory_*()` result was stored there.
    case failed(String)
    /// `execmem_is_rox(EXECMEM_X)`: decided by the tree's ROX cache on the
    /// arch the path runs on (`TreeCapabilities.usesROXCache`).
    case execmemIsROX(String)
    case unknown
}

/// One event: a kernel call (allocation, free, permission or flag change,
/// write, text patch), a store through a pointer, or a scope-exit cleanup.
public struct IREvent: Sendable, Codable {
    public enum Kind: String, Sendable, Codable {
        /// A call to a kernel API (`callee` is its name as resolved).
        case call
        /// A store through a pointer (`*p = v`, `p[i] = v`, `p->f = v`): a plain write.
        case store
        /// `__free(name)` running at scope exit: `callee` is the free function.
        case cleanup
        /// `no_free_ptr(p)` / `return_ptr(p)`: the scope-exit cleanup of `p` no longer frees it.
        case disown
        /// A call to a function defined in the same file (its summary applies).
        case helper
        /// The object (first argument) now stands for other memory: the
        /// result of a call the IR does not follow was stored into it, or a
        /// loop variable starts a new iteration.
        case rebind
    }
    public var kind: Kind
    /// The resolved callee (`vmalloc_noprof`), the free function of a
    /// cleanup, or "store".
    public var callee: String
    /// The name written at the site (`vmalloc`).
    public var spelled: String
    public var position: Position
    public var arguments: [IRArgument]
    /// The object the call's result is stored into, if any.
    public var result: String?
    /// The file-wide place `result` is kept in, when it is one (`IRArgument.slot`).
    public var resultSlot: String?
    /// The source text of the call, for traces.
    public var text: String

    public init(kind: Kind, callee: String, spelled: String, position: Position, arguments: [IRArgument], result: String?, text: String) {
        self.kind = kind
        self.callee = callee
        self.spelled = spelled
        self.position = position
        self.arguments = arguments
        self.result = result
        self.text = text
    }
}

/// One argument of an event, as written and as understood.
public struct IRArgument: Sendable, Equatable, Codable {
    public var text: String
    /// The object the argument points into, normalised: `p`,
    /// `(unsigned long)p` and a local `addr = (unsigned long)p` are all `p`;
    /// `pack->ptr` is `pack->ptr`. Nil when it is not a pointer the IR follows.
    public var object: String?
    /// Byte offset into the object; nil when it is not known (an interior
    /// pointer at an offset computed at run time).
    public var offset: Int?
    /// The value, when the compiler can compute it.
    public var value: Int64?
    /// Identifiers the argument is made of, macros expanded (`VM_FLUSH_RESET_PERMS`, `PAGE_KERNEL_ROX`).
    public var identifiers: [String]
    /// When `object` is memory kept across calls (a file-scope variable,
    /// or a member of a named struct type): the file-wide name of the place
    /// it is kept in (`its_page`, `struct bpf_tramp_image.image`). Every
    /// function of the file that names the same place shares the states the
    /// others leave it in (`PathChecker.checkFile`).
    public var slot: String?

    public init(text: String, object: String?, offset: Int?, value: Int64?, identifiers: [String], slot: String? = nil) {
        self.text = text
        self.object = object
        self.offset = offset
        self.value = value
        self.identifiers = identifiers
        self.slot = slot
    }
}

extension FunctionIR {
    /// The same IR with every object name passed through `rename`: a
    /// helper's IR in the caller's names, where its summary is applied.
    package func renamingObjects(_ rename: (String) -> String) -> FunctionIR {
        var ir = self
        func cond(_ c: IRCondition) -> IRCondition {
            switch c {
            case .isNull(let o): return .isNull(rename(o))
            case .nonNull(let o): return .nonNull(rename(o))
            case .failed(let o): return .failed(rename(o))
            case .execmemIsROX, .unknown: return c
            }
        }
        for b in ir.blocks.indices {
            for e in ir.blocks[b].events.indices {
                ir.blocks[b].events[e].result = ir.blocks[b].events[e].result.map(rename)
                for a in ir.blocks[b].events[e].arguments.indices {
                    ir.blocks[b].events[e].arguments[a].object = ir.blocks[b].events[e].arguments[a].object.map(rename)
                }
            }
            switch ir.blocks[b].exit {
            case .branch(let c, let t, let e): ir.blocks[b].exit = .branch(cond(c), then: t, else: e)
            case .return(let o):
                ir.blocks[b].exit = .return(o.map { [FunctionIR.null, FunctionIR.zero, FunctionIR.nonZero, FunctionIR.failure].contains($0) ? $0 : rename($0) })
            default: break
            }
        }
        ir.objects = Dictionary(objects.map { (rename($0.key), $0.value) }, uniquingKeysWith: { a, _ in a })
        return ir
    }

    /// The statuses a branch tests (`.failed`): a `set_memory_*()` whose
    /// result is stored in one of them forks into success and failure.
    package var testedStatuses: Set<String> {
        var s: Set<String> = []
        for b in blocks { if case .branch(.failed(let o), _, _) = b.exit { s.insert(o) } }
        return s
    }
}
