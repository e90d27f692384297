import Foundation
import KernelModel
import Yams

/// Reads scenario YAML with `Yams.compose`, so every error can point at the
/// line and field it comes from.
public enum ScenarioLoader {
    public static func load(path: String) throws -> Scenario {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw ScenarioError(file: path, line: 0, column: 0, field: "", message: "cannot read the file")
        }
        return try parse(yaml: text, file: path)
    }

    public static func parse(yaml: String, file: String) throws -> Scenario {
        let root: Node?
        do {
            root = try YAMLInput.compose(yaml)
        } catch {
            throw ScenarioError(file: file, line: error.line, column: error.column, field: error.field, message: error.message)
        }
        var p = Parser(file: file)
        guard let root else { throw p.error(nil, "", "the file is empty") }
        return try p.scenario(root)
    }
}

/// Parsing helpers that know the file name and throw `ScenarioError`s.
struct Parser {
    let file: String
    /// Symbols bound so far, for "used before bound" errors. Value: the number
    /// of pages for a page set bound by alloc_pages, nil for a pointer.
    var symbols: [String: Int?] = [:]
    var labels: [String: Int] = [:]

    func error(_ node: Node?, _ field: String, _ msg: String) -> ScenarioError {
        ScenarioError(file: file, line: node?.mark?.line ?? 0, column: node?.mark?.column ?? 0, field: field, message: msg)
    }

    func map(_ n: Node, _ field: String) throws -> [(String, Node, Node)] {
        guard let m = n.mapping else { throw error(n, field, "expected a mapping") }
        var seen: Set<String> = []
        return try m.map { k, v in
            guard let ks = k.string else { throw error(k, field, "keys must be strings") }
            guard seen.insert(ks).inserted else { throw error(k, ks, "given twice") }
            return (ks, k, v)
        }
    }

    func string(_ n: Node, _ field: String) throws -> String {
        guard let s = n.scalar?.string else { throw error(n, field, "expected a scalar") }
        return s
    }

    func bool(_ n: Node, _ field: String) throws -> Bool {
        switch try string(n, field).lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw error(n, field, "expected true or false")
        }
    }

    func list(_ n: Node) -> [Node] { n.sequence.map { Array($0) } ?? [n] }

    /// `4096`, `0x1000`, `4K`, `2M`, `PAGE`, `3*PAGE`, `PMD`, `PAGE+16`: a
    /// byte count from 0 up to `ModelLimits.maxBytes`.
    func size(_ n: Node, _ field: String) throws -> Int {
        let s = try string(n, field)
        guard let v = Parser.evalSize(s) else {
            throw error(n, field, "'\(s)' is not a size (use 4096, 0x1000, 4K, 2M, PAGE, 2*PAGE, PMD; at most \(ModelLimits.maxBytesText))")
        }
        guard v >= 0 else { throw error(n, field, "'\(s)' is negative") }
        guard v <= ModelLimits.maxBytes else {
            throw error(n, field, "'\(s)' is beyond the \(ModelLimits.maxBytesText) the model represents per call")
        }
        return v
    }

    /// The value of a size expression, or nil when it is malformed or does
    /// not fit in 64 bits.
    static func evalSize(_ text: String) -> Int? {
        let s = text.replacingOccurrences(of: " ", with: "")
        if s.isEmpty { return nil }
        if let plus = s.lastIndex(where: { $0 == "+" || $0 == "-" }), plus != s.startIndex {
            guard let a = evalSize(String(s[..<plus])), let b = evalSize(String(s[s.index(after: plus)...])) else { return nil }
            let (v, overflow) = s[plus] == "+" ? a.addingReportingOverflow(b) : a.subtractingReportingOverflow(b)
            return overflow ? nil : v
        }
        if let star = s.firstIndex(of: "*") {
            guard let a = evalSize(String(s[..<star])), let b = evalSize(String(s[s.index(after: star)...])) else { return nil }
            let (v, overflow) = a.multipliedReportingOverflow(by: b)
            return overflow ? nil : v
        }
        switch s.uppercased() {
        case "PAGE", "PAGE_SIZE": return Size.page
        case "PMD", "PMD_SIZE": return Size.pmd
        default: break
        }
        if s.hasPrefix("0x") { return Int(s.dropFirst(2), radix: 16) }
        let units: [Character: Int] = ["K": 1024, "M": 1024 * 1024, "G": 1024 * 1024 * 1024]
        if let u = s.last.flatMap({ units[Character($0.uppercased())] }) {
            guard let n = Int(s.dropLast()) else { return nil }
            let (v, overflow) = n.multipliedReportingOverflow(by: u)
            return overflow ? nil : v
        }
        return Int(s)
    }

    func ptr(_ n: Node, _ field: String) throws -> PtrExpr {
        let raw = try string(n, field).replacingOccurrences(of: " ", with: "")
        var text = raw
        var direct = false
        if text.hasPrefix("lm(") && text.hasSuffix(")") {
            direct = true
            text = String(text.dropFirst(3).dropLast())
        }
        var name = text, offset = 0
        if let i = text.firstIndex(where: { $0 == "+" || $0 == "-" }) {
            name = String(text[..<i])
            guard let off = Parser.evalSize(String(text[text.index(after: i)...])), off >= 0, off <= ModelLimits.maxBytes else {
                throw error(n, field, "bad offset in '\(raw)' (at most \(ModelLimits.maxBytesText))")
            }
            offset = text[i] == "+" ? off : -off
        }
        switch name {
        case "NULL", "null": return PtrExpr(.null, offset: offset)
        case "_stext", "kernel_text": return PtrExpr(.kernelText, offset: offset)
        default: break
        }
        if name.hasPrefix("0x"), let a = UInt64(name.dropFirst(2), radix: 16) { return PtrExpr(.absolute(a), offset: offset) }
        guard symbols[name] != nil else {
            throw error(n, field, "'\(name)' is not bound by an earlier step (bind it with `as:`)")
        }
        return PtrExpr(direct ? .directMap(name) : .symbol(name), offset: offset)
    }

    func pageSetName(_ n: Node, _ field: String) throws -> String {
        let s = try string(n, field)
        guard case .some(.some) = symbols[s] else { throw error(n, field, "'\(s)' is not a page set bound by alloc_pages") }
        return s
    }

    /// A page count for a page set: 1 up to the pages `set` holds.
    func count(_ n: Node, within set: String) throws -> Int {
        if let c = Parser.evalSize(try string(n, "count")), case .some(.some(let size)) = symbols[set], c > size {
            throw error(n, "count", "\(c) pages, but '\(set)' holds \(size)")
        }
        return try count(n)
    }

    func flags(_ n: Node, _ field: String) throws -> VMFlags {
        var out: VMFlags = []
        let items: [Node] = n.sequence.map { Array($0) } ?? [n]
        for item in items {
            for part in try string(item, field).split(separator: "|") {
                let t = part.trimmingCharacters(in: .whitespaces)
                if t == "0" || t.isEmpty { continue }
                guard let f = VMFlags(name: t) else {
                    throw error(item, field, "unknown vm flag '\(t)' (known: \(VMFlags.names.map(\.1).joined(separator: ", ")))")
                }
                out.insert(f)
            }
        }
        return out
    }

    func enumValue<T: RawRepresentable & CaseIterable>(_ n: Node, _ field: String, _: T.Type) throws -> T where T.RawValue == String {
        let s = try string(n, field)
        guard let v = T(rawValue: s) else {
            throw error(n, field, "'\(s)' is not one of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return v
    }

    // MARK: scenario

    mutating func scenario(_ root: Node) throws -> Scenario {
        let fields = try map(root, "")
        func field(_ k: String) -> Node? { fields.first { $0.0 == k }?.2 }
        let known: Set<String> = ["scenario", "summary", "source", "arch", "kernel", "config", "steps", "expect"]
        for (k, kn, _) in fields where !known.contains(k) {
            throw error(kn, k, "unknown top-level field (expected one of \(known.sorted().joined(separator: ", ")))")
        }
        guard let nameNode = field("scenario") else { throw error(root, "scenario", "missing: every scenario needs a name") }
        var sc = Scenario(name: try string(nameNode, "scenario"), summary: try field("summary").map { try string($0, "summary") } ?? "",
                          source: try field("source").map { try string($0, "source") } ?? "", file: file,
                          arches: Arch.allCases, kernels: Scenario.defaultKernels, wxMode: .kernel, strictModuleRWX: nil,
                          rodataFull: true, kasan: false, kaslr: true, numNodes: 1, steps: [], expectations: nil)
        if let a = field("arch") {
            if a.scalar?.string == "all" { sc.arches = Arch.allCases } else {
                sc.arches = try list(a).map { try enumValue($0, "arch", Arch.self) }
            }
        }
        if let k = field("kernel") {
            sc.kernels = try list(k).map { n in
                let s = try string(n, "kernel")
                if s == "all" { return nil }
                guard let v = Scenario.kernel(parsing: s) else {
                    throw error(n, "kernel", "'\(s)' is not a kernel version (6.1, 6.12 or a later series such as 7.3)")
                }
                return v
            }.compactMap { $0 }
            if sc.kernels.isEmpty { sc.kernels = Scenario.defaultKernels }
        }
        if let c = field("config") {
            for (k, kn, v) in try map(c, "config") {
                switch k {
                case "wx": sc.wxMode = try enumValue(v, "config.wx", WXMode.self)
                case "strict-module-rwx": sc.strictModuleRWX = try bool(v, "config.strict-module-rwx")
                case "rodata-full": sc.rodataFull = try bool(v, "config.rodata-full")
                case "kasan": sc.kasan = try bool(v, "config.kasan")
                case "kaslr": sc.kaslr = try bool(v, "config.kaslr")
                case "nodes":
                    guard let n = Int(try string(v, "config.nodes")), n >= 1 else { throw error(v, "config.nodes", "expected a positive integer") }
                    sc.numNodes = n
                default: throw error(kn, "config.\(k)", "unknown setting (wx, strict-module-rwx, rodata-full, kasan, kaslr, nodes)")
                }
            }
        }
        guard let stepsNode = field("steps"), let seq = stepsNode.sequence else {
            throw error(field("steps") ?? root, "steps", "missing or not a list")
        }
        for (i, s) in seq.enumerated() {
            var st = try step(s, index: i + 1)
            if let l = st.label { labels[l] = i + 1 }
            st.line = s.mark?.line ?? 0
            sc.steps.append(st)
        }
        if let e = field("expect") {
            sc.expectations = try expectations(e)
        }
        return sc
    }

    mutating func expectations(_ n: Node) throws -> [Expectation] {
        if let s = n.scalar?.string {
            guard s == "safe" else { throw error(n, "expect", "expected `safe` or a list of expected violations") }
            return []
        }
        guard let seq = n.sequence else { throw error(n, "expect", "expected `safe` or a list") }
        return try seq.map { item in
            var e = Expectation(invariant: .wx, at: .any, severity: nil, arches: nil, kernels: nil, line: item.mark?.line ?? 0)
            var sawInvariant = false
            for (k, kn, v) in try map(item, "expect") {
                switch k {
                case "invariant":
                    let s = try string(v, "expect.invariant")
                    guard let inv = Invariant(rawValue: s) else {
                        throw error(v, "expect.invariant", "unknown invariant '\(s)' (known: \(Invariant.allCases.map(\.id).joined(separator: ", ")))")
                    }
                    e.invariant = inv; sawInvariant = true
                case "at":
                    let s = try string(v, "expect.at")
                    if s == "end" { e.at = .end } else if s == "any" { e.at = .any }
                    else if let i = Int(s) { e.at = .index(i) }
                    else if let i = labels[s] { e.at = .index(i) }
                    else { throw error(v, "expect.at", "'\(s)' is not a step number, a step id, `end` or `any`") }
                case "severity": e.severity = try enumValue(v, "expect.severity", Severity.self)
                case "arch": e.arches = Set(try list(v).map { try enumValue($0, "expect.arch", Arch.self) })
                case "kernel":
                    e.kernels = Set(try list(v).map { n in
                        guard let k = Scenario.kernel(parsing: try string(n, "expect.kernel")) else { throw error(n, "expect.kernel", "not a kernel version") }
                        return k.series
                    })
                default: throw error(kn, "expect.\(k)", "unknown field (invariant, at, severity, arch, kernel)")
                }
            }
            guard sawInvariant else { throw error(item, "expect.invariant", "missing") }
            return e
        }
    }

    // MARK: steps

    mutating func step(_ n: Node, index: Int) throws -> ScenarioStep {
        if let s = n.scalar?.string {
            switch s {
            case "check_wx", "checkpoint": return ScenarioStep(call: .checkWX, label: nil, line: 0)
            case "run_work": return ScenarioStep(call: .runWork, label: nil, line: 0)
            case "inject_failure": return ScenarioStep(call: .injectFailure, label: nil, line: 0)
            default: throw error(n, "steps[\(index)]", "unknown step '\(s)' (scalar steps: check_wx, run_work, inject_failure)")
            }
        }
        let fields = try map(n, "steps[\(index)]")
        var args: [String: Node] = [:]
        var keyNodes: [String: Node] = [:]
        for (k, kn, v) in fields { args[k] = v; keyNodes[k] = kn }
        var used: Set<String> = ["id"]
        // Not a copy of `self`: a second reference to the symbol table would
        // make every later bind copy it (quadratic in the number of steps).
        let file = self.file
        func arg(_ k: String) throws -> Node {
            used.insert(k)
            guard let v = args[k] else {
                throw ScenarioError(file: file, line: n.mark?.line ?? 0, column: n.mark?.column ?? 0, field: k, message: "missing (step \(index))")
            }
            return v
        }
        func opt(_ k: String) -> Node? { used.insert(k); return args[k] }
        let label = try args["id"].map { try string($0, "id") }
        let call: APICall
        if let c = args["context"] {
            used.insert("context")
            call = .setContext(try enumValue(c, "context", ExecContext.self))
        } else if let c = args["caller"] {
            used.insert("caller")
            call = .setCaller(try enumValue(c, "caller", CallerLayer.self))
        } else if let c = args["lock"] ?? args["unlock"] {
            used.insert("lock"); used.insert("unlock")
            guard try string(c, "lock") == "text_mutex" else { throw error(c, "lock", "only text_mutex is modelled") }
            call = .textMutex(held: args["lock"] != nil)
        } else if let c = args["persistent"] {
            used.insert("persistent")
            call = .markPersistent(try ptr(c, "persistent"))
        } else {
            let callNode = try arg("call")
            let name = try string(callNode, "call")
            call = try apiCall(name, callNode, arg: arg, opt: opt)
        }
        for (k, _) in args where !used.contains(k) {
            throw error(keyNodes[k], k, "unknown argument for this step")
        }
        return ScenarioStep(call: call, label: label, line: n.mark?.line ?? 0)
    }

    mutating func bind(_ n: Node, pages: Int? = nil) throws -> String {
        let s = try string(n, "as")
        guard s.first?.isLetter == true || s.first == "_", s.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
            throw error(n, "as", "'\(s)' is not an identifier")
        }
        symbols[s] = .some(pages)
        return s
    }

    /// Reads the step's arguments as the API's `KernelSignature` lists them
    /// and lowers the call through `KernelCall` (KernelModel): the scenario
    /// file and the path checker share one lowering.
    mutating func apiCall(_ name: String, _ callNode: Node, arg: (String) throws -> Node, opt: (String) -> Node?) throws -> APICall {
        guard let signature = KernelSignature.named(name) else {
            throw error(callNode, "call", "unknown API '\(name)' (see `kpolicy model apis`)")
        }
        var values: [String: KernelValue] = [:]
        // Binding parameters last: a step's pointers refer to earlier bindings.
        let ordered = signature.parameters.filter { $0.kind != .bind && $0.kind != .bindPages }
            + signature.parameters.filter { $0.kind == .bind || $0.kind == .bindPages }
        for p in ordered {
            guard let n = p.required ? try arg(p.key) : opt(p.key) else { continue }
            switch p.kind {
            case .size: values[p.key] = .size(try size(n, p.key))
            case .signedPageCount: values[p.key] = .size(try count(n, signed: true))
            case .count: values[p.key] = .size(try count(n))
            case .countWithinPageSet:
                guard case .pageSet(let set)? = values["pages"] else { values[p.key] = .size(try count(n)); break }
                values[p.key] = .size(try count(n, within: set))
            case .pointer: values[p.key] = .pointer(try ptr(n, p.key))
            case .pageSet: values[p.key] = .pageSet(try pageSetName(n, p.key))
            case .prot:
                let s = try string(n, p.key)
                guard let v = Perm(pgprot: s) else {
                    throw error(n, p.key, "'\(s)' is not a pgprot (PAGE_KERNEL, PAGE_KERNEL_RO, PAGE_KERNEL_EXEC, PAGE_KERNEL_ROX)")
                }
                values[p.key] = .prot(v)
            case .flags: values[p.key] = .flags(try flags(n, p.key))
            case .range: values[p.key] = .range(try enumValue(n, p.key, RangeSel.self))
            case .purpose: values[p.key] = .purpose(try enumValue(n, p.key, Purpose.self))
            case .type:
                let ts = try string(n, p.key)
                guard let t = ExecmemType(name: ts) else {
                    throw error(n, p.key, "'\(ts)' is not an execmem type (\(ExecmemType.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                values[p.key] = .type(t)
            case .bool, .resultUsed: values[p.key] = .bool(try bool(n, p.key))
            case .bind: values[p.key] = .bind(try bind(n))
            case .bindPages:
                guard case .size(let c)? = values["count"] else { throw error(n, p.key, "a page set needs a count") }
                values[p.key] = .bind(try bind(n, pages: c))
            }
        }
        switch KernelCall(name, values).lower() {
        case .success(let call): return call
        case .failure(let why): throw error(callNode, "call", "cannot lower '\(name)': \(why)")
        }
    }

    func size_(_ n: Node) throws -> Int { try size(n, "size") }

    /// A page count: 1 up to `ModelLimits.maxPages`. `signed`: any value in
    /// ±`ModelLimits.maxPages`, for set_memory_*, where the model itself
    /// reports a count below 1 (INV-SETMEM).
    func count(_ n: Node, signed: Bool = false) throws -> Int {
        let s = try string(n, "count")
        guard let v = Parser.evalSize(s) else { throw error(n, "count", "'\(s)' is not a number") }
        guard signed || v >= 1 else { throw error(n, "count", "'\(s)' is not a positive page count") }
        guard abs(v) <= ModelLimits.maxPages else {
            throw error(n, "count", "'\(s)' is beyond the \(ModelLimits.maxPages) pages (\(ModelLimits.maxBytesText)) the model represents per call")
        }
        return v
    }
}
