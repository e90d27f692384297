import Foundation
import KPolicyFiles

/// A patch series applied in order to an in-memory overlay of a tree.
///
/// Patch mode must never write into the user's tree, and a series is only
/// meaningful applied in order: patch 3 may edit what patch 1 added. The
/// overlay holds every file a patch touched, read lazily from the tree
/// through `readOriginal` the first time a patch touches it. A hunk that
/// does not apply fails that file only: the failure is recorded, later
/// patches touching that file are skipped for it (their base is unknown),
/// and everything else still applies, so one bad hunk does not hide the
/// rest of the series from the rules.
public struct PatchSeries {
    /// Reads a file of the original tree by its tree-relative path; nil
    /// when there is no such file.
    public typealias ReadOriginal = (String) throws -> [UInt8]?

    /// One file of one patch that could not be applied.
    public struct Failure: Equatable, Sendable, CustomStringConvertible {
        /// 1-based position of the patch in the series.
        public var patch: Int
        public var path: String
        public var error: InputError
        public var description: String { "patch \(patch): \(error)" }
    }

    /// What the series did to one path.
    public enum FileState: Equatable, Sendable {
        case unchanged
        case patched(PatchedFile)
        case deleted
        case failed(Failure)
    }

    enum Entry {
        case present(LineImage, originalPath: String?)
        case absent
        case failed(Failure)
    }

    let readOriginal: ReadOriginal
    var overlay: [String: Entry] = [:]
    /// Failures in the order they happened.
    public private(set) var failures: [Failure] = []
    /// How many patches were applied (successfully or not).
    public private(set) var patchCount = 0

    public init(readOriginal: @escaping ReadOriginal) {
        self.readOriginal = readOriginal
    }

    /// Reads originals from `tree` (read only; the series never writes).
    public init(tree: URL) {
        self.init { path in
            let url = tree.appendingPathComponent(path)
            guard FileManager.default.fileExists(atPath: url.path) else { return nil }
            do { return Array(try Data(contentsOf: url)) } catch {
                throw InputError.cannotApply(path: path, reason: "cannot read it from the tree: \(error.localizedDescription)")
            }
        }
    }

    /// Applies the next patch of the series; returns its failures (also
    /// added to `failures`).
    @discardableResult
    public mutating func apply(_ diff: UnifiedDiff) -> [Failure] {
        patchCount += 1
        var new: [Failure] = []
        for file in diff.files {
            let touched = [file.oldPath, file.newPath].compactMap { $0 }
            if let earlier = touched.compactMap({ failure(at: $0) }).first {
                let failure = Failure(patch: patchCount, path: file.path, error: .cannotApply(
                    path: file.path, reason: "skipped: patch \(earlier.patch) failed on \(earlier.path)"))
                new.append(failure)
                continue
            }
            do {
                let oldImage: LineImage?
                var originalPath = file.oldPath
                if let oldPath = file.oldPath, file.status != .added {
                    (oldImage, originalPath) = try image(at: oldPath)
                } else if let newPath = file.newPath {
                    oldImage = try image(at: newPath).0
                } else {
                    oldImage = nil
                }
                let result = try PatchApplier.apply(file, to: oldImage)
                if file.status == .renamed, let oldPath = file.oldPath { overlay[oldPath] = .absent }
                if let newPath = file.newPath ?? file.oldPath {
                    overlay[newPath] = result.map { .present($0, originalPath: originalPath) } ?? .absent
                }
            } catch {
                let inputError = error as? InputError
                    ?? .cannotApply(path: file.path, reason: String(describing: error))
                let failure = Failure(patch: patchCount, path: file.path, error: inputError)
                for path in touched { overlay[path] = .failed(failure) }
                new.append(failure)
            }
        }
        failures.append(contentsOf: new)
        return new
    }

    /// The contents of `path` after the patches so far: the overlay's, else
    /// the tree's; nil when the file does not exist (or was deleted).
    /// Throws the recorded failure when a patch failed on it.
    public func contents(of path: String) throws -> [UInt8]? {
        switch overlay[path] {
        case .present(let image, _): return image.bytes
        case .absent: return nil
        case .failed(let f): throw f.error
        case nil: return try readOriginal(path)
        }
    }

    /// What the series did to `path`, with changed lines relative to the
    /// tree for a patched file.
    public func state(of path: String) -> FileState {
        switch overlay[path] {
        case .present(let image, let original): return .patched(image.patchedFile(originalPath: original))
        case .absent: return .deleted
        case .failed(let f): return .failed(f)
        case nil: return .unchanged
        }
    }

    /// Every path a patch touched, sorted.
    public var touchedPaths: [String] { overlay.keys.sorted() }

    func failure(at path: String) -> Failure? {
        if case .failed(let f) = overlay[path] { return f }
        return nil
    }

    /// The current image of `path` and the tree path its lines come from.
    mutating func image(at path: String) throws -> (LineImage?, String?) {
        switch overlay[path] {
        case .present(let image, let original): return (image, original)
        case .absent: return (nil, nil)
        case .failed(let f): throw f.error
        case nil:
            let image = try readOriginal(path).map { LineImage(bytes: $0) }
            overlay[path] = image.map { .present($0, originalPath: path) } ?? .absent
            return (image, path)
        }
    }
}
