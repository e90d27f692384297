import KernelModel
import KPolicyFiles
import PatchInput
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
        out += "\n## What it matches\n\n" + rule.match.matchDescription + "\n\n"
        out += "Scope: \(rule.scope.include.map { "`\($0)`" }.joined(separator: ", "))"
        if !rule.scope.exclude.isEmpty { out += "; not \(rule.scope.exclude.map { "`\($0)`" }.joined(separator: ", "))" }
        if rule.triggers.isEmpty { out += ".\n\n" }
        else {
            out += ". Files are parsed only when they mention one of: \(rule.triggers.map { "`\($0)`" }.joined(separator: ", "))"
            out += rule.match.derivedTriggers == nil ? ".\n\n"
                : " (derived from the match: the calls the model says can lead to such a violation, among those the path checker follows), or a function of the tree the path checker runs through.\n\n"
        }
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
}

extension String {
    var trimmed: String {
        var s = self[...]
        while s.last?.isWhitespace == true { s = s.dropLast() }
        while s.first?.isNewline == true { s = s.dropFirst() }
        return String(s)
    }
}
