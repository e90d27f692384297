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
                          arches: Arch.allCases, generations: KernelGeneration.allCases, wxMode: .kernel, strictModuleRWX: nil,
                          rodataFull: true, kasan: false, kaslr: true, numNodes: 1, steps: [], expectations: nil)
        if let a = field("arch") {
            if a.scalar?.string == "all" { sc.arches = Arch.allCases } else {
                sc.arches = try list(a).map { try enumValue($0, "arch", Arch.self) }
            }
        }
        if let k = field("kernel") {
            sc.generations = try list(k).map { n in
                let s = try string(n, "kernel")
                if s == "all" { return nil }
                guard let g = KernelGeneration(parsing: s) else { throw error(n, "kernel", "'\(s)' is not a kernel version (6.1 or 6.12)") }
                return g
            }.compactMap { $0 }
            if sc.generations.isEmpty { sc.generations = KernelGeneration.allCases }
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
            var e = Expectation(invariant: .wx, at: .any, severity: nil, arches: nil, generations: nil, line: item.mark?.line ?? 0)
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
                    e.generations = Set(try list(v).map { n in
                        guard let g = KernelGeneration(parsing: try string(n, "expect.kernel")) else { throw error(n, "expect.kernel", "not a kernel version") }
                        return g
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

    mutating func apiCall(_ name: String, _ callNode: Node, arg: (String) throws -> Node, opt: (String) -> Node?) throws -> APICall {
        func sz(_ k: String = "size") throws -> Int { try size(try arg(k), k) }
        func p(_ k: String = "ptr") throws -> PtrExpr { try ptr(try arg(k), k) }
        func checked() throws -> Bool { try opt("checked").map { try bool($0, "checked") } ?? true }
        func prot(_ k: String = "prot") throws -> Perm {
            let n = try arg(k); let s = try string(n, k)
            guard let v = Perm(pgprot: s) else { throw error(n, k, "'\(s)' is not a pgprot (PAGE_KERNEL, PAGE_KERNEL_RO, PAGE_KERNEL_EXEC, PAGE_KERNEL_ROX)") }
            return v
        }
        switch name {
        case "vmalloc", "vzalloc", "__vmalloc", "vmalloc_huge":
            let size = try sz()
            return .vmalloc(VmallocVariant(rawValue: name)!, size: size, bind: try bind(try arg("as")))
        case "__vmalloc_node_range":
            let size = try sz()
            let align = try opt("align").map { try self.size($0, "align") } ?? 1
            let range = try opt("range").map { try enumValue($0, "range", RangeSel.self) } ?? .vmalloc
            let pr = try prot()
            let fl = try opt("flags").map { try flags($0, "flags") } ?? []
            let purpose = try opt("purpose").map { try enumValue($0, "purpose", Purpose.self) } ?? (pr.isExecutable ? .code : .data)
            return .vmallocNodeRange(size: size, align: align, range: range, prot: pr, flags: fl, purpose: purpose, bind: try bind(try arg("as")))
        case "module_alloc":
            let size = try sz(); return .moduleAlloc(size: size, bind: try bind(try arg("as")))
        case "execmem_alloc":
            let tn = try arg("type"); let ts = try string(tn, "type")
            guard let t = ExecmemType(name: ts) else { throw error(tn, "type", "'\(ts)' is not an execmem type (\(ExecmemType.allCases.map(\.rawValue).joined(separator: ", ")))") }
            let size = try sz()
            return .execmemAlloc(t, size: size, bind: try bind(try arg("as")))
        case "bpf_jit_alloc_exec":
            let size = try sz(); return .bpfJitAllocExec(size: size, bind: try bind(try arg("as")))
        case "bpf_prog_pack_alloc":
            let size = try sz(); return .bpfProgPackAlloc(size: size, bind: try bind(try arg("as")))
        case "bpf_jit_binary_pack_alloc":
            let size = try sz()
            return .bpfJitBinaryPackAlloc(size: size, ro: try bind(try arg("as")), rw: try bind(try arg("rw")))
        case "kvmalloc", "kmalloc":
            let size = try sz(); let b = try bind(try arg("as"))
            return name == "kvmalloc" ? .kvmalloc(size: size, bind: b) : .kmalloc(size: size, bind: b)
        case "alloc_pages":
            let c = try count(try arg("count"))
            return .allocPages(count: c, bind: try bind(try arg("as"), pages: c))
        case "ioremap":
            let size = try sz(); return .ioremap(size: size, bind: try bind(try arg("as")))
        case "vmap":
            let pg = try pageSetName(try arg("pages"), "pages")
            let c = try count(try arg("count"), within: pg)
            let fl = try opt("flags").map { try flags($0, "flags") } ?? [.map]
            let pr = opt("prot") != nil ? try prot() : .kernel
            return .vmap(pages: pg, count: c, flags: fl, prot: pr, bind: try bind(try arg("as")))
        case "vm_map_ram":
            let pg = try pageSetName(try arg("pages"), "pages")
            return .vmMapRam(pages: pg, count: try count(try arg("count"), within: pg), bind: try bind(try arg("as")))
        case "get_vm_area":
            let size = try sz()
            let fl = try opt("flags").map { try flags($0, "flags") } ?? []
            return .getVMArea(size: size, flags: fl, bind: try bind(try arg("as")))
        case "vfree", "vfree_atomic", "vunmap", "free_vm_area", "module_memfree", "execmem_free", "bpf_jit_free_exec", "kvfree", "kfree":
            return .free(FreeAPI(rawValue: name)!, try p())
        case "vm_unmap_ram":
            let pt = try p(); return .vmUnmapRam(pt, count: try count(try arg("count")))
        case "bpf_prog_pack_free":
            let pt = try p(); return .bpfProgPackFree(pt, size: try opt("size").map { try size_($0) })
        case "bpf_jit_binary_pack_finalize":
            return .bpfJitBinaryPackFinalize(ro: try p("ro"), rw: try p("rw"))
        case "bpf_jit_binary_pack_free":
            return .bpfJitBinaryPackFree(ro: try p("ro"), rw: try p("rw"))
        case "__free_pages", "free_pages":
            return .freePages(try pageSetName(try arg("pages"), "pages"))
        case "set_memory_ro", "set_memory_rw", "set_memory_x", "set_memory_nx", "set_memory_rox":
            let op = SetMemoryOp(rawValue: String(name.dropFirst("set_memory_".count)))!
            let pt = try p()
            let n = try count(try arg("pages"), signed: true)
            return .setMemory(op, pt, pages: n, checked: try checked())
        case "set_vm_flush_reset_perms":
            return .setVMFlushResetPerms(try p())
        case "set_direct_map_invalid_noflush", "set_direct_map_default_noflush":
            return .setDirectMap(valid: name.contains("default"), try p())
        case "bpf_arch_text_copy":
            let pt = try p(); let len = try sz("len")
            return .bpfArchTextCopy(pt, length: len, checked: try checked())
        case "vm_area_map_pages":
            return .vmAreaMapPages(area: try p("area"), from: try p("from"), to: try p("to"), pages: try pageSetName(try arg("pages"), "pages"))
        case "vm_area_unmap_pages":
            return .vmAreaUnmapPages(area: try p("area"), from: try p("from"), to: try p("to"))
        case "vmap_pages_range":
            let pt = try p(); let pg = try pageSetName(try arg("pages"), "pages")
            return .vmapPagesRange(pt, pages: pg, count: try count(try arg("count"), within: pg), prot: try prot())
        case "find_vm_area":
            return .findVMArea(try p())
        case "write", "memcpy", "memset", "fill", "fncpy":
            let pt = try p(); return .write(pt, length: try sz("len"))
        case "check_wx": return .checkWX
        case "run_work": return .runWork
        case "inject_failure": return .injectFailure
        default:
            if let t = TextPatchAPI(rawValue: name) {
                let pt = try p(); return .textPatch(t, pt, length: try sz("len"))
            }
            throw error(callNode, "call", "unknown API '\(name)' (see `kpolicy model apis`)")
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
