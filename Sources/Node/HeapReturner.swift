import ChainCore
import CoreMetrics
import Foundation
import Logging
import ServiceLifecycle

#if canImport(Glibc)
    import Glibc
#endif

/// Gives back to the system the memory that the C allocator keeps after large blocks.
///
/// Executing a block holds its write set, its parsed and encoded records and its results at
/// once; a block of a season's rings (500 to a transaction) takes a few hundred MB for a moment.
/// glibc's allocator keeps what is freed for reuse, in the middle of its heaps where its own
/// trimming (the top of the main heap only) never reaches, so a validator stayed at its peak:
/// after the crab benchmark's setup one held 280 MiB of anonymous memory of which ~70 MiB were
/// live, and `malloc_trim(0)` gave back 200 MiB (`docs/performance.md`, nineteenth pass).
///
/// Every `interval` the process's anonymous resident memory is read (`/proc/self/statm`); when
/// it has grown by `growth` or more since the last trim (or since start) and stopped growing
/// (`HeapTrimPolicy`), `malloc_trim(0)` runs on a thread outside the cooperative pool (it walks the
/// allocator's free lists). Steady load reuses what it frees and never grows that much, so it
/// costs a read of a small file per `interval`.
/// Where the C library has no `malloc_trim` (not glibc) nothing is done.
public struct HeapReturner: Service {
    let interval: Duration
    let policy: HeapTrimPolicy
    let logger: Logger
    let trims: Counter
    let returned: Counter

    /// A returner that checks every `interval` and trims after `growth` bytes of growth, counted
    /// in `xiangchain_heap_trims_total` and `xiangchain_heap_returned_bytes_total`.
    public init(
        interval: Duration = .seconds(5), growth: Int = 64 << 20, metrics: any MetricsFactory, logger: Logger
    ) {
        self.interval = interval
        self.policy = HeapTrimPolicy(growth: growth)
        self.logger = logger
        trims = Counter(label: "xiangchain_heap_trims_total", factory: metrics)
        returned = Counter(label: "xiangchain_heap_returned_bytes_total", factory: metrics)
    }

    public func run() async throws {
        guard let trim = HeapTrim.function else {
            // Returning would end the node's service group: wait for its end instead.
            logger.info("no malloc_trim in this C library: freed heap memory is left to the allocator")
            try await gracefulShutdown()
            return
        }
        var policy = self.policy
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            // The reading (a small file) and the trim are kept off the cooperative pool, in one hop.
            let current = policy
            let check = await OffPool.run { () -> (policy: HeapTrimPolicy, resident: Int, after: Int?)? in
                guard let resident = HeapTrim.residentAnonymousBytes() else { return nil }
                var policy = current
                guard policy.shouldTrim(resident: resident) else { return (policy, resident, nil) }
                _ = trim(0)
                let after = HeapTrim.residentAnonymousBytes()
                if let after { policy.trimmed(resident: after) }
                return (policy, resident, after)
            }
            if let check {
                policy = check.policy
                if let after = check.after {
                    trims.increment()
                    returned.increment(by: max(0, check.resident - after))
                    logger.debug(
                        "returned freed heap memory",
                        metadata: ["before": "\(check.resident >> 20) MiB", "after": "\(after >> 20) MiB"])
                }
            }
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                break
            }
        }
    }
}

/// When to trim: the anonymous resident memory has grown by `growth` bytes or more since the last
/// trim (the first reading is the baseline; memory given back otherwise lowers it) and has stopped
/// growing (by less than an eighth of `growth` since the reading before). A trim in the middle of
/// a burst of large blocks gives back little — what is freed then is reused at once — and would
/// set the baseline at the burst's height, so that what the burst leaves freed were never given
/// back; the burst's end is when there is most to give back.
struct HeapTrimPolicy: Sendable {
    /// Growth that warrants a trim, bytes.
    let growth: Int
    /// Resident memory after the last trim, or the least seen since; nil before the first reading.
    private(set) var baseline: Int?
    /// The reading before.
    private var last = 0

    init(growth: Int) { self.growth = growth }

    /// Whether to trim at `resident` bytes.
    mutating func shouldTrim(resident: Int) -> Bool {
        defer { last = resident }
        guard let baseline, resident >= baseline else {
            baseline = resident
            return false
        }
        return resident - baseline >= growth && resident - last < growth / 8
    }

    /// Records the resident memory a trim left.
    mutating func trimmed(resident: Int) {
        baseline = resident
        last = resident
    }
}

/// glibc's `malloc_trim` and the process's anonymous resident memory.
enum HeapTrim {
    /// `malloc_trim` (`int malloc_trim(size_t pad)`), looked up at run time: glibc declares it in
    /// `<malloc.h>`, which Swift's Glibc module does not import; other C libraries lack it.
    static let function: (@convention(c) (Int) -> Int32)? = {
        #if canImport(Glibc)
            guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return nil }
            return unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)
        #else
            return nil
        #endif
    }()

    /// Resident pages not backed by files or shared memory, bytes (`/proc/self/statm`: resident −
    /// shared); nil where there is no such file.
    static func residentAnonymousBytes() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
        let fields = text.split(separator: " ")
        guard fields.count >= 3, let resident = Int(fields[1]), let shared = Int(fields[2]) else { return nil }
        return (resident - shared) * pageSize
    }

    static let pageSize: Int = {
        #if canImport(Glibc)
            return max(1, sysconf(Int32(_SC_PAGESIZE)))
        #else
            return 4096
        #endif
    }()
}
