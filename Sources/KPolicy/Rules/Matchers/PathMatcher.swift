import KernelModel

extension PathMatcher {
    static let knownInvariants = Set(Invariant.allCases.map(\.rawValue))
    static let eventClasses = ["set-memory", "restore", "write", "free", "allocation", "return", "text-patch", "flag"]

    /// One match per event the violation happens at, naming every arch
    /// (and the paths' first witness) it happens on.
    func matches(in results: [(ir: FunctionIR, result: PathChecker.Result)]) -> [Match] {
        var out: [Match] = []
        for (ir, result) in results {
            var byPlace: [Position: [PathChecker.Finding]] = [:]
            for f in result.findings where invariants.contains(f.invariant.rawValue) && severities.contains(f.severity.rawValue) {
                if !at.isEmpty && !at.contains(f.eventClass) { continue }
                if target == "read-only" && !f.targetReadOnly { continue }
                if target == "perms-changed" && !f.permissionsChanged { continue }
                if memory == "allocated" && f.seededObject { continue }
                if memory == "evident" && !f.evidentlyWritable { continue }
                byPlace[f.event.position, default: []].append(f)
            }
            for (position, fs) in byPlace.sorted(by: { $0.key < $1.key }) {
                let first = fs[0]
                let arches = Array(Set(fs.map(\.arch.rawValue))).sorted()
                var values: [String: String] = [
                    "subject": first.event.spelled,
                    "object": first.event.arguments.first?.text ?? "",
                    "result": first.event.result.map { $0.hasPrefix("$") ? "the result" : $0 } ?? "",
                    "arches": arches.joined(separator: ", "),
                    "invariant": first.invariant.rawValue,
                    "model": first.message,
                    "kernel-generation": first.tree.version.series,
                ]
                // How this tree makes code read-only and executable on each arch of the finding.
                var restore: [String: [String]] = [:]
                for a in Arch.allCases where arches.contains(a.rawValue) {
                    restore[first.tree.restoreROX(on: a) ?? "set_memory_ro() then set_memory_x()", default: []].append(a.rawValue)
                }
                values["restore"] = restore.count == 1 ? restore.keys.first! + "()"
                    : restore.sorted { $0.key < $1.key }.map { "\($0.key)() on \($0.value.joined(separator: ", "))" }.joined(separator: ", ")
                values["lines"] = first.trace.filter { $0.line > 0 }.map { "\($0.line)" }.joined(separator: " → ")
                out.append(Match(position: position, function: ir.name, values: values, call: nil,
                                 trace: first.trace.isEmpty ? nil : first.trace.map { step in
                                     var s = step
                                     s.arch = first.arch.rawValue
                                     return s
                                 },
                                 pathSite: PathSite(ir: ir, event: position, object: first.event.arguments.first?.object ?? (first.eventClass == "allocation" || first.eventClass == "return" ? first.event.result : nil) ?? "",
                                                    arches: Arch.allCases.filter { arches.contains($0.rawValue) }, tree: first.tree)))
            }
        }
        return out
    }
}
