import Foundation
import KPolicyFiles

/// The run's work list and results, shared by the workers behind one lock.
final class WorkQueue: @unchecked Sendable {
    private var nextIndex = 0
    private var done = 0
    private var slots: [FileResult?]
    /// The order the items are handed out in (indices into the results).
    private let order: [Int]
    private var error: Error?
    private let lock = NSLock()

    /// `first`: indices handed out before the others.
    init(count: Int, first: [Int] = []) {
        slots = Array(repeating: nil, count: count)
        let early = Set(first)
        order = first + (0..<count).filter { !early.contains($0) }
    }

    func next() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard error == nil, nextIndex < order.count else { return nil }
        nextIndex += 1
        return order[nextIndex - 1]
    }

    func finish(_ i: Int, _ result: FileResult) -> Int {
        lock.lock()
        defer { lock.unlock() }
        slots[i] = result
        done += 1
        return done
    }

    func fail(_ e: Error) {
        lock.lock()
        defer { lock.unlock() }
        error = error ?? e
    }

    func results() throws -> [FileResult] {
        lock.lock()
        defer { lock.unlock() }
        if let error { throw error }
        return slots.compactMap { $0 }
    }
}

/// A count shared by workers.
public final class Counter: @unchecked Sendable {
    private var count = 0
    private let lock = NSLock()
    public init() {}
    public func increment() {
        lock.lock()
        count += 1
        lock.unlock()
    }
    public var value: Int {
        lock.lock()
        defer { lock.unlock() }
        return count
    }
}

/// Results of a parallel map, filled by chunks.
final class ParallelSlots<R>: @unchecked Sendable {
    var values: [R?]
    var next = 0
    let lock = NSLock()
    init(_ n: Int) { values = Array(repeating: nil, count: n) }
    func take(_ chunk: Int, of total: Int) -> Range<Int>? {
        lock.lock()
        defer { lock.unlock() }
        guard next < total else { return nil }
        let r = next..<min(total, next + chunk)
        next = r.upperBound
        return r
    }
}

/// `map` over `items` on `jobs` threads, results in order.
enum ParallelMap {
    static func run<T: Sendable, R: Sendable>(_ items: [T], jobs: Int, _ body: @Sendable (T) -> R) -> [R] {
        guard !items.isEmpty else { return [] }
        let slots = ParallelSlots<R>(items.count)
        let workers = max(1, min(jobs, items.count))
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while let range = slots.take(64, of: items.count) {
                var local: [R] = []
                local.reserveCapacity(range.count)
                for i in range { local.append(body(items[i])) }
                slots.lock.lock()
                for (offset, value) in local.enumerated() { slots.values[range.lowerBound + offset] = value }
                slots.lock.unlock()
            }
        }
        return slots.values.map { $0! }
    }
}
