import KernelModel
/// Renders a rule as the Markdown page docs/rules/<id>.md.
public enum RuleDoc {
    public static func markdown(_ rule: Rule) -> String {
        var out = "<!-- Generated from Rules/\(rule.category)/\(rule.id).yaml by `scripts/generate-rules --docs`. Do not edit. -->\n\n"
        out += "# \(rule.id)\n\n**\(rule.title)**\n\n"
        out += "| severity | confidence | category | kernels | matcher |\n| --- | --- | --- | --- | --- |\n"
        let kernels: String
        switch (rule.kernel.since, rule.kernel.until) {
        case (nil, nil): kernels = "all"
        case (let s?, nil): kernels = "\(s.series) and later"
        case (nil, let u?): kernels = "before \(u.series)"
        case (let s?, let u?): kernels = "\(s.series) to before \(u.series)"
        }
        out += "| \(rule.severity.rawValue) | \(rule.confidence.rawValue) | \(rule.category) | \(kernels) | \(rule.match.kind) |\n\n"
        out += rule.summary.trimmed + "\n\n## Why\n\n" + rule.rationale.trimmed + "\n\nThreads:\n\n"
        for t in rule.threads { out += "- \(t)\n" }
        out += "\n## What it matches\n\n" + matcherText(rule.match) + "\n\n"
        out += "Scope: \(rule.scope.include.map { "`\($0)`" }.joined(separator: ", "))"
        if !rule.scope.exclude.isEmpty { out += "; not \(rule.scope.exclude.map { "`\($0)`" }.joined(separator: ", "))" }
        if rule.triggers.isEmpty { out += ".\n\n" }
        else { out += ". Files are parsed only when they mention one of: \(rule.triggers.map { "`\($0)`" }.joined(separator: ", ")).\n\n" }
        out += "Message: `\(rule.message)`\n\n"
        if let s = rule.suggestion {
            out += "## What to do instead\n\n"
            for (k, v) in s.replacements.sorted(by: { $0.key < $1.key }) {
                out += "- \(k == "*" ? "" : "`\(k)` → ")`\(v)`\n"
            }
            out += "\n" + s.explanation.trimmed + "\n\n"
            if let b = s.before {
                out += "On trees without `\(b.lacks)()` (Linux \(b.since.series) brought it): " + (b.replacement.map { "`\($0)`. " } ?? "") + b.explanation.trimmed + "\n\n"
            }
            if !s.execmemTypes.isEmpty {
                out += "The execmem type is inferred from the calling code, first match wins:\n\n| type | paths | function names containing | because |\n| --- | --- | --- | --- |\n"
                for t in s.execmemTypes {
                    out += "| `\(t.type)` | \(t.paths.map { "`\($0)`" }.joined(separator: " ")) | \(t.functions.map { "`\($0)`" }.joined(separator: " ")) | \(t.because) |\n"
                }
                out += "\n"
            }
            if s.validate, let rewrite = s.rewrite {
                out += "Each suggestion is proven on the function's own paths: the change (`\(rewrite)`) is applied to the function's events at the finding, and every path of the changed function is re-run in the reference model on every arch the finding names; it is reported as validated only when no path rule finds anything at the changed step, nor anything the unchanged function does not already have. Otherwise the validation names the invariant, the line, the arch and the path. Validated changes are what `--format patch` writes.\n\n"
            } else {
            out += s.validate
                ? "Each suggestion is re-run in the reference allocator model (docs/model.md): the original and the replacement sequence on the file's arch; it is reported as validated only when the replacement breaks no error-severity invariant.\n\n"
                : "Suggestions of this rule are advice and are not run through the model (`validated: false`).\n\n"
            }
        }
        out += "## Examples\n\n"
        for e in rule.examples {
            let language = rule.match.kind == "recipients" ? "diff" : "c"
            out += "### \(e.name)\n\n`\(e.path)`, Linux \(e.kernel). Reported:\n\n```\(language)\n\(e.bad.trimmed)\n```\n\nNot reported:\n\n```\(language)\n\(e.good.trimmed)\n```\n\n"
        }
        return out
    }

    static func matcherText(_ m: Matcher) -> String {
        func list(_ xs: [String]) -> String { xs.map { "`\($0)`" }.joined(separator: ", ") }
        switch m {
        case .call(let c):
            var s = "Calls to \(list(c.functions))"
            if c.references { s += ", and references to their address" }
            s += ", by the name written or the function the compiler resolved"
            if !c.allowedIn.isEmpty { s += ", except in \(list(c.allowedIn.map(\.pattern)))" }
            if let u = c.allowedUntil { s += "; from Linux \(u.series) on, the exception no longer holds" }
            return s + "."
        case .symbolUse(let u):
            return "Uses of the macros \(list(u.macros)) (also through a macro the file defines) and calls to \(list(u.functions)), outside \(list(u.allowedIn.map(\.pattern)))."
        case .mapping(let m):
            let calls = m.calls.map { c in c.prot.map { "`\(c.function)` (argument \($0 + 1))" } ?? "`\(c.function)` (always)" }
            let except = m.allowedIn.isEmpty ? "" : " Not in \(list(m.allowedIn.map(\.pattern)))."
            return "The pgprot argument of \(calls.joined(separator: ", ")), resolved through local variables, conditionals and macros, is one of \(list(m.pgprots)).\(except)"
        case .internalExposure(let i):
            return "Functions `\(i.definedIn)` keeps static or declares only in `\(i.internalHeader)` (read from the tree), plus \(list(i.alsoInternal)): exported with EXPORT_SYMBOL*, declared in \(list(i.publicHeaders.map(\.pattern))), defined without `static` in `\(i.definedIn)`, or called from outside \(list(i.allowedIn.map(\.pattern)))."
        case .recipients(let r):
            let who = [r.maintainers ? "the maintainers (`M:`)" : nil, r.lists ? "the mailing lists (`L:`)" : nil].compactMap { $0 }.joined(separator: " and ")
            return "Patch mails (`kpolicy patch`) touching files in scope whose `To:`/`Cc:` headers and `Cc:` trailers miss \(who) that the tree's MAINTAINERS gives for those files, read as get_maintainer.pl reads it. A plain diff has no recipients: that is said once, not guessed."
        case .path(let p):
            let at = p.at.isEmpty ? "any step" : "a \(p.at.map { "`\($0)`" }.joined(separator: " or ")) step"
            let target = p.target == "read-only" ? ", on a page that was present and read-only just before it"
                : p.target == "perms-changed" ? ", on memory whose permissions set_memory_*() changed before it" : ""
            return "Every path of each function that allocates, protects, patches or frees executable memory is run through the reference model (`kpolicy model`) on every arch the tree has a model profile for (only the file's own arch under `arch/`), allocation failure included; a finding is a path on which the model reports \(list(p.invariants)) (severity \(p.severities.joined(separator: " or "))) at \(at)\(target)\(p.memory == "allocated" ? ", on memory the function allocated on that path" : p.memory == "evident" ? ", on memory the function allocated, or received and itself shows writable (a write or set_memory_rw() before the step, or a set_memory_ro() of it anywhere in the function)" : ""). Paths that reach the same place in the same state are explored once; loops are unrolled \(IRBuilder.loopUnrolling) times (`do { ... } while (0)` runs once); at most \(PathChecker.maxStates) states per function and arch. A function whose IR takes more than \(IRBuilder.defaultMaxWork) statements and expressions to build (unrolled copies counted) is not checked at all; the report lists it (`uncheckedFunctions`). Memory the function did not allocate starts as RW data (a file-scope pointer made writable again also as read-only and executable). A `set_memory_*()` whose result the function tests forks into success and failure (permissions unchanged on failure). A call to a helper defined in the same file runs the helper's own paths from the caller's state (\(PathChecker.maxHelperDepth) levels of helpers deep, recursion not followed); a violation on memory the caller handed it is reported at the call. A known `__weak` wrapper with `arch/` overrides (\(list(KernelWrapper.names.sorted()))) does what the arch's version does, so a finding names the arches it holds on."
        case .exportOfAllocator(let e):
            return "EXPORT_SYMBOL* of a function of the same file that returns the result of \(list(e.allocators)), or of a mapping call given one of \(list(e.pgprots)), directly, through a local variable, or through another such function."
        }
    }
}

extension String {
    var trimmed: String {
        var s = self[...]
        while s.last?.isWhitespace == true { s = s.dropLast() }
        while s.first?.isNewline == true { s = s.dropFirst() }
        return String(s)
    }
}
