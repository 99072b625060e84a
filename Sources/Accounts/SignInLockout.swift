import GRDB

/// Counts failed sign-ins per account and locks the account for a while after too many. The
/// check and the count are made in one write transaction, so parallel attempts cannot slip
/// between them.
struct SignInLockout: Sendable {
    /// Consecutive failed sign-ins that lock an account.
    static let maxFailures = 5
    /// How long a lock lasts.
    static let lockMillis: Int64 = 15 * 60_000

    /// Seconds the account stays locked, or nil when it is not locked now.
    static func lockedFor(_ db: Database, org: String, username: String, now: Int64) throws -> Int64? {
        let until =
            try Int64.fetchOne(
                db, sql: "SELECT locked_until FROM accounts WHERE org = ? AND username = ?", arguments: [org, username]) ?? 0
        return until > now ? (until - now + 999) / 1000 : nil
    }

    /// Records a failure; returns the lock's length in seconds when this failure locked the account.
    static func recordFailure(_ db: Database, org: String, username: String, now: Int64) throws -> Int64? {
        try db.execute(sql: "UPDATE accounts SET failed = failed + 1 WHERE org = ? AND username = ?", arguments: [org, username])
        let failed =
            try Int.fetchOne(db, sql: "SELECT failed FROM accounts WHERE org = ? AND username = ?", arguments: [org, username])
            ?? 0
        guard failed >= maxFailures else { return nil }
        try db.execute(
            sql: "UPDATE accounts SET failed = 0, locked_until = ? WHERE org = ? AND username = ?",
            arguments: [now + lockMillis, org, username])
        return lockMillis / 1000
    }

    /// Clears the count after a successful sign-in (or a reset).
    static func clear(_ db: Database, org: String, username: String) throws {
        try db.execute(
            sql: "UPDATE accounts SET failed = 0, locked_until = 0 WHERE org = ? AND username = ?", arguments: [org, username])
    }
}
