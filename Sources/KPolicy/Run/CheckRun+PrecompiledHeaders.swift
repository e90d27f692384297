import Foundation
import Kbuild
import Parse

extension CheckRun {
    /// The PCH of each arch with at least `precompiledHeaderMinimum` files
    /// in `toParse`, over the headers all `candidates` of the arch include
    /// (so the same paths give the same PCH, whatever the cache held).
    /// `reuseFirst` (patch mode): the last PCH built for the arch when it is
    /// still valid, else one built over `candidates` whatever their number,
    /// kept for the next patch or commit.
    func precompiledHeaders(candidates: [String], toParse: [String], archSupport: ArchSupport, reuseFirst: Bool = false) -> [String: PrecompiledHeader] {
        guard workspace.compileCommandsPresent == false else { return [:] }
        var byArch: [String: [String]] = [:]
        for file in toParse { byArch[workspace.tree.arch(for: file, fallback: workspace.defaultArch), default: []].append(file) }
        var out: [String: PrecompiledHeader] = [:]
        for (arch, files) in byArch.sorted(by: { $0.key < $1.key }) where archSupport.unsupportedReason(arch: arch) == nil {
            if reuseFirst || files.count < precompiledHeaderMinimum {
                // Too few to build one (or patch mode): the last one built, if still valid.
                if let cache = activeCache, let pch = PrecompiledHeader.latest(workspace: workspace, arch: arch, identities: cache.identities(of:)) {
                    out[arch] = pch
                    notes.append("precompiled header for \(arch): the last one built (\(pch.headers.count) headers)")
                    continue
                }
                if !reuseFirst { continue }
            }
            let all = candidates.filter { workspace.tree.arch(for: $0, fallback: workspace.defaultArch) == arch }
            do {
                if let pch = try PrecompiledHeader.build(workspace: workspace, arch: arch, candidates: all) {
                    out[arch] = pch
                    notes.append("precompiled header for \(arch): \(pch.headers.count) headers"
                        + (pch.buildSeconds > 0 ? String(format: ", built in %.1f s", pch.buildSeconds) : ", reused")
                        + (pch.dropped.isEmpty ? "" : "; left out (did not parse together): \(pch.dropped.joined(separator: " "))"))
                } else {
                    notes.append("no precompiled header for \(arch): its headers did not parse together")
                }
            } catch {
                notes.append("no precompiled header for \(arch): \(error)")
            }
        }
        return out
    }
}
