import ClangKit
import KernelModel

/// Member function pointers a file fills with functions it names, and the
/// calls through them: `struct kprobe_insn_cache kprobe_insn_slots = {
/// .alloc = alloc_insn_page, ... }` and `ops->free = my_free;` make a call
/// `c->alloc()` (any `struct kprobe_insn_cache` member `alloc`) a call of
/// `alloc_insn_page` or of whichever other function the file puts there.
///
/// A member is keyed by its struct type and name (`struct
/// kprobe_insn_cache.alloc`), as `IRBuilder.structType(of:)` reads it at a
/// call. Only what the file shows is known: designated initializers of
/// file-scope variables (nested ones included) and plain assignments in its
/// functions. A member some other file fills, or one filled through a
/// cast, a macro-built table or a parameter, is not resolved and the call
/// stays one the IR does not follow.
struct FunctionPointerTable {
    /// Member → the functions the file puts in it, in source order.
    private(set) var targets: [String: [String]] = [:]
    /// Function → the members it calls through.
    private(set) var callsThrough: [String: Set<String>] = [:]

    init() {}

    /// The table of a unit, read only where the file takes a function's
    /// address at all (otherwise empty).
    static func of(index: UnitIndex, facts: FileFacts) -> FunctionPointerTable {
        let functionNames = Set(index.definitions.map(\.spelling))
        return facts.calls.contains { $0.isReference && (functionNames.contains($0.callee) || IRBuilder.isEvent($0.callee)) }
            ? FunctionPointerTable(index: index) : FunctionPointerTable()
    }

    init(index: UnitIndex) {
        for v in index.fileScopeVariables { scanDesignators(v) }
        for def in index.definitions {
            let name = def.spelling
            def.visitChildren { node, _ in
                if node.kind == .binaryOperator, node.operatorSpelling == "=" {
                    let parts = node.children
                    if parts.count == 2, let key = FunctionPointerTable.member(parts[0]), let f = FunctionPointerTable.function(parts[1]) {
                        add(key, f)
                    }
                } else if node.kind == .callExpr, node.referenced?.kind != .functionDecl, let callee = node.children.first,
                          let key = FunctionPointerTable.member(callee) {
                    callsThrough[name, default: []].insert(key)
                }
                return .recurse
            }
        }
    }

    var isEmpty: Bool { targets.isEmpty }

    /// The functions a call through a member pointer may run; nil when the
    /// call is not through a member the file fills.
    func targets(ofCall c: Cursor) -> [String]? {
        guard !targets.isEmpty, c.kind == .callExpr, c.referenced?.kind != .functionDecl, let callee = c.children.first,
              let key = FunctionPointerTable.member(callee) else { return nil }
        return targets[key]
    }

    /// The functions that call through a member one of whose targets
    /// satisfies `wanted`.
    func callers(reaching wanted: (String) -> Bool) -> Set<String> {
        var out: Set<String> = []
        for (f, keys) in callsThrough where keys.contains(where: { (targets[$0] ?? []).contains(where: wanted) }) { out.insert(f) }
        return out
    }

    private mutating func add(_ key: String, _ function: String) {
        if !(targets[key]?.contains(function) ?? false) { targets[key, default: []].append(function) }
    }

    /// `.alloc = alloc_insn_page` inside a file-scope variable's initializer.
    private mutating func scanDesignators(_ variable: Cursor) {
        var found: [(String, String)] = []
        variable.visitChildren { node, _ in
            let kids = node.children
            if kids.count >= 2, kids[kids.count - 2].kind == .memberRef, let f = FunctionPointerTable.function(kids[kids.count - 1]),
               let field = kids[kids.count - 2].referenced, let owner = field.semanticParent, owner.kind == .structDecl {
                let type = owner.canonicalTypeSpelling
                if type.hasPrefix("struct "), !type.contains("(") { found.append((type + "." + field.spelling, f)) }
            }
            return .recurse
        }
        for (key, f) in found { add(key, f) }
    }

    /// `x->m` / `x.m` of a named struct type, as a member key.
    static func member(_ c: Cursor) -> String? {
        let s = IRBuilder.stripped(c)
        guard s.kind == .memberRefExpr, let base = s.children.first, let type = IRBuilder.structType(of: base) else { return nil }
        return type + "." + s.spelling
    }

    /// The function an expression names (`f`, `&f`, `(void *)f`).
    static func function(_ c: Cursor) -> String? {
        var s = IRBuilder.stripped(c)
        if s.kind == .unaryOperator, s.operatorSpelling == "&", let inner = s.children.first { s = IRBuilder.stripped(inner) }
        guard s.kind == .declRefExpr, let target = s.referenced, target.kind == .functionDecl else { return nil }
        return target.spelling
    }
}

extension IRBuilder {
    /// `c` without parentheses, casts and libclang's implicit nodes.
    static func stripped(_ c: Cursor) -> Cursor {
        var c = c
        while [CursorKind.unexposedExpr, .parenExpr, .cStyleCastExpr].contains(c.kind), let inner = c.children.last { c = inner }
        return c
    }

    /// The named struct type a member is read from (`struct bpf_tramp_image`
    /// for `im->image`, `tr->cur_image->image` alike); nil for anonymous
    /// structs, unions and anything else.
    static func structType(of base: Cursor) -> String? {
        var words = stripped(base).canonicalTypeSpelling.split(separator: " ").filter { $0 != "const" && $0 != "volatile" }
        if words.last == "*" { words.removeLast() }
        let t = words.joined(separator: " ")
        guard t.hasPrefix("struct "), !t.contains("("), !t.contains("*"), !t.contains("[") else { return nil }
        return t
    }
}
