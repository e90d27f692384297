import ArgumentParser
import Foundation
import KPolicy
import KPolicyFiles
import Kbuild
import Parse

extension KPolicyCommand {
    /// `kpolicy parse`: shows how kpolicy sees files, to diagnose parsing.
    struct Parse: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Parse files with the workspace configuration and report what libclang saw.",
            discussion: "Per file: seconds, errors in the file and in headers, function definitions, calls.")

        @Argument(help: "Source files, absolute or relative to the current directory.")
        var files: [String]

        @OptionGroup var tree: TreeOptions

        @Option(help: "Output format: text or json.")
        var format: OutputFormat = .text

        @Option(help: "Write the report to this file instead of stdout.")
        var output: String?

        @Option(help: ArgumentHelp("Give up on the run when one file's parse passes this many seconds: the file is named and the exit code is 3.",
                                   discussion: "libclang cannot be interrupted inside a parse, so the whole process ends (bench/parse-sweep re-runs the other files)."))
        var timeLimit: Double?

        func validate() throws {
            if let timeLimit, !(timeLimit > 0 && timeLimit <= ParseTimeLimit.largest) {
                throw ValidationError("--time-limit must be a number of seconds above 0 and at most \(Int(ParseTimeLimit.largest)), got \(timeLimit)")
            }
        }

        func run() throws {
            let workspace = try tree.workspace()
            let parser: SourceParser
            do { parser = try SourceParser(workspace: workspace) } catch {
                throw Exit.fail("\(error)", Exit.parseFailure)
            }
            var summaries: [ParseSummary] = []
            var failed = false
            for path in files {
                let url = URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)).standardizedFileURL
                let watchdog = timeLimit.map { ParseTimeLimit(seconds: $0, file: path) }
                defer { watchdog?.cancel() }
                do {
                    summaries.append(ParseSummary(try parser.parse(url)))
                } catch let error as KPolicyError {
                    if error.isParseFailure {
                        failed = true
                        Exit.printError("\(error)")
                    } else {
                        throw Exit.fail("\(error)", Exit.badInput)
                    }
                }
            }
            switch format {
            case .json:
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                let data = try encoder.encode(["files": summaries])
                try emit(String(decoding: data, as: UTF8.self) + "\n", to: output)
            case .text:
                try emit(summaries.map(Parse.text).joined(), to: output)
            }
            if failed { throw Exit.parseFailure }
        }

        static func text(_ s: ParseSummary) -> String {
            var out = "\(s.file): \(String(format: "%.2f", s.seconds)) s, arch \(s.arch), \(s.configuration) flags\n"
            out += "  errors: \(s.mainFileErrors.count) in the file, \(s.headerErrors.count) in headers\n"
            for e in s.mainFileErrors { out += "    \(s.file):\(e)\n" }
            for e in s.headerErrors.prefix(10) { out += "    \(e)\n" }
            if s.headerErrors.count > 10 { out += "    ... \(s.headerErrors.count - 10) more header errors\n" }
            if !s.prelude.isEmpty { out += "  parsed after the beginning of: \(s.prelude.joined(separator: ", "))\n" }
            if !s.stubbedHeaders.isEmpty { out += "  generated headers stubbed: \(s.stubbedHeaders.joined(separator: ", "))\n" }
            out += "  functions (\(s.functions.count)): \(s.functions.joined(separator: " "))\n"
            out += "  calls (\(s.calls.count))\n"
            return out
        }
    }
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

/// Options every tree-reading subcommand shares.
struct TreeOptions: ParsableArguments {
    @Option(help: "The kernel source tree (default: the current directory).")
    var tree: String = "."

    @Option(help: "Architecture whose headers files outside arch/ are parsed with (default x86).")
    var arch: String?

    func workspace(cacheRoot: URL? = nil) throws -> Workspace {
        do {
            let kernel = try KernelTree(path: tree)
            return try Workspace(tree: kernel, defaultArch: arch, cacheRoot: cacheRoot ?? Workspace.defaultCacheRoot)
        } catch let error as KPolicyError {
            throw Exit.fail("\(error)", Exit.badInput)
        }
    }
}

/// A per-file time limit for `kpolicy parse --time-limit`: when the file
/// is still being parsed after `seconds`, one line names it and the
/// process ends with code 3 (a parse inside libclang cannot be stopped any
/// other way; `check` has no such limit, docs/robustness.md).
final class ParseTimeLimit {
    /// The longest limit accepted: a week, far below where the deadline's
    /// nanoseconds would overflow.
    static let largest: Double = 7 * 24 * 3600
    private let timer: DispatchSourceTimer

    init(seconds: Double, file: String) {
        timer = DispatchSource.makeTimerSource(queue: DispatchQueue.global())
        timer.schedule(deadline: .now() + seconds)
        timer.setEventHandler {
            Exit.printError("\(file): no result after \(String(format: "%g", seconds)) s (--time-limit); stopped")
            _exit(Exit.parseFailure.rawValue)
        }
        timer.resume()
    }

    func cancel() { timer.cancel() }
}
