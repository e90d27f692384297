import Foundation
import KernelModel
import KPolicyCache
import KPolicyFiles
import Parse

/// The tree's functions that allocate, free, protect, write or patch
/// executable memory, directly or through another such function, with
/// where each is defined: a `__weak` default in common code and the
/// overrides under `arch/<a>/` are separate definitions, so a caller's path
/// on arm64 runs arm64's. Also the allocator/free pairs the code names.
///
/// Read as text (`CDefinitions`) from the C files under kernel/, mm/ and
/// arch/ that mention an executable-memory API (and, a second round, those
/// that mention a function found in the first), so deriving it costs a
/// scan, not a parse; the IRs the path checker runs come from a parse of
/// the defining file when a caller needs them (`TreeSummaries`). Functions
/// the model executes itself (its catalogue: module_alloc,
/// bpf_jit_alloc_exec...) are the model's, not summarised.
public struct TreeFunctions: Codable, Sendable, Equatable {
    /// One definition of a function.
    public struct Definition: Codable, Sendable, Hashable {
        public var name: String
        public var path: String
        public var line: Int
        public var isStatic: Bool
        public var isWeak: Bool
        /// It hands memory to or from its caller: it returns a pointer, or
        /// passes a parameter that can carry memory on to a call. Only such
        /// a function's summary can change what a caller's path knows.
        public var handsMemory: Bool

        /// The arch directory it is under (`arch/x86/...` → x86), nil in common code.
        public var kernelArch: String? { TreeFunctions.kernelArch(of: path) }

        /// `arch/x86/net/bpf_jit_comp.c:3204`, with what it is.
        public var described: String {
            let what = isWeak ? "__weak default" : kernelArch.map { "\($0) override" } ?? (isStatic ? "static" : "definition")
            return "\(name)() \(path):\(line) (\(what))"
        }
    }

    /// An allocator and the function the code frees its memory with.
    public struct Pair: Codable, Sendable, Hashable {
        public var allocator: String
        public var free: String
        /// Where the code says so: `.alloc`/`.free` members of one
        /// initializer, or the free called on the allocator's result.
        public var path: String
        public var line: Int
        public var how: String
    }

    /// Definitions of executable-memory functions by name (statics too:
    /// pairs are found among them), every arch's.
    public var definitions: [String: [Definition]] = [:]
    public var pairs: [Pair] = []
    /// For each function callers in other files reach: where its callers
    /// are, as the arch directory of their file (`x86_32` for x86's 32-bit
    /// files, `bpf_jit_comp32.c`), "" for common code.
    public var callers: [String: [String]] = [:]
    /// The `__weak` functions of the files read, each with the arch
    /// directories that define the same name (their overrides), whether
    /// or not those handle executable memory: on such an arch the call
    /// does not run the default's body.
    public var overrides: [String: [String]] = [:]
    /// Files read.
    public var filesRead = 0

    public init() {}

    /// Where kernel code that defines executable-memory functions lives.
    public static let directories = ["kernel", "mm", "arch"]

    /// Functions a caller in another file may reach: not static, not a
    /// model API.
    public var summarised: Set<String> {
        Set(definitions.filter { $0.value.contains { !$0.isStatic && $0.handsMemory } && KernelSignature.named($0.key) == nil }.keys)
    }

    /// Every function of `path` a caller's summaries may ask for: the
    /// summarised ones, pair allocators, and the definitions the resolver
    /// runs in place of a `__weak` default (all that `definitions` keeps).
    /// None for a file under an arch directory the model has no profile
    /// of: other files reach its definitions on no checked arch.
    public func definedNames(in path: String) -> Set<String> {
        guard TreeFunctions.isReachable(path) else { return [] }
        return Set(definitions.filter { $0.value.contains { $0.path == path } }.keys)
    }

    /// The files that define a function `definedNames(in:)` gives.
    public var definingPaths: Set<String> { Set(definitions.values.flatMap { $0.map(\.path) }.filter(TreeFunctions.isReachable)) }

    /// Common code, or an arch directory with a model profile.
    static func isReachable(_ path: String) -> Bool {
        TreeFunctions.kernelArch(of: path).map { Arch(kernelArch: $0) != .generic } ?? true
    }

    /// The arch directory a file of the tree is under (`arch/x86/...` →
    /// x86), nil in common code.
    static func kernelArch(of path: String) -> String? {
        let parts = path.split(separator: "/")
        return parts.count > 2 && parts[0] == "arch" ? String(parts[1]) : nil
    }

    /// Every name a file must mention to need this knowledge (callers of
    /// summarised functions and pair frees).
    public var names: Set<String> { summarised.union(pairs.map(\.free)) }

    /// The definition a call to `name` from `path` reaches on `arch`: the
    /// arch's override, else the common (non-weak, then `__weak`) one. Nil
    /// when the tree has none outside `path` (a same-file function is the
    /// file's) or only other arches define it.
    public func definition(of name: String, on arch: Arch, from path: String) -> Definition? {
        let defs = (definitions[name] ?? []).filter { !$0.isStatic }
        if let a = arch.kernelArch, let own = defs.first(where: { $0.kernelArch == a }) { return own.path == path ? nil : own }
        let common = defs.filter { $0.kernelArch == nil }
        guard let d = common.first(where: { !$0.isWeak }) ?? common.first else { return nil }
        return d.path == path ? nil : d
    }

    /// Whether the `__weak` function `name` is replaced on `arch` by an
    /// override under arch/ (any function, not only executable-memory ones).
    public func isWeakReplaced(_ name: String, on arch: Arch) -> Bool {
        guard let a = arch.kernelArch, let archs = overrides[name] else { return false }
        return archs.contains(a)
    }

    /// Whether `name` defined in `path` is overridden on `arch` by another
    /// definition (a `__weak` default the arch replaces).
    public func isOverridden(_ name: String, in path: String, on arch: Arch) -> Bool {
        definition(of: name, on: arch, from: path).map { $0.path != path && $0.kernelArch != nil } ?? false
    }

    /// The arches a function of common code runs on when only arch code
    /// calls it (7.x's `bpf_jit_binary_alloc()`: the JITs of arm, mips,
    /// s390, sparc, x86_32...): those of `among` whose arch has a caller;
    /// nil when common code calls it too, or no caller was found (callers
    /// outside kernel/, mm/ and arch/ are not read).
    public func callingArches(of name: String, among: [Arch]) -> [Arch]? {
        guard let c = callers[name], !c.isEmpty, !c.contains("") else { return nil }
        return among.filter { a in a.kernelArch.map { c.contains($0) } ?? false }
    }

    /// Results cached before results carried a footprint (or with another
    /// footprint) are not results of this kind: in the cache salt.
    public static let footprintFormat = "footprint-2"

    /// What this knowledge says of `names` (their definitions, whether they
    /// are summarised, their callers' arches and their pairs), as a stable
    /// hash: a cached result of a file that calls or defines `names` is
    /// valid while it is the same.
    public func footprint(of names: [String]) -> String {
        let set = Set(names)
        let summarised = self.summarised
        var parts: [String] = []
        for n in names.sorted() {
            if let o = overrides[n] { parts.append(n + "~" + o.joined(separator: ",")) }
            guard let defs = definitions[n] else { continue }
            parts.append(n + (summarised.contains(n) ? "+" : "") + ":"
                         + defs.map { "\($0.path):\($0.line):\($0.isStatic):\($0.isWeak):\($0.handsMemory)" }.joined(separator: ","))
            if let c = callers[n] { parts.append(n + "<" + c.joined(separator: ",")) }
        }
        parts += pairs.filter { set.contains($0.free) || set.contains($0.allocator) }.map { "\($0.allocator)>\($0.free)@\($0.path):\($0.line):\($0.how)" }
        return String(FNV1a.hash(parts.joined(separator: "\n")), radix: 16)
    }
}

/// Reads `TreeFunctions` from a tree, or from any set of files as text.
public enum TreeFunctionsReader {
    /// What a derivation is: changes here change every cached one.
    static let derivation = "functions-4"

    /// The C files under `TreeFunctions.directories` of the tree at `root`.
    /// With a result `cache`, kept there under the names, sizes and times
    /// of those files: a run over an unchanged tree reads none of them.
    public static func read(tree root: URL, cache: ResultCache? = nil) -> TreeFunctions {
        var files: [String] = []
        let fm = FileManager.default
        for dir in TreeFunctions.directories {
            guard let e = fm.enumerator(atPath: root.appendingPathComponent(dir).path) else { continue }
            while let rel = e.nextObject() as? String {
                if rel.hasSuffix(".c") { files.append(dir + "/" + rel) }
            }
        }
        files.sort()
        var key: String?
        if let cache {
            var listing = derivation + "\n"
            for f in files {
                let st = FileStat.of(root.appendingPathComponent(f).path)
                listing += "\(f) \(st?.size ?? -1) \(st?.mtimeNanoseconds ?? -1) \(st?.inode ?? 0)\n"
            }
            key = ContentHash.of(listing)
            if let data = cache.lookup(kind: "functions", key: key!), let known = try? JSONDecoder().decode(TreeFunctions.self, from: data) {
                return known
            }
        }
        let read = read(files: files) { path in
            try? Data(contentsOf: root.appendingPathComponent(path), options: .mappedIfSafe)
        }
        if let cache, let key, let data = try? JSONEncoder().encode(read) {
            cache.store(kind: "functions", key: key, dependencies: [], value: data)
        }
        return read
    }

    /// From the files named, read by `contents`.
    public static func read(files: [String], contents: (String) -> Data?) -> TreeFunctions {
        var texts: [String: Data] = [:]
        func text(_ f: String) -> Data? {
            if let t = texts[f] { return t }
            let t = contents(f)
            texts[f] = t
            return t
        }
        var scanned: [String: CDefinitions] = [:]
        // Round one: files that mention an executable-memory API; round
        // two: files that mention a function round one found.
        var wanted = Prefilter(identifiers: KernelSignature.executableMemoryAnchors)
        var result = TreeFunctions()
        for _ in 0..<2 {
            var more = false
            for f in files where scanned[f] == nil {
                guard let data = text(f), wanted.mentionsAny(data) else { continue }
                scanned[f] = CDefinitions(bytes: [UInt8](data))
                more = true
            }
            if !more { break }
            result = derive(scanned)
            wanted = Prefilter(identifiers: result.summarised)
            texts = [:]
        }
        result.overrides = overrides(of: scanned, among: files, contents: contents)
        result.filesRead = scanned.count
        return result
    }

    /// The `__weak` functions of the `scanned` files, each with the arch
    /// directories whose files (of `files`) define the same name.
    static func overrides(of scanned: [String: CDefinitions], among files: [String], contents: (String) -> Data?) -> [String: [String]] {
        var out: [String: Set<String>] = [:]
        for (path, defs) in scanned where !path.hasPrefix("arch/") {
            for f in defs.functions where f.isWeak && !f.isStatic { out[f.name] = out[f.name] ?? [] }
        }
        guard !out.isEmpty else { return [:] }
        let weak = Prefilter(identifiers: Set(out.keys))
        for f in files {
            guard let arch = TreeFunctions.kernelArch(of: f) else { continue }
            let defs: CDefinitions
            if let known = scanned[f] { defs = known } else {
                guard let data = contents(f), weak.mentionsAny(data) else { continue }
                defs = CDefinitions(bytes: [UInt8](data))
            }
            for d in defs.functions where !d.isStatic && !d.isWeak && out[d.name] != nil { out[d.name]!.insert(arch) }
        }
        return out.mapValues { $0.sorted() }
    }

    /// Executable-memory functions of the scanned files: those that call
    /// an anchor or, to a fixpoint, another such function; and the pairs.
    static func derive(_ scanned: [String: CDefinitions]) -> TreeFunctions {
        let anchors = KernelSignature.executableMemoryAnchors
        var calls: [String: Set<String>] = [:]
        var exported: Set<String> = []
        for (_, defs) in scanned {
            // A name in capitals is a macro that defines a function (SYSCALL_DEFINE3), not its name.
            for f in defs.functions where f.name.contains(where: \.isLowercase) {
                calls[f.name, default: []].formUnion(f.calls.map(KernelCall.canonicalName))
                if !f.isStatic { exported.insert(f.name) }
            }
        }
        // Level 1 calls an API; level 2 calls a level-1 function of another
        // file (deeper callers are not summarised: PathChecker.maxHelperDepth).
        var exec = Set(calls.filter { !$0.value.isDisjoint(with: anchors) }.keys)
        let level1 = exec.intersection(exported).subtracting(anchors)
        for (name, c) in calls where !exec.contains(name) && !c.isDisjoint(with: level1) { exec.insert(name) }
        var out = TreeFunctions()
        // Pairs first: a pair's free is kept whatever its body calls.
        var pairs: Set<TreeFunctions.Pair> = []
        let allocators = exec.union(KernelSignature.executableAllocators)
        for (path, defs) in scanned {
            for members in defs.initializers {
                for m in members where m.member.contains("alloc") {
                    let freeMember = m.member.replacingOccurrences(of: "alloc", with: "free")
                    guard allocators.contains(m.name), let f = members.first(where: { $0.member == freeMember }) else { continue }
                    pairs.insert(.init(allocator: m.name, free: f.name, path: path, line: m.line, how: ".\(m.member)/.\(freeMember) of one initializer"))
                }
            }
            // The free called on the allocator's result, in the same function
            // (an error path, or a function that allocates and frees).
            for f in defs.functions {
                var storedBy: [String: Set<String>] = [:]
                for s in f.storedResults where allocators.contains(s.callee) { storedBy[s.object, default: []].insert(s.callee) }
                for a in f.firstArguments {
                    // Named as what they are: an allocator and a free.
                    guard a.callee.contains("free"), let from = storedBy[a.object], KernelSignature.named(a.callee) == nil,
                          calls[a.callee] != nil else { continue }
                    for alloc in from where alloc != a.callee && alloc.contains("alloc") {
                        pairs.insert(.init(allocator: alloc, free: a.callee, path: path, line: f.line, how: "\(a.callee)() called on \(alloc)()'s result (\(a.object))"))
                    }
                }
            }
        }
        // Only frees that are functions of the tree, and a pair said twice once (ops initializers first).
        var byNames: [String: TreeFunctions.Pair] = [:]
        for p in pairs.sorted(by: { ($0.how.hasPrefix(".") ? 0 : 1, $0.path, $0.line) < ($1.how.hasPrefix(".") ? 0 : 1, $1.path, $1.line) }) {
            byNames[p.allocator + ">" + p.free] = byNames[p.allocator + ">" + p.free] ?? p
        }
        out.pairs = byNames.values.sorted { ($0.path, $0.line, $0.free) < ($1.path, $1.line, $1.free) }
        let keep = exec.union(out.pairs.map(\.free)).union(out.pairs.map(\.allocator))
        // Which functions hand executable memory to or from their caller:
        // they return what an allocator (or such a function) returned, or
        // pass a parameter on to an API or such a function. To a fixpoint.
        var returning = Set(KernelSignature.executableAllocators)
        // The APIs whose first argument is memory (not the allocators, whose first is a size).
        var taking = anchors.subtracting(KernelSignature.executableAllocators).subtracting(["__vmalloc_node_range", "module_alloc_huge"])
        var changedHands = true
        while changedHands {
            changedHands = false
            for (_, defs) in scanned {
                for f in defs.functions where keep.contains(f.name) {
                    let calls = Set(f.calls.map(KernelCall.canonicalName))
                    if f.returnsPointer, !returning.contains(f.name), !calls.isDisjoint(with: returning) { returning.insert(f.name); changedHands = true }
                    if !taking.contains(f.name), f.firstArguments.contains(where: { taking.contains(KernelCall.canonicalName($0.callee)) && f.memoryParameters.contains($0.object) }) {
                        taking.insert(f.name); changedHands = true
                    }
                }
            }
        }
        for (path, defs) in scanned {
            for f in defs.functions where keep.contains(f.name) {
                let hands = returning.contains(f.name) || taking.contains(f.name)
                out.definitions[f.name, default: []].append(.init(name: f.name, path: path, line: f.line, isStatic: f.isStatic, isWeak: f.isWeak,
                                                                  handsMemory: hands))
            }
        }
        for k in out.definitions.keys { out.definitions[k]!.sort { ($0.path, $0.line) < ($1.path, $1.line) } }
        let reached = out.summarised
        var callers: [String: Set<String>] = [:]
        for (path, defs) in scanned {
            var arch = TreeFunctions.kernelArch(of: path) ?? ""
            if arch == "x86", path.hasSuffix("32.c") { arch = "x86_32" }
            for f in defs.functions {
                for c in f.calls where c != f.name && reached.contains(c) { callers[c, default: []].insert(arch) }
            }
        }
        out.callers = callers.mapValues { $0.sorted() }
        return out
    }
}
