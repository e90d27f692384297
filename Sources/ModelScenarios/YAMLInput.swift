import Foundation
import Yams

/// The one way kpolicy reads YAML it did not write (scenario files and rule
/// files). Hostile or broken text ends in a `YAMLInput.Problem`, never in a
/// crash or an unbounded amount of work:
///
/// * nesting deeper than `maxDepth` is refused before the text reaches Yams,
///   whose parser and composer recurse once per level;
/// * a document whose aliases expand to more than `maxNodes` nodes (a
///   "billion laughs") is refused: Yams composes aliases as shared values, so
///   composing is cheap, and the bound is checked before anything walks the
///   expanded tree;
/// * a mapping with the same key twice is refused (YAML says keys are unique;
///   Yams keeps both and readers would silently take one).
public enum YAMLInput {
    /// Far deeper than any scenario or rule file needs (they use fewer than 10
    /// levels), far shallower than what overflows a thread's stack in Yams.
    public static let maxDepth = 128
    /// Nodes after alias expansion, beyond one per byte of text (which no
    /// alias-free document reaches); the rule files have a few hundred.
    public static let extraNodes = 100_000

    public struct Problem: Error, Equatable, Sendable {
        /// 1-based; 0 when the problem has no place.
        public var line: Int
        public var column: Int
        /// The mapping key concerned, if any.
        public var field: String = ""
        public var message: String
    }

    /// The document's root node (nil for an empty document).
    public static func compose(_ text: String) throws(Problem) -> Node? {
        try checkNesting(text)
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let YamlError.scanner(_, problem, mark, _) {
            throw Problem(line: mark.line, column: mark.column, message: "YAML syntax: \(problem)")
        } catch let YamlError.parser(_, problem, mark, _) {
            throw Problem(line: mark.line, column: mark.column, message: "YAML syntax: \(problem)")
        } catch let YamlError.composer(_, problem, mark, _) {
            throw Problem(line: mark.line, column: mark.column, message: "YAML: \(problem)")
        } catch {
            let oneLine = "\(error)".split(whereSeparator: \.isNewline).first.map(String.init) ?? "\(error)"
            throw Problem(line: 0, column: 0, message: "YAML: \(oneLine)")
        }
        if let root { try checkTree(root, maxNodes: text.utf8.count + extraNodes) }
        return root
    }

    /// Walks the composed tree with an explicit stack, counting every node as
    /// often as aliases repeat it, and rejects duplicate mapping keys.
    static func checkTree(_ root: Node, maxNodes: Int) throws(Problem) {
        var stack: [Node] = [root]
        var count = 0
        while let node = stack.popLast() {
            count += 1
            if count > maxNodes {
                throw Problem(line: node.mark?.line ?? 0, column: node.mark?.column ?? 0,
                              message: "aliases expand the document to more than \(maxNodes) YAML nodes")
            }
            switch node {
            case .scalar: break
            case .sequence(let s): stack.append(contentsOf: s)
            case .mapping(let m):
                var seen: Set<String> = []
                for (k, v) in m {
                    // Yams itself traps on a key that is a sequence or a mapping.
                    guard k.scalar != nil else {
                        throw Problem(line: k.mark?.line ?? 0, column: k.mark?.column ?? 0,
                                      message: "a mapping key must be a plain value, not a sequence or a mapping")
                    }
                    if let key = k.scalar?.string, !seen.insert(key).inserted {
                        throw Problem(line: k.mark?.line ?? 0, column: k.mark?.column ?? 0, field: key, message: "given twice in one mapping")
                    }
                    stack.append(k)
                    stack.append(v)
                }
            }
        }
    }

    /// A cheap over-estimate of the nesting depth, line by line: the
    /// indentation (spaces and `- `/`? `/`: ` indicators in front of the
    /// content) plus the open `[`/`{` of flow collections. Quoted strings,
    /// comments and block scalars (`|`, `>`) are skipped.
    static func checkNesting(_ text: String) throws(Problem) {
        var flow = 0
        var blockScalarIndent: Int?  // lines indented more than this are block-scalar content
        var lineNumber = 0
        for rawLine in text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = Array(rawLine)
            var i = 0
            while i < line.count, line[i] == UInt8(ascii: " ") { i += 1 }
            let indent = i
            let blank = i == line.count || line[i] == UInt8(ascii: "#") || line[i] == UInt8(ascii: "\r")
            if let parent = blockScalarIndent {
                if blank || indent > parent { continue }
                blockScalarIndent = nil
            }
            if blank { continue }
            // Indicators that open a nested block collection on the same line.
            while i + 1 < line.count, [UInt8(ascii: "-"), UInt8(ascii: "?"), UInt8(ascii: ":")].contains(line[i]),
                  line[i + 1] == UInt8(ascii: " ") {
                i += 2
                while i < line.count, line[i] == UInt8(ascii: " ") { i += 1 }
            }
            let contentStart = i
            if i + flow > maxDepth {
                throw Problem(line: lineNumber, column: i + 1, message: "nested more than \(maxDepth) levels deep")
            }
            var quote: UInt8?
            var last: UInt8 = 0
            while i < line.count {
                let c = line[i]
                if let q = quote {
                    if c == q {
                        if q == UInt8(ascii: "'"), i + 1 < line.count, line[i + 1] == q { i += 1 } else { quote = nil }
                    } else if c == UInt8(ascii: "\\"), q == UInt8(ascii: "\"") {
                        i += 1
                    }
                } else {
                    switch c {
                    case UInt8(ascii: "\""), UInt8(ascii: "'"):
                        if last == 0 || last == UInt8(ascii: " ") || last == UInt8(ascii: "[") || last == UInt8(ascii: "{")
                            || last == UInt8(ascii: ",") || last == UInt8(ascii: ":") { quote = c }
                    case UInt8(ascii: "#") where last == 0 || last == UInt8(ascii: " "):
                        i = line.count
                        continue
                    case UInt8(ascii: "["), UInt8(ascii: "{"):
                        flow += 1
                        if contentStart + flow > maxDepth {
                            throw Problem(line: lineNumber, column: i + 1, message: "nested more than \(maxDepth) levels deep")
                        }
                    case UInt8(ascii: "]"), UInt8(ascii: "}"):
                        flow = max(0, flow - 1)
                    default: break
                    }
                }
                if c != UInt8(ascii: "\r") { last = c }
                i += 1
            }
            // `key: |`, `- >-`, `key: |2` start a block scalar.
            if quote == nil, flow == 0 {
                let trimmed = line.reversed().drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") }
                let tail = Array(trimmed.prefix { $0 != UInt8(ascii: " ") }.reversed())
                if let first = tail.first, first == UInt8(ascii: "|") || first == UInt8(ascii: ">"),
                   tail.dropFirst().allSatisfy({ $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "+") || (0x30...0x39).contains($0) }) {
                    blockScalarIndent = contentStart
                }
            }
        }
    }
}
