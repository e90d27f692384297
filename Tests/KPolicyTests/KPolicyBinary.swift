import Foundation
import XCTest

/// Runs the built `kpolicy` binary as a user would.
enum KPolicyBinary {
    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// The built binary's path (skips the test when it is not built).
    static func binaryPath() throws -> String { try binary().path }

    static func run(_ arguments: [String], environment: [String: String] = [:], in directory: URL? = nil) throws -> Run {
        try execute(try binary(), arguments, environment: environment, in: directory)
    }

    /// The built executable; the test is skipped when it is missing.
    static func binary() throws -> URL {
        // The test bundle sits in the build directory next to the executable.
        var dir = Bundle(for: CommandLineTests.self).bundleURL.deletingLastPathComponent()
        if !FileManager.default.fileExists(atPath: dir.appendingPathComponent("kpolicy").path) {
            dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent(".build/debug")
        }
        let binary = dir.appendingPathComponent("kpolicy")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw XCTSkip("kpolicy binary not built next to the tests (\(binary.path))")
        }
        return binary
    }

    /// Runs any program and collects its output; `input`, when given, is
    /// its standard input. Both pipes are read while it runs, so neither
    /// can fill and block it.
    static func execute(_ binary: URL, _ arguments: [String], environment: [String: String] = [:], in directory: URL? = nil,
                        input: Data? = nil) throws -> Run {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        }
        if let directory { process.currentDirectoryURL = directory }
        let out = Pipe(), err = Pipe(), stdin = Pipe()
        process.standardOutput = out
        process.standardError = err
        if input != nil { process.standardInput = stdin }
        try process.run()
        final class Box: @unchecked Sendable { var data = Data() }
        let errBox = Box(), done = DispatchSemaphore(value: 0)
        let errHandle = err.fileHandleForReading
        Thread {
            errBox.data = errHandle.readDataToEndOfFile()
            done.signal()
        }.start()
        if let input {
            signal(SIGPIPE, SIG_IGN)   // a program that exits before reading all of it must not kill the tests
            let writer = stdin.fileHandleForWriting
            Thread {
                try? writer.write(contentsOf: input)
                try? writer.close()
            }.start()
        }
        let o = out.fileHandleForReading.readDataToEndOfFile()
        done.wait()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                   stderr: String(decoding: errBox.data, as: UTF8.self))
    }
}
