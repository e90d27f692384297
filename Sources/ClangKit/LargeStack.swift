import Foundation

/// Runs work on a thread with a very large stack.
///
/// libclang's parser, its cursor visitor and the walks over its results
/// recurse once per level of the C being read: a 100,000-long `else if`
/// chain or an expression of 100,000 terms needs far more than the 8 MiB a
/// process's main thread (or libclang's own 8 MiB parse thread) has, and a
/// stack overflow kills the process with no message. Parses and walks run
/// here instead; the stack is reserved address space, only the pages a deep
/// file touches are ever committed. `ClangIndex` tells libclang to parse on
/// the calling thread (`LIBCLANG_NOTHREADS`), so the parse gets this stack too.
public enum LargeStack {
    /// 1 GiB of address space per running parse or walk.
    public static let size = 1 << 30

    private final class Job<T, E: Error>: @unchecked Sendable {
        var body: (() throws(E) -> T)?
        var result: Result<T, E>?
        init(_ body: @escaping () throws(E) -> T) { self.body = body }
        /// Runs the body once and lets go of it, so it does not outlive the
        /// caller's `withoutActuallyEscaping`.
        func run() {
            guard let body else { return }
            self.body = nil
            do throws(E) { result = .success(try body()) } catch { result = .failure(error) }
        }
    }

    private static let marker = "kpolicy.LargeStack"

    /// Runs `body` on a large-stack thread and waits for it (directly when
    /// already on one).
    public static func run<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        if Thread.current.threadDictionary[marker] != nil { return try body() }
        let result: Result<T, E> = withoutActuallyEscaping(body) { body in
            let job = Job(body)
            let done = DispatchSemaphore(value: 0)
            let thread = Thread {
                Thread.current.threadDictionary[marker] = true
                job.run()
                done.signal()
            }
            thread.stackSize = size
            thread.start()
            done.wait()
            return job.result!
        }
        return try result.get()
    }
}
