import ChainCore
import Foundation
import GRDB
import Identity
import Synchronization

/// Signed-in sessions: in memory (they hold decrypted keys), with the SHA-256 of each token on
/// disk for the record. Sessions do not survive a restart.
public final class SessionStore: Sendable {
    /// Sessions end after this long without use.
    public static let idleMillis: Int64 = 8 * 3_600_000
    /// Sessions end this long after sign-in whatever their use.
    public static let maxSessionMillis: Int64 = 24 * 3_600_000

    let pool: DatabasePool
    let clock: @Sendable () -> Int64
    let live = Mutex<[String: Session]>([:])

    init(pool: DatabasePool, clock: @escaping @Sendable () -> Int64) throws {
        self.pool = pool
        self.clock = clock
        // Their keys lived in memory only.
        try pool.write { db in try db.execute(sql: "DELETE FROM sessions") }
    }

    /// Hex SHA-256 of a token, as stored.
    static func tokenHash(_ token: String) -> String { Hash256.sha256(Array(token.utf8)).hex }

    /// Starts a session for `account` holding `identity`; returns it with its new token.
    func start(account: Account, identity: SigningIdentity) throws -> Session {
        let now = clock()
        let token = Data(PasswordKDF.randomBytes(32)).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        let session = Session(token: token, account: account, identity: identity, createdAt: now, lastSeenAt: now)
        let th = Self.tokenHash(token)
        try pool.write { db in
            try db.execute(
                sql: "INSERT INTO sessions (token_hash, org, username, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [th, account.org, account.username, now, now])
        }
        live.withLock { $0[th] = session }
        return session
    }

    /// The live session of `token`, touched (`unauthenticated` when unknown or expired).
    public func session(token: String) throws(ChainError) -> Session {
        let now = clock()
        let th = Self.tokenHash(token)
        let found: Session? = live.withLock { sessions in
            guard var s = sessions[th] else { return nil }
            guard now < s.expiresAt else {
                sessions[th] = nil
                return nil
            }
            s.lastSeenAt = now
            sessions[th] = s
            return s
        }
        guard let found else {
            try? pool.write { db in try db.execute(sql: "DELETE FROM sessions WHERE token_hash = ?", arguments: [th]) }
            throw ChainError(.unauthenticated, "no session, or it has expired: sign in")
        }
        try? pool.write { db in
            try db.execute(sql: "UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?", arguments: [now, th])
        }
        return found
    }

    /// Ends a session.
    public func end(token: String) throws {
        let th = Self.tokenHash(token)
        _ = live.withLock { $0.removeValue(forKey: th) }
        try pool.write { db in try db.execute(sql: "DELETE FROM sessions WHERE token_hash = ?", arguments: [th]) }
    }

    /// Ends every session of an account.
    func endAll(org: String, username: String) throws {
        live.withLock { $0 = $0.filter { $0.value.account.org != org || $0.value.account.username != username } }
        try pool.write { db in
            try db.execute(sql: "DELETE FROM sessions WHERE org = ? AND username = ?", arguments: [org, username])
        }
    }
}
