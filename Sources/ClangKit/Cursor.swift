import CClang

/// The kind of an AST node (CXCursorKind), with the kinds kpolicy reads
/// named. Any other kind still round-trips through `rawValue`.
public struct CursorKind: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    init(_ kind: CXCursorKind) { rawValue = kind.rawValue }

    public static let structDecl = CursorKind(CXCursor_StructDecl)
    public static let functionDecl = CursorKind(CXCursor_FunctionDecl)
    public static let varDecl = CursorKind(CXCursor_VarDecl)
    public static let parmDecl = CursorKind(CXCursor_ParmDecl)
    public static let fieldDecl = CursorKind(CXCursor_FieldDecl)
    public static let typedefDecl = CursorKind(CXCursor_TypedefDecl)
    public static let declRefExpr = CursorKind(CXCursor_DeclRefExpr)
    public static let memberRefExpr = CursorKind(CXCursor_MemberRefExpr)
    /// A field named in a designated initializer (`.alloc = ...`).
    public static let memberRef = CursorKind(CXCursor_MemberRef)
    public static let callExpr = CursorKind(CXCursor_CallExpr)
    public static let unexposedExpr = CursorKind(CXCursor_UnexposedExpr)
    public static let integerLiteral = CursorKind(CXCursor_IntegerLiteral)
    public static let stringLiteral = CursorKind(CXCursor_StringLiteral)
    public static let parenExpr = CursorKind(CXCursor_ParenExpr)
    public static let unaryOperator = CursorKind(CXCursor_UnaryOperator)
    public static let binaryOperator = CursorKind(CXCursor_BinaryOperator)
    public static let compoundAssignOperator = CursorKind(CXCursor_CompoundAssignOperator)
    public static let conditionalOperator = CursorKind(CXCursor_ConditionalOperator)
    public static let cStyleCastExpr = CursorKind(CXCursor_CStyleCastExpr)
    public static let initListExpr = CursorKind(CXCursor_InitListExpr)
    public static let compoundStmt = CursorKind(CXCursor_CompoundStmt)
    public static let ifStmt = CursorKind(CXCursor_IfStmt)
    public static let switchStmt = CursorKind(CXCursor_SwitchStmt)
    public static let whileStmt = CursorKind(CXCursor_WhileStmt)
    public static let doStmt = CursorKind(CXCursor_DoStmt)
    public static let forStmt = CursorKind(CXCursor_ForStmt)
    public static let gotoStmt = CursorKind(CXCursor_GotoStmt)
    public static let labelStmt = CursorKind(CXCursor_LabelStmt)
    public static let returnStmt = CursorKind(CXCursor_ReturnStmt)
    public static let declStmt = CursorKind(CXCursor_DeclStmt)
    public static let translationUnit = CursorKind(CXCursor_TranslationUnit)
    public static let macroDefinition = CursorKind(CXCursor_MacroDefinition)
    public static let macroExpansion = CursorKind(CXCursor_MacroExpansion)
    public static let inclusionDirective = CursorKind(CXCursor_InclusionDirective)
    // Statements and expressions the per-function control-flow IR reads.
    public static let breakStmt = CursorKind(CXCursor_BreakStmt)
    public static let continueStmt = CursorKind(CXCursor_ContinueStmt)
    public static let caseStmt = CursorKind(CXCursor_CaseStmt)
    public static let defaultStmt = CursorKind(CXCursor_DefaultStmt)
    public static let nullStmt = CursorKind(CXCursor_NullStmt)
    public static let labelRef = CursorKind(CXCursor_LabelRef)
    public static let arraySubscriptExpr = CursorKind(CXCursor_ArraySubscriptExpr)
    /// A GNU statement expression, `({ ... })`, as kernel macros use them.
    public static let stmtExpr = CursorKind(CXCursor_StmtExpr)
    public static let unexposedStmt = CursorKind(CXCursor_UnexposedStmt)
    public static let unexposedAttr = CursorKind(CXCursor_UnexposedAttr)

    public var isDeclaration: Bool { clang_isDeclaration(CXCursorKind(rawValue)) != 0 }
    public var isExpression: Bool { clang_isExpression(CXCursorKind(rawValue)) != 0 }
    public var isStatement: Bool { clang_isStatement(CXCursorKind(rawValue)) != 0 }
    public var isPreprocessing: Bool { clang_isPreprocessing(CXCursorKind(rawValue)) != 0 }

    /// libclang's name for the kind, e.g. "CallExpr".
    public var description: String { consume(clang_getCursorKindSpelling(CXCursorKind(rawValue))) }
}

/// Storage class of a declaration (CX_StorageClass).
public enum StorageClass: Sendable {
    case none, `extern`, `static`, other
}

/// Linkage of a declaration (CXLinkageKind).
public enum Linkage: Sendable {
    case invalid, noLinkage, `internal`, uniqueExternal, external
}

/// What a visitor wants next.
public enum VisitResult {
    /// Stop the whole walk.
    case `break`
    /// Go on with the next sibling; skip this cursor's children.
    case `continue`
    /// Visit this cursor's children next.
    case recurse
}

/// The value of an expression libclang could evaluate at compile time.
public enum EvaluatedValue: Equatable, Sendable {
    case integer(Int64)
    case unsigned(UInt64)
    case float(Double)
    case string(String)
}

/// A node of a translation unit's AST. It holds its unit alive.
public struct Cursor: @unchecked Sendable {
    let raw: CXCursor
    /// The owning unit; cursors are only valid while it lives.
    public let unit: TranslationUnit

    init(_ raw: CXCursor, in unit: TranslationUnit) {
        self.raw = raw
        self.unit = unit
    }

    public var kind: CursorKind { CursorKind(clang_getCursorKind(raw)) }
    /// The name: a function's, a called function's, a macro's.
    public var spelling: String { consume(clang_getCursorSpelling(raw)) }
    public var displayName: String { consume(clang_getCursorDisplayName(raw)) }
    /// Where the cursor is; for text that comes from a macro, where the macro was used.
    public var location: SourceLocation { SourceLocation(expansionOf: clang_getCursorLocation(raw)) }
    /// Where the cursor's text was written (inside the macro body for expansions).
    public var spellingLocation: SourceLocation { SourceLocation(spellingOf: clang_getCursorLocation(raw)) }
    public var extent: SourceRange { SourceRange(clang_getCursorExtent(raw)) }
    /// Whether the cursor is in the main file, counting text a macro
    /// produced as being where the macro was used.
    public var isInMainFile: Bool { unit.isInMainFile(clang_getCursorLocation(raw)) }
    public var isNull: Bool { clang_Cursor_isNull(raw) != 0 }
    public var isDefinition: Bool { clang_isCursorDefinition(raw) != 0 }
    public var isInvalid: Bool { clang_isInvalid(clang_getCursorKind(raw)) != 0 }
    /// Unified symbol resolution: a stable name for the declared entity.
    public var usr: String { consume(clang_getCursorUSR(raw)) }

    /// What the cursor refers to: the callee declaration of a call, the
    /// variable of a reference. Nil when libclang knows none.
    public var referenced: Cursor? {
        let r = clang_getCursorReferenced(raw)
        return clang_Cursor_isNull(r) != 0 || clang_isInvalid(clang_getCursorKind(r)) != 0 ? nil : Cursor(r, in: unit)
    }

    /// The defining declaration, if the unit has it.
    public var definition: Cursor? {
        let r = clang_getCursorDefinition(raw)
        return clang_Cursor_isNull(r) != 0 || clang_isInvalid(clang_getCursorKind(r)) != 0 ? nil : Cursor(r, in: unit)
    }

    public var semanticParent: Cursor? {
        let r = clang_getCursorSemanticParent(raw)
        return clang_Cursor_isNull(r) != 0 || clang_isInvalid(clang_getCursorKind(r)) != 0 ? nil : Cursor(r, in: unit)
    }

    public var storageClass: StorageClass {
        switch clang_Cursor_getStorageClass(raw) {
        case CX_SC_None: return .none
        case CX_SC_Extern: return .extern
        case CX_SC_Static: return .static
        default: return .other
        }
    }

    public var linkage: Linkage {
        switch clang_getCursorLinkage(raw) {
        case CXLinkage_NoLinkage: return .noLinkage
        case CXLinkage_Internal: return .internal
        case CXLinkage_UniqueExternal: return .uniqueExternal
        case CXLinkage_External: return .external
        default: return .invalid
        }
    }

    /// The spelled type, e.g. "void *" or "pgprot_t".
    public var typeSpelling: String { consume(clang_getTypeSpelling(clang_getCursorType(raw))) }
    /// The canonical type with typedefs resolved.
    public var canonicalTypeSpelling: String {
        consume(clang_getTypeSpelling(clang_getCanonicalType(clang_getCursorType(raw))))
    }
    /// A function's return type, spelled.
    public var resultTypeSpelling: String { consume(clang_getTypeSpelling(clang_getCursorResultType(raw))) }

    /// Arguments of a call expression (or parameters of a function declaration).
    public var arguments: [Cursor] {
        let n = clang_Cursor_getNumArguments(raw)
        guard n > 0 else { return [] }
        return (0..<UInt32(n)).map { Cursor(clang_Cursor_getArgument(raw, $0), in: unit) }
    }

    /// Whether a macro is function-like (for macro definitions/expansions).
    public var isMacroFunctionLike: Bool { clang_Cursor_isMacroFunctionLike(raw) != 0 }

    /// The source text of the cursor's extent, from its tokens.
    public var tokens: [Token] { unit.tokens(in: extent) }

    /// The same tokens without copying them from the main file's table:
    /// for testing or joining them, where a copy of each token would cost
    /// more than the use.
    public var tokenSlice: ArraySlice<Token> { unit.tokenSlice(in: extent) }

    /// The direct children.
    public var children: [Cursor] {
        var result: [Cursor] = []
        visitChildren { child, _ in
            result.append(child)
            return .continue
        }
        return result
    }

    /// Walks the children (and, when the visitor says `.recurse`, theirs),
    /// calling `visitor(child, parent)` for each.
    public func visitChildren(_ visitor: (Cursor, Cursor) -> VisitResult) {
        withoutActuallyEscaping(visitor) { visitor in
            let box = VisitorBox(unit: unit, visitor: visitor)
            let context = Unmanaged.passUnretained(box).toOpaque()
            _ = clang_visitChildren(raw, { child, parent, data in
                let box = Unmanaged<VisitorBox>.fromOpaque(data!).takeUnretainedValue()
                switch box.visitor(Cursor(child, in: box.unit), Cursor(parent, in: box.unit)) {
                case .break: return CXChildVisit_Break
                case .continue: return CXChildVisit_Continue
                case .recurse: return CXChildVisit_Recurse
                }
            }, context)
            withExtendedLifetime(box) {}
        }
    }

    /// The operator of a unary, binary or compound-assignment expression as
    /// written (`=`, `==`, `!`, `&&`, `+=`, `*`...), read from the tokens
    /// (libclang 14 has no opcode query). Nil for other kinds or when the
    /// operator comes out of a macro and is not in the written tokens.
    public var operatorSpelling: String? {
        let k = kind
        if k == .binaryOperator || k == .compoundAssignOperator {
            let parts = children
            guard parts.count == 2 else { return nil }
            if let quick = operatorAfter(parts[0]) { return quick.token.flatMap { $0.kind == .punctuation ? $0.spelling : nil } }
            // Written in a macro's body: the extent's tokens would run from
            // the macro's definition to its use (or, for a macro of another
            // file, be none), so the operator is not among them.
            if isInMacroBody(clang_getRangeStart(clang_getCursorExtent(raw))) { return nil }
            let lhs = parts[0].tokens.count
            let all = tokens
            guard lhs > 0, all.count > lhs, all[lhs].kind == .punctuation else { return nil }
            return all[lhs].spelling
        }
        if k == .unaryOperator {
            // Inside a macro the extent's tokens are the invocation's: read
            // the operator where it was spelled (the macro body or argument).
            if let first = firstSpelledToken, first.kind == .punctuation { return first.spelling }
            let all = tokens
            if let first = all.first, first.kind == .punctuation { return first.spelling }
            if let last = all.last, last.kind == .punctuation, last.spelling == "++" || last.spelling == "--" { return "post" + last.spelling }
            if let first = all.first, first.spelling == "sizeof" || first.spelling == "__alignof__" { return first.spelling }
            return nil
        }
        return nil
    }

    /// The token after the left operand, found without reading the whole
    /// expression's tokens (which costs time in proportion to its length at
    /// every level of a nested expression): when the operand starts where
    /// the expression starts and both end at plain file positions, that
    /// token is the first one at the operand's end, and it belongs to the
    /// expression when it starts before the expression's end: the same
    /// token reading all of them gives. Nil when that does not hold (a
    /// bound inside a macro: the caller reads all the tokens); `token` is nil
    /// when the expression has no token after the operand.
    private func operatorAfter(_ lhs: Cursor) -> (token: Token?, Void)? {
        let whole = clang_getCursorExtent(raw), left = clang_getCursorExtent(lhs.raw)
        guard clang_equalLocations(clang_getRangeStart(whole), clang_getRangeStart(left)) != 0,
              fileOffset(clang_getRangeStart(whole)) != nil,
              let leftEnd = fileOffset(clang_getRangeEnd(left)), let wholeEnd = fileOffset(clang_getRangeEnd(whole)),
              leftEnd.file == wholeEnd.file else { return nil }
        guard leftEnd.offset < wholeEnd.offset else { return (nil, ()) }
        let end = clang_getRangeEnd(left)
        return (unit.tokens(in: SourceRange(clang_getRange(end, end))).first, ())
    }

    /// Whether a location is text a macro's body produced (not a macro
    /// argument, which is written at the use): such a location's file
    /// position is where the macro is used.
    private func isInMacroBody(_ loc: CXSourceLocation) -> Bool {
        guard fileOffset(loc) == nil else { return false }
        var f1: CXFile?, f2: CXFile?
        var o1: UInt32 = 0, o2: UInt32 = 0
        clang_getExpansionLocation(loc, &f1, nil, nil, &o1)
        clang_getFileLocation(loc, &f2, nil, nil, &o2)
        return f1 != nil && f1 == f2 && o1 == o2
    }

    /// The file and offset of a location that is a plain file position
    /// (where it was written is where it is expanded); nil inside a macro.
    private func fileOffset(_ loc: CXSourceLocation) -> (file: CXFile, offset: UInt32)? {
        var file: CXFile?
        var offset: UInt32 = 0
        clang_getExpansionLocation(loc, &file, nil, nil, &offset)
        // A macro location decomposes to a file position too; only a plain
        // one is that position's own location.
        guard let file, clang_equalLocations(loc, clang_getLocationForOffset(unit.raw, file, offset)) != 0 else { return nil }
        return (file, offset)
    }

    /// The token where the cursor's text begins as written: inside a macro
    /// body or a macro argument for text a macro produced.
    public var firstSpelledToken: Token? {
        let start = clang_getRangeStart(clang_getCursorExtent(raw))
        var file: CXFile?
        var offset: UInt32 = 0
        clang_getFileLocation(start, &file, nil, nil, &offset)
        guard let file else { return nil }
        let loc = clang_getLocationForOffset(unit.raw, file, offset)
        return unit.tokens(in: SourceRange(clang_getRange(loc, loc))).first
    }

    /// The compile-time value of an expression, if libclang can compute it.
    public func evaluate() -> EvaluatedValue? {
        guard let result = clang_Cursor_Evaluate(raw) else { return nil }
        defer { clang_EvalResult_dispose(result) }
        switch clang_EvalResult_getKind(result) {
        case CXEval_Int:
            if clang_EvalResult_isUnsignedInt(result) != 0 {
                return .unsigned(UInt64(clang_EvalResult_getAsUnsigned(result)))
            }
            return .integer(Int64(clang_EvalResult_getAsLongLong(result)))
        case CXEval_Float:
            return .float(clang_EvalResult_getAsDouble(result))
        case CXEval_StrLiteral:
            return clang_EvalResult_getAsStr(result).map { .string(String(cString: $0)) }
        default:
            return nil
        }
    }
}

final class VisitorBox {
    let unit: TranslationUnit
    let visitor: (Cursor, Cursor) -> VisitResult
    init(unit: TranslationUnit, visitor: @escaping (Cursor, Cursor) -> VisitResult) {
        self.unit = unit
        self.visitor = visitor
    }
}

/// Cursors are equal when libclang says they are the same node; the hash is
/// libclang's, so a cursor can key a per-node memo.
extension Cursor: Hashable {
    public static func == (a: Cursor, b: Cursor) -> Bool { clang_equalCursors(a.raw, b.raw) != 0 }
    public func hash(into hasher: inout Hasher) { hasher.combine(clang_hashCursor(raw)) }
}
