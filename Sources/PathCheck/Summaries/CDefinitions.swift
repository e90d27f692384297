import Foundation
import Parse

/// The top level of a C file read as text, without a parse: its function
/// definitions (name, storage, the names each body calls) and its
/// designated initializers (`.alloc = alloc_insn_page`). Enough to find
/// where the tree defines a function and what it calls; the path checker
/// gets its IR from a real parse of that file (`TreeSummaries`).
///
/// Comments, strings and preprocessor lines are skipped; both arms of an
/// `#ifdef` are read. A definition is a `{` at brace depth 0 whose header
/// (the text since the previous `;`, `}` or preprocessor line) has a
/// parameter list and no `=`; a header with `=` opens an initializer.
struct CDefinitions {
    struct Function: Equatable {
        var name: String
        var line: Int
        var isStatic: Bool
        var isWeak: Bool
        /// It returns a pointer (`void *alloc_insn_page(void)`).
        var returnsPointer: Bool
        /// Its parameters that can carry memory (a pointer, or an
        /// `unsigned long` address), by name.
        var memoryParameters: [String]
        /// Names the body calls, in order of first call.
        var calls: [String]
        /// `lhs = callee(`: the last identifier of the left-hand side and
        /// the callee, and `callee(first, ...)`: the callee and the last
        /// identifier of its first argument.
        var storedResults: [(object: String, callee: String)]
        var firstArguments: [(callee: String, object: String)]

        static func == (a: Function, b: Function) -> Bool {
            a.name == b.name && a.line == b.line && a.isStatic == b.isStatic && a.isWeak == b.isWeak && a.calls == b.calls
        }
    }

    /// One member set in a designated initializer: `.member = name`.
    struct Member: Equatable {
        var member: String
        var name: String
        var line: Int
    }

    var functions: [Function] = []
    /// Per initializer at file scope, its `.member = name` entries.
    var initializers: [[Member]] = []

    static let notCalls: Set<String> = ["if", "for", "while", "switch", "return", "sizeof", "typeof", "__typeof__", "alignof",
                                        "_Alignof", "__alignof__", "defined", "do", "case", "else", "asm", "__asm__", "offsetof"]

    init(text: String) { self.init(bytes: Array(text.utf8)) }

    init(bytes b: [UInt8]) {
        let n = b.count
        var i = 0
        var line = 1
        var depth = 0
        var atLineStart = true
        // What the current top-level construct is.
        var header: [UInt8] = []
        var headerLine = 1
        var current: Function?
        var initializer: [Member]?
        var code: [UInt8] = []   // the body's code, comments and strings removed
        while i < n {
            let c = b[i]
            if c == UInt8(ascii: "\n") { line += 1; atLineStart = true; i += 1; if depth > 0 { code.append(c) } else { header.append(32) }; continue }
            if atLineStart && (c == 32 || c == 9) { i += 1; continue }
            if atLineStart && c == UInt8(ascii: "#") {
                // A preprocessor line, continuations included.
                while i < n && b[i] != UInt8(ascii: "\n") {
                    if b[i] == UInt8(ascii: "\\"), i + 1 < n, b[i + 1] == UInt8(ascii: "\n") { line += 1; i += 1 }
                    i += 1
                }
                if depth == 0 { header = []; headerLine = line }
                continue
            }
            atLineStart = false
            if c == UInt8(ascii: "/"), i + 1 < n, b[i + 1] == UInt8(ascii: "/") {
                while i < n && b[i] != UInt8(ascii: "\n") { i += 1 }
                continue
            }
            if c == UInt8(ascii: "/"), i + 1 < n, b[i + 1] == UInt8(ascii: "*") {
                i += 2
                while i + 1 < n && !(b[i] == UInt8(ascii: "*") && b[i + 1] == UInt8(ascii: "/")) { if b[i] == UInt8(ascii: "\n") { line += 1 }; i += 1 }
                i += 2
                if depth > 0 { code.append(32) } else { header.append(32) }
                continue
            }
            if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") {
                i += 1
                while i < n && b[i] != c { if b[i] == UInt8(ascii: "\\") { i += 1 } else if b[i] == UInt8(ascii: "\n") { line += 1 }; i += 1 }
                i += 1
                if depth > 0 { code.append(UInt8(ascii: "0")) } else { header.append(UInt8(ascii: "0")) }
                continue
            }
            if depth == 0 {
                switch c {
                case UInt8(ascii: ";"), UInt8(ascii: "}"):
                    header = []; headerLine = line
                case UInt8(ascii: "{"):
                    depth = 1
                    code = []
                    if let f = CDefinitions.function(header: header, line: headerLine) { current = f } else if header.contains(UInt8(ascii: "=")) { initializer = [] }
                    header = []
                default:
                    // The header's line is its first word's.
                    if !header.contains(where: { $0 != 32 && $0 != 9 }) && c != 32 && c != 9 { headerLine = line }
                    header.append(c)
                }
                i += 1
                continue
            }
            if c == UInt8(ascii: "{") { depth += 1 }
            if c == UInt8(ascii: "}") {
                depth -= 1
                if depth == 0 {
                    if var f = current {
                        CDefinitions.readBody(code, into: &f)
                        functions.append(f)
                    } else if initializer != nil {
                        initializers.append(CDefinitions.members(code, firstLine: headerLine))
                    }
                    current = nil
                    initializer = nil
                    header = []
                    headerLine = line
                    i += 1
                    continue
                }
            }
            code.append(c)
            i += 1
        }
    }

    /// The function a header defines, if it is one.
    static func function(header raw: [UInt8], line: Int) -> Function? {
        var h = String(decoding: raw, as: UTF8.self)
        // __attribute__((...)) and __section(...)-style groups say nothing here.
        while let r = h.range(of: "__attribute__") {
            var j = r.upperBound
            var d = 0
            while j < h.endIndex {
                if h[j] == "(" { d += 1 } else if h[j] == ")" { d -= 1; if d == 0 { j = h.index(after: j); break } }
                j = h.index(after: j)
            }
            h.replaceSubrange(r.lowerBound..<j, with: " ")
        }
        guard !h.contains("="), let open = h.firstIndex(of: "("), h.contains(")") else { return nil }
        let before = h[..<open]
        let tokens = before.split(whereSeparator: { !($0.isLetter || $0.isNumber || $0 == "_") })
        guard let name = tokens.last, let first = name.first, first.isLetter || first == "_" else { return nil }
        if ["struct", "union", "enum", "typedef"].contains(String(tokens.first ?? "")) && tokens.count < 2 { return nil }
        let words = Set(tokens.map(String.init))
        // The parameter list: its parts that are pointers or addresses.
        var parameters: [String] = []
        var depth = 0
        var part = ""
        for ch in h[h.index(after: open)...] {
            if ch == "(" { depth += 1 } else if ch == ")" { if depth == 0 { break }; depth -= 1 }
            if ch == ",", depth == 0 { parameters.append(part); part = "" } else { part.append(ch) }
        }
        parameters.append(part)
        // A pointer, or an address passed as an integer (`unsigned long addr`).
        let memory = parameters.compactMap { p -> String? in
            guard let name = p.split(whereSeparator: { !($0.isLetter || $0.isNumber || $0 == "_") }).last.map(String.init) else { return nil }
            return p.contains("*") || (p.contains("long") && (name.contains("addr") || ["start", "base", "va"].contains(name))) ? name : nil
        }
        return Function(name: String(name), line: line, isStatic: words.contains("static"), isWeak: words.contains("__weak"),
                        returnsPointer: before.contains("*"), memoryParameters: memory, calls: [], storedResults: [], firstArguments: [])
    }

    /// Calls, stored results and first arguments of a body's code.
    static func readBody(_ code: [UInt8], into f: inout Function) {
        var seen: Set<String> = []
        let n = code.count
        var i = 0
        while i < n {
            guard SourceText.isIdentifierByte(code[i]), i == 0 || !SourceText.isIdentifierByte(code[i - 1]),
                  !(code[i] >= 48 && code[i] <= 57) else { i += 1; continue }
            var j = i
            while j < n && SourceText.isIdentifierByte(code[j]) { j += 1 }
            let name = String(decoding: code[i..<j], as: UTF8.self)
            var k = j
            while k < n && (code[k] == 32 || code[k] == 9 || code[k] == 10) { k += 1 }
            if k < n, code[k] == UInt8(ascii: "("), !notCalls.contains(name), i == 0 || (code[i - 1] != UInt8(ascii: ".") && !(i > 1 && code[i - 2] == UInt8(ascii: "-") && code[i - 1] == UInt8(ascii: ">"))) {
                if seen.insert(name).inserted { f.calls.append(name) }
                if let lhs = assignedObject(code, before: i) { f.storedResults.append((lhs, name)) }
                if let arg = firstArgumentObject(code, open: k) { f.firstArguments.append((name, arg)) }
            }
            i = j
        }
    }

    /// The last identifier of `x = ` just before `at` (`im->image = ` → image).
    static func assignedObject(_ code: [UInt8], before at: Int) -> String? {
        var k = at - 1
        while k >= 0 && (code[k] == 32 || code[k] == 9 || code[k] == 10) { k -= 1 }
        // A cast such as (void *) between `=` and the call.
        if k >= 0, code[k] == UInt8(ascii: ")") {
            var d = 0
            while k >= 0 { if code[k] == UInt8(ascii: ")") { d += 1 } else if code[k] == UInt8(ascii: "(") { d -= 1; if d == 0 { k -= 1; break } }; k -= 1 }
            while k >= 0 && (code[k] == 32 || code[k] == 9 || code[k] == 10) { k -= 1 }
        }
        guard k >= 1, code[k] == UInt8(ascii: "="), ![UInt8(ascii: "="), UInt8(ascii: "!"), UInt8(ascii: "<"), UInt8(ascii: ">")].contains(code[k - 1]) else { return nil }
        k -= 1
        while k >= 0 && (code[k] == 32 || code[k] == 9 || code[k] == 10) { k -= 1 }
        let end = k + 1
        while k >= 0 && SourceText.isIdentifierByte(code[k]) { k -= 1 }
        guard k + 1 < end else { return nil }
        return String(decoding: code[(k + 1)..<end], as: UTF8.self)
    }

    /// The last identifier of the first argument of the call whose `(` is at `open`, when it is a plain object (`p`, `(void *)p`, `im->image`).
    static func firstArgumentObject(_ code: [UInt8], open: Int) -> String? {
        var k = open + 1
        var d = 0
        var end = k
        while end < code.count {
            let c = code[end]
            if c == UInt8(ascii: "(") { d += 1 } else if c == UInt8(ascii: ")") { if d == 0 { break }; d -= 1 } else if c == UInt8(ascii: ","), d == 0 { break }
            end += 1
        }
        guard end <= code.count, end > k else { return nil }
        // The last identifier of the argument text, which must not be a call.
        var e = end - 1
        while e >= k && (code[e] == 32 || code[e] == 9 || code[e] == 10 || code[e] == UInt8(ascii: ")")) { e -= 1 }
        let stop = e + 1
        while e >= k && SourceText.isIdentifierByte(code[e]) { e -= 1 }
        guard e + 1 < stop else { return nil }
        k = e + 1
        guard !(code[k] >= 48 && code[k] <= 57) else { return nil }
        return String(decoding: code[k..<stop], as: UTF8.self)
    }

    /// `.member = name` entries of an initializer's code.
    static func members(_ code: [UInt8], firstLine: Int) -> [Member] {
        var out: [Member] = []
        let n = code.count
        var line = firstLine
        var i = 0
        while i < n {
            if code[i] == 10 { line += 1 }
            guard code[i] == UInt8(ascii: "."), i + 1 < n, SourceText.isIdentifierByte(code[i + 1]), i == 0 || !SourceText.isIdentifierByte(code[i - 1]) else { i += 1; continue }
            var j = i + 1
            while j < n && SourceText.isIdentifierByte(code[j]) { j += 1 }
            let member = String(decoding: code[(i + 1)..<j], as: UTF8.self)
            var k = j
            while k < n && (code[k] == 32 || code[k] == 9 || code[k] == 10) { k += 1 }
            guard k < n, code[k] == UInt8(ascii: "=") else { i = j; continue }
            k += 1
            while k < n && (code[k] == 32 || code[k] == 9 || code[k] == 10) { k += 1 }
            if k < n, code[k] == UInt8(ascii: "&") { k += 1 }
            var m = k
            while m < n && SourceText.isIdentifierByte(code[m]) { m += 1 }
            var after = m
            while after < n && (code[after] == 32 || code[after] == 9 || code[after] == 10) { after += 1 }
            if m > k, after >= n || code[after] == UInt8(ascii: ",") || code[after] == UInt8(ascii: "}") {
                out.append(Member(member: member, name: String(decoding: code[k..<m], as: UTF8.self), line: line))
            }
            i = m
        }
        return out
    }
}
