import Foundation

/// The options a directory's Makefile builds each object under:
/// `obj-$(CONFIG_CMA) += cma.o`, one level of composite objects
/// (`obj-$(CONFIG_X) += foo.o` with `foo-y := a.o b.o`), and
/// subdirectories (`obj-$(CONFIG_KMSAN) += kmsan/`, keyed "kmsan/"), which
/// gate every file below them. An object written with the word size,
/// `machine_kexec_$(BITS).o`, is both its `_32.o` and its `_64.o`; the
/// `_32.o` is built only on 32-bit x86 (`thirtyTwoBitOnly`).
struct MakefileGates {
    /// object file name ("cma.o") or subdirectory ("kmsan/") → CONFIG
    /// symbols without the prefix.
    var gates: [String: [String]] = [:]
    /// Objects Kbuild builds only when $(BITS) is 32.
    var thirtyTwoBitOnly: Set<String> = []

    init(directory: URL) {
        var composite: [String: [String]] = [:] // foo.o -> parts
        let lines = KbuildMakefile(directory: directory).lines
        // Plain variables holding object lists (`kvm-e500-objs := e500_mmu.o ...`,
        // then `kvm-objs-$(CONFIG_KVM_E500V2) := $(kvm-e500-objs)`).
        var variables: [String: String] = [:]
        for line in lines {
            guard let assignment = KbuildMakefile.assignment(line), assignment.op != .conditional,
                  KbuildMakefile.isVariableName(assignment.name, dashes: true) else { continue }
            variables[assignment.name] = (variables[assignment.name].map { $0 + " " } ?? "") + assignment.value
        }
        // Options of the enclosing `ifdef CONFIG_X` / `ifeq ($(CONFIG_X),y)`
        // / `ifneq ($(CONFIG_X),)` blocks; other conditionals add nothing.
        var conditions: [[String]] = []
        for line in lines {
            let directive = line.trimmingCharacters(in: .whitespaces)
            var keyword = directive.prefix { $0.isLetter }
            if let after = directive.dropFirst(keyword.count).first, !" \t(".contains(after) { keyword = "" }
            switch keyword {
            case "ifdef":
                let name = directive.dropFirst(5).trimmingCharacters(in: .whitespaces)
                conditions.append(name.hasPrefix("CONFIG_") && !name.contains("$") ? [String(name.dropFirst(7))] : [])
                continue
            case "ifeq", "ifneq":
                let body = directive.dropFirst(keyword.count).replacingOccurrences(of: " ", with: "")
                let symbols = MakefileGates.configSymbols(in: body)
                let positive = symbols.count == 1 && (keyword == "ifeq" ? body.hasSuffix(",y)") : body.hasSuffix(",)"))
                conditions.append(positive ? symbols : [])
                continue
            case "ifndef":
                conditions.append([])
                continue
            case "else":
                if !conditions.isEmpty { conditions[conditions.count - 1] = [] }
                continue
            case "endif":
                _ = conditions.popLast()
                continue
            default:
                break
            }
            guard let assignment = KbuildMakefile.assignment(line), assignment.op == .append || assignment.op == .immediate else { continue }
            let lhs = assignment.name
            var objects: [String] = []
            let words = KbuildMakefile.words(assignment.value).flatMap { word -> [String] in
                guard word.hasPrefix("$("), word.hasSuffix(")"), let value = variables[String(word.dropFirst(2).dropLast())] else { return [word] }
                return KbuildMakefile.words(value[...])
            }
            for word in words
            where word.hasSuffix(".o") || (word.hasSuffix("/") && !word.contains("$")) {
                if word.contains("$(BITS)") {
                    objects += [word.replacingOccurrences(of: "$(BITS)", with: "32"), word.replacingOccurrences(of: "$(BITS)", with: "64")]
                    thirtyTwoBitOnly.insert(word.replacingOccurrences(of: "$(BITS)", with: "32"))
                } else {
                    objects.append(word)
                }
            }
            let symbols = conditions.flatMap { $0 } + MakefileGates.configSymbols(in: lhs)
            if lhs.hasPrefix("obj-") {
                for o in objects { gates[o, default: []] += symbols }
            } else if let dash = lhs.lastIndex(of: "-") {
                let owner = String(lhs[..<dash]) + ".o"
                for o in objects {
                    composite[o, default: []].append(owner)
                    gates[o, default: []] += symbols
                }
            }
        }
        for (part, owners) in composite {
            for owner in owners { gates[part, default: []] += gates[owner] ?? [] }
        }
    }

    static func configSymbols(in text: String) -> [String] {
        var result: [String] = []
        var rest = Substring(text.replacingOccurrences(of: "${CONFIG_", with: "$(CONFIG_"))
        while let r = rest.range(of: "$(CONFIG_") {
            let after = rest[r.upperBound...]
            let name = after.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
            if !name.isEmpty { result.append(String(name)) }
            rest = after.dropFirst(name.count)
        }
        return result
    }
}
