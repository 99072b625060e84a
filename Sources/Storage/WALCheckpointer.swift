import Dispatch
import GRDB
import Synchronization

/// Copies the write-ahead log back into the database file on a thread of its own, so that the
/// thread committing blocks does not.
///
/// SQLite's automatic checkpoint runs inside the commit that takes the log past 1,000 pages, on
/// the committing connection: two `fdatasync`s (log, then database) and the page copies, 5-10 ms
/// on this machine's disk. While readers keep the log from being restarted, every later commit
/// runs one again. On a validator that thread is the consensus loop, so the copy was added to
/// the round time of the blocks that paid for it. Here the writer's automatic checkpoint is moved
/// far out (`safetyPages`, a bound should this checkpointer fall behind) and a passive
/// checkpoint on a separate connection follows writes, at most one per `interval`. It learns of
/// writes from the writer connection itself (`observe(_:)`, a commit observer set up when the
/// connection opens), so no write path has to remember to tell it. A passive
/// checkpoint takes no lock a writer or reader waits for; a commit is as durable as before
/// (with `synchronous = FULL` the log is synced at each commit, which is what makes it durable).
final class WALCheckpointer: Sendable {
    /// The writer's automatic checkpoint threshold (pages) with this checkpointer running: the
    /// log's bound if it stalls. 16,384 pages of 4 KiB: 64 MiB.
    static var safetyPages: Int { 16_384 }
    /// Least time between two checkpoints. Each copies the log's pages back once, however often
    /// they were written since the last one (the index pages of random ids are written by every
    /// block), and syncs the database file once: at the throughput peak a second between
    /// checkpoints took 4 % of the nodes' CPU per transaction off the 200 ms it was
    /// (`docs/performance.md`, eighteenth pass), and holds the log near 10–20 MiB.
    static var interval: DispatchTimeInterval { .seconds(1) }

    private let path: String
    /// Its own connection, opened at the first checkpoint: by then the pool has made the file a
    /// WAL database. (Opened before that, on a new path, the connection never noticed: its
    /// checkpoints returned at once without copying anything.)
    private let connection = Mutex<DatabaseQueue?>(nil)
    private let queue = DispatchQueue(label: "xiangchain.wal-checkpoint")
    private let state = Mutex<(scheduled: Bool, closed: Bool, runs: Int, copied: Int)>((false, false, 0, 0))

    /// A checkpointer of the WAL database at `path` (on a connection of its own).
    init(path: String) { self.path = path }

    /// Checkpoints run so far (for tests).
    var runs: Int { state.withLock { $0.runs } }
    /// Log frames those checkpoints copied into the database (for tests).
    var framesCopied: Int { state.withLock { $0.copied } }

    /// Follows the commits of the writable connection `db` (called from the pool's
    /// `prepareDatabase`, so every connection the pool opens is covered; read-only ones commit
    /// nothing and are left alone). The connection keeps the observer for its lifetime.
    func observe(_ db: Database) {
        guard !db.configuration.readonly else { return }
        db.add(transactionObserver: CommitObserver(checkpointer: self), extent: .databaseLifetime)
    }

    /// Called after a write transaction commits: schedules a checkpoint within `interval` unless
    /// one is scheduled.
    func wrote() {
        let schedule = state.withLock { s -> Bool in
            guard !s.scheduled, !s.closed else { return false }
            s.scheduled = true
            return true
        }
        guard schedule else { return }
        queue.asyncAfter(deadline: .now() + Self.interval) { [self] in
            let run = state.withLock { s -> Bool in
                s.scheduled = false
                return !s.closed
            }
            guard run else { return }
            checkpointNow()
        }
    }

    /// A passive checkpoint now, on the caller's thread (blocking; a failure is left for the next
    /// one: the log only grows meanwhile, up to the writer's own threshold).
    func checkpointNow() {
        let result = try? open().writeWithoutTransaction { db in try db.checkpoint(.passive) }
        state.withLock {
            $0.runs += 1
            $0.copied += max(0, result?.checkpointedFrameCount ?? 0)
        }
    }

    /// The connection, opened if it is not yet.
    private func open() throws -> DatabaseQueue {
        try connection.withLock { c in
            if let c { return c }
            let opened = try DatabaseQueue(path: path, configuration: BlockStore.patientConfiguration)
            c = opened
            return opened
        }
    }

    /// Stops scheduling, waits for a checkpoint under way and closes the connection.
    func close() throws {
        state.withLock { $0.closed = true }
        queue.sync {}
        let opened = connection.withLock { c in
            defer { c = nil }
            return c
        }
        try opened?.close()
    }
}

/// Tells the checkpointer of each commit of the connection it observes. It observes no row
/// change (so SQLite's update hook is not installed): only the commit notification.
private final class CommitObserver: TransactionObserver {
    let checkpointer: WALCheckpointer

    init(checkpointer: WALCheckpointer) { self.checkpointer = checkpointer }

    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool { false }
    func databaseDidChange(with event: DatabaseEvent) {}
    func databaseDidCommit(_ db: Database) { checkpointer.wrote() }
    func databaseDidRollback(_ db: Database) {}
}
