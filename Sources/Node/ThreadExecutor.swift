import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A task executor that owns one thread: the node's boundary for work that blocks.
///
/// The consensus loop executes committed blocks and writes them to SQLite with
/// `synchronous=FULL`, so each commit waits for an fsync. On Swift's cooperative pool (as many
/// threads as cores: two here) every such wait took a thread from the HTTP handlers and gossip for
/// its whole length. The loop now runs with this executor as its task-executor preference (its
/// timers too), on a thread of its own, and the cooperative pool keeps only work that does not wait
/// on the disk for long. `shutdown()` ends the thread once the jobs enqueued before it have run;
/// a job enqueued after that (a task still preferring this executor, woken late) runs on a serial
/// dispatch queue instead of being lost, so nothing that awaits it waits for ever.
final class ThreadExecutor: TaskExecutor, @unchecked Sendable {
    // Guarded by `condition`.
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var stopping = false
    private var ended = false
    /// Runs the jobs enqueued after the thread ended, one at a time.
    private let late: DispatchQueue

    /// Starts the thread, named `name` (as `top -H` and debuggers show it), at nice value `nice`
    /// when the process may set it (`niceValue()` tells, on the thread).
    init(name: String, nice: Int32 = 0) {
        late = DispatchQueue(label: "xiangchain.\(name).after-shutdown")
        let thread = Thread { [self] in
            // Foundation's `name` does not reach the kernel's thread name on Linux (the thread
            // kept its creator's, a dispatch worker's): set it here, at most 15 bytes.
            Self.setKernelName(name)
            if nice != 0 { Self.setNice(nice) }
            self.runLoop()
        }
        thread.name = name
        thread.start()
    }

    /// Names the calling thread as `top -H`, `ps -L` and `perf` show it (the first 15 bytes).
    static func setKernelName(_ name: String) {
        let bytes = Array(name.utf8.prefix(15))
        let fd = open("/proc/thread-self/comm", O_WRONLY)
        guard fd >= 0 else { return }
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    /// The calling thread's name as the kernel knows it.
    static func kernelName() -> String {
        let data = FileManager.default.contents(atPath: "/proc/thread-self/comm") ?? Data()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .newlines)
    }

    /// Sets the calling thread's nice value; false when the process may not (`EPERM`/`EACCES`:
    /// below the process's own value without `CAP_SYS_NICE` or a nice limit).
    @discardableResult
    static func setNice(_ nice: Int32) -> Bool {
        // On Linux the nice value is a thread's own, and `who` 0 names the calling thread.
        setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, nice) == 0
    }

    /// The calling thread's nice value.
    static func niceValue() -> Int32 {
        errno = 0
        return getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        if ended {
            condition.unlock()
            late.async { [self] in job.runSynchronously(on: asUnownedTaskExecutor()) }
            return
        }
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Lets the thread end after the jobs already enqueued.
    func shutdown() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    private func runLoop() {
        var batch: [UnownedJob] = []
        while true {
            condition.lock()
            while jobs.isEmpty && !stopping { condition.wait() }
            if jobs.isEmpty {
                ended = true
                condition.unlock()
                return
            }
            swap(&batch, &jobs)
            condition.unlock()
            for job in batch { job.runSynchronously(on: asUnownedTaskExecutor()) }
            batch.removeAll(keepingCapacity: true)
        }
    }
}
