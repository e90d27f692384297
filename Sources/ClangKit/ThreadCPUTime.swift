import Foundation

/// CPU time of the calling thread, in seconds: a stage's own cost, which
/// other processes on a shared machine do not inflate the way they inflate
/// wall time.
public enum ThreadCPUTime {
    public static func now() -> Double {
        var ts = timespec()
        guard clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0 else { return 0 }
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
