import ClangKit
import Foundation
import KPolicyFiles
import PatchInput
import Parse

/// Turns a translation unit into `FileFacts`. The only place outside
/// ClangKit that walks cursors for rules.
public struct FactExtractor {
    /// Names whose declarations in headers are worth recording (most header
    /// declarations are not: a kernel file sees tens of thousands).
    public var headerDeclarationsOf: Set<String> = []
    /// How deep macro and variable resolution goes.
    public var resolutionDepth = 8

    public init(headerDeclarationsOf: Set<String> = []) {
        self.headerDeclarationsOf = headerDeclarationsOf
    }

    /// - Parameters:
    ///   - unit: the parsed file.
    ///   - mainFile: its path on disk.
    ///   - relativePath: the path findings name (relative to the tree root).
    ///   - treeRoot: the tree, to name headers relative to it.
    public func facts(of unit: TranslationUnit, mainFile: URL, relativePath: String, treeRoot: URL?) -> FileFacts {
        facts(of: unit, source: SourceText(url: mainFile) ?? SourceText(text: ""), relativePath: relativePath, treeRoot: treeRoot)
    }

    /// The same, with the main file's text given (for unsaved buffers).
    public func facts(of unit: TranslationUnit, source: SourceText, relativePath: String, treeRoot: URL?) -> FileFacts {
        LargeStack.run {
            facts(of: UnitIndex(unit: unit, source: source, interest: headerDeclarationsOf), relativePath: relativePath, treeRoot: treeRoot)
        }
    }

    /// Facts from an index built once per unit and shared with the other
    /// extraction stages (`IRBuilder`). Call on a large stack
    /// (`LargeStack.run`): libclang's visitor recurses once per tree level.
    public func facts(of index: UnitIndex, relativePath: String, treeRoot: URL?) -> FileFacts {
        var walk = Walk(index: index, relativePath: relativePath,
                        treeRoot: treeRoot.map { $0.standardizedFileURL.path + "/" }, interest: headerDeclarationsOf,
                        depth: resolutionDepth)
        walk.run()
        return walk.facts
    }
}

/// What one walk over a translation unit's top level finds, shared by the
/// extraction stages so that none walks the unit's top level again: the
/// macro table, the main file's function declarations and definitions,
/// declarations of interest in headers, file-scope variables, macro uses in
/// the main file, and the main file's text.
public struct UnitIndex {
    public let unit: TranslationUnit
    public let source: SourceText
    /// Macro definitions the unit shows by name (the last one seen wins,
    /// as in the preprocessor); `precompiled` holds those of a PCH.
    let localMacros: [String: Cursor]
    /// What a unit parsed with a precompiled header did not visit: the
    /// PCH's macros and function declarations (`ClangIndex`
    /// excludeDeclarationsFromPCH).
    let precompiled: PrecompiledDeclarations?
    /// Function declarations and definitions of the main file, in order.
    let mainFunctions: [Cursor]
    /// Function declarations in headers whose names are of interest.
    let headerFunctions: [Cursor]
    /// File-scope variables of the main file.
    let fileScopeVariables: [Cursor]
    /// Macro expansions in the main file.
    let macroExpansions: [(name: String, cursor: Cursor, offset: Int)]

    /// One visit of the unit's top level. Call on a large stack.
    /// `precompiled`: the declarations of the PCH the unit was parsed with,
    /// when its index left them out of the visit.
    public init(unit: TranslationUnit, source: SourceText, interest: Set<String>, precompiled: PrecompiledDeclarations? = nil) {
        self.unit = unit
        self.source = source
        self.precompiled = precompiled
        var macros: [String: Cursor] = [:]
        var mainFunctions: [Cursor] = [], headerFunctions: [Cursor] = [], variables: [Cursor] = []
        var expansions: [(name: String, cursor: Cursor, offset: Int)] = []
        unit.cursor.visitChildren { cursor, _ in
            let kind = cursor.kind
            if kind == .macroDefinition {
                macros[cursor.spelling] = cursor
            } else if kind == .macroExpansion {
                if cursor.isInMainFile { expansions.append((cursor.spelling, cursor, cursor.location.offset)) }
            } else if kind == .functionDecl {
                if cursor.isInMainFile { mainFunctions.append(cursor) } else if interest.contains(cursor.spelling) { headerFunctions.append(cursor) }
            } else if kind == .varDecl, cursor.isInMainFile {
                variables.append(cursor)
            }
            return .continue
        }
        localMacros = macros
        self.mainFunctions = mainFunctions
        self.headerFunctions = headerFunctions
        fileScopeVariables = variables
        macroExpansions = expansions
    }

    /// The main file's function definitions.
    var definitions: [Cursor] { mainFunctions.filter(\.isDefinition) }

    /// The definition of macro `name` the unit sees: its own (the file's
    /// and the headers it parsed), else the precompiled header's.
    func macro(_ name: String) -> MacroDefinition? {
        if let cursor = localMacros[name] { return .local(cursor) }
        return precompiled?.macros[name].map(MacroDefinition.precompiled)
    }
}

/// A macro definition as the fact stages read it, from a cursor of the
/// unit or from a precompiled header's declarations; each property is
/// read only when asked for (expansion asks most names only for tokens).
enum MacroDefinition {
    case local(Cursor)
    case precompiled(PrecompiledDeclarations.Macro)

    var isFunctionLike: Bool {
        switch self {
        case .local(let cursor): return cursor.isMacroFunctionLike
        case .precompiled(let macro): return macro.isFunctionLike
        }
    }

    var isInMainFile: Bool {
        if case .local(let cursor) = self { return cursor.isInMainFile }
        return false
    }

    var file: String? {
        switch self {
        case .local(let cursor): return cursor.location.file
        case .precompiled(let macro): return macro.file
        }
    }

    /// The definition's tokens, its name first.
    var tokens: [MacroToken] {
        switch self {
        case .local(let cursor): return cursor.tokens.map { MacroToken(kind: $0.kind, spelling: $0.spelling) }
        case .precompiled(let macro): return macro.tokens
        }
    }
}

/// One pass over one unit's function bodies and file-scope variables.
private struct Walk {
    let unit: TranslationUnit
    let index: UnitIndex
    let relativePath: String
    let source: SourceText
    let treeRoot: String?
    let interest: Set<String>
    let depth: Int
    var facts: FileFacts

    /// Complete transitive expansions by macro name.
    var macroExpansionMemo: [String: Set<String>] = [:]
    /// Expansions the depth limit cut short, by "remaining depth:name".
    var truncatedExpansionMemo: [String: Set<String>] = [:]
    /// Macros being expanded (cycle guard).
    var expanding: Set<String> = []
    /// Main-file function definitions by offset range, to place macro uses.
    var functionSpans: [(name: String, start: Int, end: Int)] = []

    init(index: UnitIndex, relativePath: String, treeRoot: String?, interest: Set<String>, depth: Int) {
        self.index = index
        unit = index.unit
        source = index.source
        self.relativePath = relativePath
        self.treeRoot = treeRoot
        self.interest = interest
        self.depth = depth
        facts = FileFacts(path: relativePath)
    }

    mutating func run() {
        var pendingBodies: [Cursor] = []
        for cursor in index.mainFunctions {
            facts.functions.append(function(cursor, file: relativePath))
            if cursor.isDefinition { pendingBodies.append(cursor) }
        }
        for f in index.precompiled?.functions ?? [] where interest.contains(f.name) {
            guard let file = headerPath(f.file) else { continue }
            facts.functions.append(FunctionFact(name: f.name, position: Position(file: file, line: f.line, column: f.column), storage: f.storage,
                                                isDefinition: f.isDefinition, endLine: f.endLine))
        }
        for cursor in index.headerFunctions {
            if let file = headerPath(cursor.location.file) { facts.functions.append(function(cursor, file: file)) }
        }
        for body in pendingBodies { walkFunction(body) }
        for v in index.fileScopeVariables { walkFileScope(v) }
        for use in index.macroExpansions { recordMacroUse(use.name, use.cursor, offset: use.offset) }
        facts.calls.sort { $0.position < $1.position }
    }

    func headerPath(_ file: String?) -> String? {
        guard let file, let root = treeRoot else { return nil }
        let path = URL(fileURLWithPath: file).standardizedFileURL.path
        return path.hasPrefix(root) ? String(path.dropFirst(root.count)) : nil
    }

    func position(_ loc: SourceLocation, file: String? = nil) -> Position {
        Position(file: file ?? relativePath, line: loc.line, column: loc.column)
    }

    func function(_ c: Cursor, file: String) -> FunctionFact {
        let storage: FunctionFact.Storage
        switch c.storageClass {
        case .static: storage = .static
        case .extern: storage = .extern
        default: storage = .none
        }
        return FunctionFact(name: c.spelling, position: position(c.location, file: file), storage: storage,
                            isDefinition: c.isDefinition, endLine: c.isDefinition ? c.extent.end.line : nil)
    }

    // MARK: function bodies

    /// What one function body holds, gathered before arguments are resolved.
    struct Body {
        var calls: [(cursor: Cursor, offset: Int)] = []
        var functionRefs: [(cursor: Cursor, offset: Int)] = []
        /// Values stored into each local variable (initialisers, `v = e`),
        /// with their text as written when the file shows it.
        var stores: [String: [(cursor: Cursor, written: SourceText.Written?)]] = [:]
        var locals: Set<String> = []
        var returnedCallOffsets: Set<Int> = []
        var returnedVariables: Set<String> = []
    }

    mutating func walkFunction(_ def: Cursor) {
        let name = def.spelling
        let extent = def.extent
        functionSpans.append((name, extent.start.offset, extent.end.offset))
        var body = Body()
        collect(in: def, into: &body)
        emit(body, function: name)
    }

    mutating func walkFileScope(_ variable: Cursor) {
        var body = Body()
        collect(in: variable, into: &body)
        emit(body, function: nil)
    }

    func collect(in root: Cursor, into body: inout Body) {
        root.visitChildren { node, _ in
            switch node.kind {
            case .callExpr:
                body.calls.append((node, node.location.offset))
            case .declRefExpr:
                if let target = node.referenced, target.kind == .functionDecl {
                    body.functionRefs.append((node, node.location.offset))
                }
            case .varDecl, .parmDecl:
                body.locals.insert(node.spelling)
                if node.kind == .varDecl, let value = node.children.last(where: { $0.kind.isExpression }) {
                    let written = node.isInMainFile ? source.initializer(afterNameAt: node.location.offset) : nil
                    body.stores[node.spelling, default: []].append((value, written))
                }
            case .binaryOperator:
                let parts = node.children
                if parts.count == 2, let variable = Walk.variableName(parts[0]) {
                    let lhsTokens = parts[0].tokens.count
                    let tokens = node.tokens
                    if tokens.count > lhsTokens, tokens[lhsTokens].spelling == "=" {
                        let written = node.isInMainFile ? source.assignedValue(atOperator: node.location.offset) : nil
                        body.stores[variable, default: []].append((parts[1], written))
                    }
                }
            case .returnStmt:
                if let value = node.children.first {
                    let stripped = Walk.strip(value)
                    if stripped.kind == .callExpr {
                        body.returnedCallOffsets.insert(stripped.location.offset)
                    } else if let variable = Walk.variableName(stripped) {
                        body.returnedVariables.insert(variable)
                    }
                }
            default:
                break
            }
            return .recurse
        }
    }

    /// Casts, parentheses and implicit conversions removed.
    static func strip(_ c: Cursor) -> Cursor {
        var c = c
        while [CursorKind.unexposedExpr, .parenExpr, .cStyleCastExpr].contains(c.kind), let inner = c.children.last {
            c = inner
        }
        return c
    }

    static func variableName(_ c: Cursor) -> String? {
        let s = strip(c)
        guard s.kind == .declRefExpr, let target = s.referenced, target.kind == .varDecl || target.kind == .parmDecl else { return nil }
        return target.spelling
    }

    mutating func emit(_ body: Body, function: String?) {
        // Calls whose value is stored into a returned variable count as returned.
        var returned = body.returnedCallOffsets
        for variable in body.returnedVariables {
            for (value, _) in body.stores[variable] ?? [] {
                let s = Walk.strip(value)
                if s.kind == .callExpr { returned.insert(s.location.offset) }
            }
        }
        var callSites: Set<String> = []
        for (call, offset) in body.calls where call.isInMainFile {
            // Direct calls only: a call through a pointer or a struct member
            // that happens to share a function's name is not that function.
            guard let target = call.referenced, target.kind == .functionDecl else { continue }
            let callee = target.spelling
            guard !callee.isEmpty else { continue }
            callSites.insert("\(offset):\(callee)")
            let spelledName = source.identifier(atOffset: offset)
            let argumentCursors = call.arguments
            var written = source.callArguments(atOffset: offset)
            if let outer = written, outer.count != argumentCursors.count {
                // A wrapper macro of the file's or a header's: put the written
                // arguments into its body and read the call there.
                written = substituted(macro: spelledName, arguments: outer, count: argumentCursors.count, callee: callee)
            }
            let arguments = argumentCursors.enumerated().map { i, a in resolve(a, written: written?[i], body: body) }
            facts.calls.append(CallFact(
                spelled: spelledName.isEmpty ? callee : spelledName, callee: callee,
                position: position(call.location), function: function, arguments: arguments,
                isReference: false, isReturned: returned.contains(offset)))
        }
        for (ref, offset) in body.functionRefs where ref.isInMainFile {
            let callee = ref.referenced?.spelling ?? ref.spelling
            if callSites.contains("\(offset):\(callee)") { continue }
            let spelledName = source.identifier(atOffset: offset)
            facts.calls.append(CallFact(
                spelled: spelledName.isEmpty ? callee : spelledName, callee: callee,
                position: position(ref.location), function: function, arguments: [],
                isReference: true, isReturned: false))
        }
    }

    // MARK: resolving values

    mutating func resolve(_ argument: Cursor, written: SourceText.Written?, body: Body) -> ArgumentFact {
        let text = written?.text ?? argument.tokenSlice.map(\.spelling).joined(separator: " ")
        var identifiers: Set<String> = []
        var opaque = false
        var visitedVariables: Set<String> = []
        resolveExpression(argument, written: written, body: body, into: &identifiers, opaque: &opaque, visited: &visitedVariables, depth: depth)
        var value: Int64?
        switch argument.evaluate() {
        case .integer(let v)?: value = v
        case .unsigned(let v)?: value = Int64(bitPattern: v)
        default: value = nil
        }
        return ArgumentFact(text: text, identifiers: identifiers, opaque: opaque, value: value)
    }

    mutating func resolveExpression(_ expr: Cursor, written: SourceText.Written?, body: Body, into identifiers: inout Set<String>,
                                    opaque: inout Bool, visited: inout Set<String>, depth: Int) {
        let names = written?.identifiers ?? expr.tokenSlice.filter { $0.kind == .identifier }.map(\.spelling)
        for name in names {
            identifiers.insert(name)
            identifiers.formUnion(expandMacro(name, depth: depth))
        }
        guard depth > 0 else { opaque = true; return }
        var reads: [Cursor] = []
        var callsSomething = false
        if expr.kind == .declRefExpr { reads.append(expr) }
        if expr.kind == .callExpr { callsSomething = true }
        expr.visitChildren { node, _ in
            if node.kind == .declRefExpr { reads.append(node) }
            if node.kind == .callExpr { callsSomething = true }
            return .recurse
        }
        if callsSomething { opaque = true }
        for read in reads {
            guard let target = read.referenced else { continue }
            switch target.kind {
            case .parmDecl:
                opaque = true
            case .varDecl:
                let name = target.spelling
                identifiers.insert(name)
                if body.locals.contains(name), let values = body.stores[name] {
                    guard visited.insert(name).inserted else { continue }
                    for (v, w) in values {
                        resolveExpression(v, written: w, body: body, into: &identifiers, opaque: &opaque, visited: &visited, depth: depth - 1)
                    }
                } else if let definition = target.definition,
                          let initial = definition.children.last(where: { $0.kind.isExpression }) {
                    guard visited.insert(name).inserted else { continue }
                    let w = definition.isInMainFile ? source.initializer(afterNameAt: definition.location.offset) : nil
                    resolveExpression(initial, written: w, body: body, into: &identifiers, opaque: &opaque, visited: &visited, depth: depth - 1)
                } else {
                    opaque = true
                }
            default:
                break
            }
        }
    }

    /// The arguments of the first call in function-like macro `name`'s body
    /// that has `count` arguments, with the macro's parameters replaced by
    /// `arguments`.
    func substituted(macro name: String, arguments: [SourceText.Written], count: Int, callee: String) -> [SourceText.Written]? {
        guard let definition = index.macro(name), definition.isFunctionLike else { return nil }
        let tokens = Array(definition.tokens.dropFirst())
        guard tokens.first?.spelling == "(", let close = tokens.firstIndex(where: { $0.spelling == ")" }) else { return nil }
        let parameters = tokens[1..<close].filter { $0.kind == .identifier || $0.spelling == "..." }.map(\.spelling)
        guard parameters.count == arguments.count else { return nil }
        let byName = Dictionary(zip(parameters, arguments), uniquingKeysWith: { a, _ in a })
        let body = Array(tokens[(close + 1)...])
        var i = 0
        while i + 1 < body.count {
            defer { i += 1 }
            guard body[i].kind == .identifier, body[i + 1].spelling == "(" else { continue }
            // Only the call that leads to the callee (itself, or a macro over it).
            let inner = body[i].spelling
            guard inner == callee || macroMentions(inner, callee) else { continue }
            var pieces: [[MacroToken]] = [[]]
            var depth = 0
            var j = i + 2
            var closed = false
            while j < body.count {
                let t = body[j].spelling
                if t == "(" || t == "[" || t == "{" { depth += 1 }
                if t == ")" || t == "]" || t == "}" {
                    if depth == 0 { closed = true; break }
                    depth -= 1
                }
                if t == ",", depth == 0 { pieces.append([]) } else { pieces[pieces.count - 1].append(body[j]) }
                j += 1
            }
            guard closed, pieces.count == count else { continue }
            return pieces.map { piece in
                var text: [String] = []
                var identifiers: [String] = []
                for t in piece {
                    if let argument = byName[t.spelling] {
                        text.append(argument.text)
                        identifiers += argument.identifiers
                    } else {
                        text.append(t.spelling)
                        if t.kind == .identifier { identifiers.append(t.spelling) }
                    }
                }
                return SourceText.Written(text: text.joined(separator: " "), identifiers: identifiers)
            }
        }
        return nil
    }

    /// Whether macro `name`'s body names `identifier` (one level).
    func macroMentions(_ name: String, _ identifier: String) -> Bool {
        index.macro(name)?.tokens.dropFirst().contains { $0.spelling == identifier } ?? false
    }

    /// The identifiers `name` expands to, transitively (empty for a non-macro).
    mutating func expandMacro(_ name: String, depth: Int) -> Set<String> { expand(name, depth: depth).identifiers }

    /// `complete` is false when the depth limit or a cycle cut the expansion
    /// short. Only complete expansions go into `macroExpansionMemo`: a
    /// truncated one, cached, would hide what the macro expands to from
    /// every later use with more depth left (a finding lost depending on
    /// which function came first). Truncated results are kept per remaining
    /// depth, which bounds the work at (macros × depth).
    mutating func expand(_ name: String, depth: Int) -> (identifiers: Set<String>, complete: Bool) {
        if let memo = macroExpansionMemo[name] { return (memo, true) }
        guard let definition = index.macro(name) else { return ([], true) }
        guard depth > 0 else { return ([], false) }
        let key = "\(depth):\(name)"
        if let memo = truncatedExpansionMemo[key] { return (memo, false) }
        guard expanding.insert(name).inserted else { return ([], false) }  // a cycle: the outer expansion has it
        defer { expanding.remove(name) }
        var tokens = definition.tokens.dropFirst()
        if definition.isFunctionLike, tokens.first?.spelling == "(" {
            // Skip the parameter list.
            if let close = tokens.firstIndex(where: { $0.spelling == ")" }) { tokens = tokens[(close + 1)...] }
        }
        var result: Set<String> = []
        var complete = true
        for token in tokens where token.kind == .identifier && token.spelling != name {
            result.insert(token.spelling)
            let inner = expand(token.spelling, depth: depth - 1)
            result.formUnion(inner.identifiers)
            complete = complete && inner.complete
        }
        if complete { macroExpansionMemo[name] = result } else { truncatedExpansionMemo[key] = result }
        return (result, complete)
    }

    // MARK: macro uses and exports

    mutating func recordMacroUse(_ name: String, _ cursor: Cursor, offset: Int) {
        let function = functionSpans.first(where: { $0.start <= offset && offset < $0.end })?.name
        let pos = position(cursor.location)
        if name.hasPrefix("EXPORT_SYMBOL") {
            let tokens = cursor.tokens
            if let open = tokens.firstIndex(where: { $0.spelling == "(" }),
               let symbol = tokens[(open + 1)...].first(where: { $0.kind == .identifier }) {
                facts.exports.append(ExportFact(symbol: symbol.spelling, macro: name, position: pos))
            }
        }
        var definedIn: String?
        if let definition = index.macro(name) {
            definedIn = definition.isInMainFile ? relativePath : headerPath(definition.file)
        }
        facts.macroUses.append(MacroUseFact(name: name, position: pos, function: function,
                                            expandsTo: expandMacro(name, depth: depth), definedIn: definedIn))
    }
}
