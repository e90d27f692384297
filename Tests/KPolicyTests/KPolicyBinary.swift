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
    static func binaryPath() throws -> String {
        var dir = Bundle(for: CommandLineTests.self).bundleURL.deletingLastPathComponent()
        if !FileManager.default.fileExists(atPath: dir.appendingPathComponent("kpolicy").path) {
            dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent(".build/debug")
        }
        let binary = dir.appendingPathComponent("kpolicy")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw XCTSkip("kpolicy binary not built next to the tests (\(binary.path))")
        }
        return binary.path
    }

    static func run(_ arguments: [String], environment: [String: String] = [:], in directory: URL? = nil) throws -> Run {
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
        return try execute(binary, arguments, environment: environment, in: directory)
    }

    /// Runs any program and collects its output.
    static func execute(_ binary: URL, _ arguments: [String], environment: [String: String] = [:], in directory: URL? = nil) throws -> Run {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        }
        if let directory { process.currentDirectoryURL = directory }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                   stderr: String(decoding: e, as: UTF8.self))
    }

}
