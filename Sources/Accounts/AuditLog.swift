import ChainCore
import GRDB

/// One entry of the audit log.
public struct AuditEntry: Sendable, Equatable {
    /// Sequence number, increasing.
    public var seq: Int64
    /// When, unix ms.
    public var time: Int64
    /// The account's org.
    public var org: String
    /// The account (or the name tried, for a failed sign-in).
    public var username: String
    /// What was done, e.g. `signin`, `tx.crab.issue_coupons`.
    public var action: String
    /// Details (at most 1,000 characters).
    public var detail: String
    /// `ok` or an error code.
    public var result: String
    /// The client address as the node saw it.
    public var remote: String
}

/// The audit log of console actions, kept at least 183 days.
public final class AuditLog: Sendable {
    /// Entries younger than this are never pruned (183 days).
    public static let retentionMillis: Int64 = 183 * 86_400_000

    let pool: DatabasePool
    let clock: @Sendable () -> Int64

    init(pool: DatabasePool, clock: @escaping @Sendable () -> Int64) {
        self.pool = pool
        self.clock = clock
    }

    /// Appends one entry.
    public func append(org: String, username: String, action: String, detail: String, result: String, remote: String) throws {
        let now = clock()
        try pool.write { db in
            try db.execute(
                sql: "INSERT INTO audit (time, org, username, action, detail, result, remote) VALUES (?, ?, ?, ?, ?, ?, ?)",
                arguments: [now, org, username, action, String(detail.prefix(1000)), result, String(remote.prefix(200))])
        }
    }

    /// Entries after `after` (seq), oldest first; only `org`'s when given.
    public func entries(org: String?, after: Int64, limit: Int) throws -> [AuditEntry] {
        try pool.read { db in
            let rows =
                if let org {
                    try Row.fetchAll(
                        db, sql: "SELECT * FROM audit WHERE org = ? AND seq > ? ORDER BY seq LIMIT ?",
                        arguments: [org, after, limit])
                } else {
                    try Row.fetchAll(
                        db, sql: "SELECT * FROM audit WHERE seq > ? ORDER BY seq LIMIT ?", arguments: [after, limit])
                }
            return rows.map { r in
                AuditEntry(
                    seq: r["seq"], time: r["time"], org: r["org"], username: r["username"], action: r["action"],
                    detail: r["detail"], result: r["result"], remote: r["remote"])
            }
        }
    }

    /// Removes entries older than `retention` (never less than 183 days); returns how many.
    @discardableResult
    public func prune(retention: Int64 = AuditLog.retentionMillis) throws -> Int {
        let cutoff = clock() - max(retention, Self.retentionMillis)
        return try pool.write { db in
            try db.execute(sql: "DELETE FROM audit WHERE time < ?", arguments: [cutoff])
            return db.changesCount
        }
    }
}
