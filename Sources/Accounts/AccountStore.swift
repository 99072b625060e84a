import ChainCore
import Crypto
import Foundation
import GRDB
import Identity
import Synchronization

/// Staff accounts, sessions and the audit log of one node, in their own SQLite file
/// (`<home>/data/accounts.sqlite`, WAL). Described in `docs/accounts.md`.
public final class AccountStore: Sendable {
    /// Sessions end after this long without use.
    public static let idleMillis: Int64 = 8 * 3_600_000
    /// Sessions end this long after sign-in whatever their use.
    public static let maxSessionMillis: Int64 = 24 * 3_600_000
    /// Consecutive failed sign-ins that lock an account.
    public static let maxFailures = 5
    /// How long a lock lasts.
    public static let lockMillis: Int64 = 15 * 60_000
    /// Audit rows younger than this are never pruned (183 days).
    public static let auditRetentionMillis: Int64 = 183 * 86_400_000
    /// Roles an account may hold.
    public static let assignableRoles: Set<Role> = [.admin, .association, .farm, .merchant, .lab, .logistics, .regulator]

    let pool: DatabasePool
    /// The password KDF (slow in production).
    public let kdf: PasswordKDF
    let realNameSalt: [UInt8]
    let clock: @Sendable () -> Int64
    let live = Mutex<[String: Session]>([:])

    /// Opens (creating) the store at `path`; `realNameSalt` is the node's secret salt of real-name hashes.
    public init(
        path: String, realNameSalt: [UInt8], kdf: PasswordKDF = .production,
        clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }
    ) throws {
        var config = Configuration()
        config.busyMode = .timeout(5)
        pool = try DatabasePool(path: path, configuration: config)
        self.kdf = kdf
        self.realNameSalt = realNameSalt
        self.clock = clock
        try pool.write { db in
            try db.execute(
                sql: """
                    CREATE TABLE IF NOT EXISTS accounts (
                      org TEXT NOT NULL, username TEXT NOT NULL, role TEXT NOT NULL, name TEXT NOT NULL,
                      id_number TEXT NOT NULL, phone TEXT NOT NULL, status TEXT NOT NULL,
                      kdf_iterations INTEGER NOT NULL, pw_salt BLOB NOT NULL, pw_hash BLOB NOT NULL,
                      key_salt BLOB NOT NULL, key_sealed BLOB NOT NULL, certificate TEXT NOT NULL,
                      failed INTEGER NOT NULL DEFAULT 0, locked_until INTEGER NOT NULL DEFAULT 0,
                      created_at INTEGER NOT NULL, real_name_hash TEXT NOT NULL, real_name_txid TEXT,
                      PRIMARY KEY (org, username));
                    CREATE TABLE IF NOT EXISTS sessions (
                      token_hash TEXT PRIMARY KEY, org TEXT NOT NULL, username TEXT NOT NULL,
                      created_at INTEGER NOT NULL, last_seen_at INTEGER NOT NULL);
                    CREATE TABLE IF NOT EXISTS audit (
                      seq INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER NOT NULL, org TEXT NOT NULL,
                      username TEXT NOT NULL, action TEXT NOT NULL, detail TEXT NOT NULL, result TEXT NOT NULL,
                      remote TEXT NOT NULL);
                    CREATE INDEX IF NOT EXISTS audit_org ON audit(org, seq);
                    """)
            // Sessions do not survive a restart: their keys lived in memory only.
            try db.execute(sql: "DELETE FROM sessions")
        }
        try? FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
    }

    /// The store of a node home: `<home>/data/accounts.sqlite`, salt `<home>/real-name-salt` (0600, made on first use).
    public convenience init(home: URL, kdf: PasswordKDF = .production) throws {
        let data = home.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        try self.init(
            path: data.appendingPathComponent("accounts.sqlite").path,
            realNameSalt: try Self.loadOrCreateSalt(home.appendingPathComponent("real-name-salt")), kdf: kdf)
    }

    /// True when `<home>/data/accounts.sqlite` exists.
    public static func exists(home: URL) -> Bool {
        FileManager.default.fileExists(atPath: home.appendingPathComponent("data/accounts.sqlite").path)
    }

    static func loadOrCreateSalt(_ url: URL) throws -> [UInt8] {
        if let d = try? Data(contentsOf: url), d.count == 32 { return Array(d) }
        let salt = PasswordKDF.randomBytes(32)
        try Data(salt).write(to: url, options: .atomic)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: url.path)
        return salt
    }

    /// Node time now, unix ms.
    public var now: Int64 { clock() }

    // MARK: validation

    /// Checks a new account's fields (`bad_args`).
    public static func validate(_ a: NewAccount) throws(ChainError) {
        guard (3...32).contains(a.username.utf8.count),
            a.username.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7a) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5f || $0 == 0x2d })
        else { throw ChainError(.badArgs, "username must be 3–32 of [a-z0-9_-]") }
        try validatePassword(a.password)
        guard (5...20).contains(a.phone.utf8.count), a.phone.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            throw ChainError(.badArgs, "phone must be 5–20 digits")
        }
        guard assignableRoles.contains(a.role) else {
            throw ChainError(
                .badArgs, "role must be one of \(assignableRoles.map(\.rawValue).sorted().joined(separator: ", "))")
        }
        for (field, v) in [("name", a.name), ("idNumber", a.idNumber)] {
            guard !v.trimmingCharacters(in: .whitespaces).isEmpty, v.unicodeScalars.count <= 64,
                !v.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
            else { throw ChainError(.badArgs, "\(field) must be 1–64 characters without control characters") }
        }
    }

    /// A password: 10–256 characters.
    public static func validatePassword(_ p: String) throws(ChainError) {
        guard (10...256).contains(p.count) else { throw ChainError(.badArgs, "password must be 10–256 characters") }
    }

    // MARK: accounts

    /// The salted real-name hash: hex SHA-256(salt ‖ name ‖ 0 ‖ idNumber ‖ 0 ‖ phone).
    public func realNameHash(name: String, idNumber: String, phone: String) -> String {
        Hash256.sha256(realNameSalt + Array(name.utf8) + [0] + Array(idNumber.utf8) + [0] + Array(phone.utf8)).hex
    }

    /// Creates an account with a new key and a certificate from `ca` (the account's org is the CA's).
    /// Returns the account and its identity (to sign the real-name evidence).
    public func create(_ new: NewAccount, ca: CertificateAuthority, suite: CryptoSuite) throws -> (Account, SigningIdentity) {
        try Self.validate(new)
        let now = clock()
        let exists = try pool.read { db in
            try Bool.fetchOne(
                db, sql: "SELECT 1 FROM accounts WHERE org = ? AND username = ?", arguments: [ca.org, new.username]) ?? false
        }
        guard !exists else { throw ChainError(.alreadyExists, "account \(new.username) already exists in \(ca.org)") }
        let (identity, certPEM) = try issue(ca: ca, suite: suite, role: new.role, username: new.username)
        let secrets = try seal(password: new.password, key: identity.key)
        let hash = realNameHash(name: new.name, idNumber: new.idNumber, phone: new.phone)
        do {
            try pool.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO accounts (org, username, role, name, id_number, phone, status, kdf_iterations, pw_salt,
                          pw_hash, key_salt, key_sealed, certificate, created_at, real_name_hash)
                        VALUES (?, ?, ?, ?, ?, ?, 'active', ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        ca.org, new.username, new.role.rawValue, new.name, new.idNumber, new.phone, kdf.iterations,
                        Data(secrets.pwSalt), Data(secrets.pwHash), Data(secrets.keySalt), Data(secrets.sealed), certPEM, now,
                        hash,
                    ])
            }
        } catch let e as DatabaseError where e.resultCode == .SQLITE_CONSTRAINT {
            throw ChainError(.alreadyExists, "account \(new.username) already exists in \(ca.org)")
        }
        let account = Account(
            org: ca.org, username: new.username, role: new.role, name: new.name, status: "active", createdAt: now,
            certificatePEM: certPEM, realNameTxid: nil)
        return (account, identity)
    }

    func issue(ca: CertificateAuthority, suite: CryptoSuite, role: Role, username: String) throws -> (SigningIdentity, String) {
        let key = SigningKey.generate(suite)
        let cert = try ca.issue(
            role: role, name: username, subjectKey: key, now: Date(timeIntervalSince1970: Double(clock()) / 1000))
        let identity = try SigningIdentity(key: key, certificate: cert)
        return (identity, identity.certificatePEM)
    }

    struct Secrets {
        var pwSalt: [UInt8]
        var pwHash: [UInt8]
        var keySalt: [UInt8]
        var sealed: [UInt8]
    }

    /// Hashes the password and encrypts the key's PKCS#8 under a second derivation (separate salt).
    func seal(password: String, key: SigningKey) throws -> Secrets {
        let pwSalt = PasswordKDF.randomBytes(16)
        let keySalt = PasswordKDF.randomBytes(16)
        let pwHash = try kdf.derive(password, salt: pwSalt)
        let wrap = SymmetricKey(data: try kdf.derive(password, salt: keySalt))
        let box = try AES.GCM.seal(Array(KeyPEM.encode(key).utf8), using: wrap)
        guard let combined = box.combined else { throw ChainError(.internalError, "AES-GCM sealing failed") }
        return Secrets(pwSalt: pwSalt, pwHash: pwHash, keySalt: keySalt, sealed: Array(combined))
    }

    /// Records the txid of the account's real-name evidence.
    public func setRealNameTxid(org: String, username: String, txid: String) throws {
        try pool.write { db in
            try db.execute(
                sql: "UPDATE accounts SET real_name_txid = ? WHERE org = ? AND username = ?", arguments: [txid, org, username])
        }
    }

    /// The stored real-name hash of an account.
    public func realNameHash(org: String, username: String) throws -> String? {
        try pool.read { db in
            try String.fetchOne(
                db, sql: "SELECT real_name_hash FROM accounts WHERE org = ? AND username = ?", arguments: [org, username])
        }
    }

    static func account(_ row: Row) throws(ChainError) -> Account {
        guard let role = Role(rawValue: row["role"]) else { throw ChainError(.storageCorrupt, "unknown role in accounts") }
        return Account(
            org: row["org"], username: row["username"], role: role, name: row["name"], status: row["status"],
            createdAt: row["created_at"], certificatePEM: row["certificate"], realNameTxid: row["real_name_txid"])
    }

    /// One account, or nil.
    public func account(org: String, username: String) throws -> Account? {
        try pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM accounts WHERE org = ? AND username = ?", arguments: [org, username])
        }.map(Self.account)
    }

    /// The accounts of an org, by username.
    public func accounts(org: String) throws -> [Account] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM accounts WHERE org = ? ORDER BY username", arguments: [org])
        }.map(Self.account)
    }

    /// Suspends (ending its sessions) or reinstates an account (`not_found` when missing).
    public func setStatus(org: String, username: String, active: Bool) throws {
        let changed = try pool.write { db in
            try db.execute(
                sql: "UPDATE accounts SET status = ?, failed = 0, locked_until = 0 WHERE org = ? AND username = ?",
                arguments: [active ? "active" : "suspended", org, username])
            return db.changesCount
        }
        guard changed == 1 else { throw ChainError(.notFound, "no account \(username) in \(org)") }
        if !active { try endSessions(org: org, username: username) }
    }

    /// Sets a new password. The old key cannot be decrypted without the old password, so the
    /// account gets a NEW key and certificate from `ca`; its sessions end. Returns the new identity.
    @discardableResult
    public func resetPassword(org: String, username: String, password: String, ca: CertificateAuthority, suite: CryptoSuite)
        throws -> SigningIdentity
    {
        try Self.validatePassword(password)
        guard let a = try account(org: org, username: username) else {
            throw ChainError(.notFound, "no account \(username) in \(org)")
        }
        let (identity, certPEM) = try issue(ca: ca, suite: suite, role: a.role, username: username)
        let s = try seal(password: password, key: identity.key)
        try pool.write { db in
            try db.execute(
                sql: """
                    UPDATE accounts SET kdf_iterations = ?, pw_salt = ?, pw_hash = ?, key_salt = ?, key_sealed = ?,
                      certificate = ?, failed = 0, locked_until = 0 WHERE org = ? AND username = ?
                    """,
                arguments: [
                    kdf.iterations, Data(s.pwSalt), Data(s.pwHash), Data(s.keySalt), Data(s.sealed), certPEM, org, username,
                ])
        }
        try endSessions(org: org, username: username)
        return identity
    }

    // MARK: sessions

    /// Signs in: checks lock, password and status; on success decrypts the key into a new session.
    /// Throws `bad_credentials` (unknown user or wrong password alike), `AccountLocked`, `account_suspended`.
    public func signIn(org: String, username: String, password: String) throws -> Session {
        let now = clock()
        guard
            let row = try pool.read({ db in
                try Row.fetchOne(db, sql: "SELECT * FROM accounts WHERE org = ? AND username = ?", arguments: [org, username])
            })
        else {
            // Spend the same time as a real check, so unknown names do not answer faster.
            _ = try kdf.derive(password, salt: Array(repeating: 0, count: 16))
            throw ChainError(.badCredentials, "wrong organisation, username or password")
        }
        let lockedUntil: Int64 = row["locked_until"]
        if lockedUntil > now { throw AccountLocked(retryAfter: (lockedUntil - now + 999) / 1000) }
        let stored = KDFRow(row)
        let rowKDF = PasswordKDF(iterations: stored.iterations)
        guard PasswordKDF.equal(try rowKDF.derive(password, salt: stored.pwSalt), stored.pwHash) else {
            let locked = try pool.write { db -> Int64? in
                try db.execute(
                    sql: "UPDATE accounts SET failed = failed + 1 WHERE org = ? AND username = ?", arguments: [org, username])
                let failed =
                    try Int.fetchOne(
                        db, sql: "SELECT failed FROM accounts WHERE org = ? AND username = ?", arguments: [org, username]) ?? 0
                guard failed >= Self.maxFailures else { return nil }
                try db.execute(
                    sql: "UPDATE accounts SET failed = 0, locked_until = ? WHERE org = ? AND username = ?",
                    arguments: [now + Self.lockMillis, org, username])
                return Self.lockMillis / 1000
            }
            if let locked { throw AccountLocked(retryAfter: locked) }
            throw ChainError(.badCredentials, "wrong organisation, username or password")
        }
        let account = try Self.account(row)
        guard account.status == "active" else { throw ChainError(.accountSuspended, "account \(username) is suspended") }
        let wrap = SymmetricKey(data: try rowKDF.derive(password, salt: stored.keySalt))
        let pem = try AES.GCM.open(try AES.GCM.SealedBox(combined: stored.sealed), using: wrap)
        guard let pemString = String(bytes: pem, encoding: .utf8) else {
            throw ChainError(.storageCorrupt, "the account's key does not decrypt to PEM")
        }
        let identity = try SigningIdentity(key: try KeyPEM.decode(pemString), certificatePEM: account.certificatePEM)
        let token = Data(PasswordKDF.randomBytes(32)).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        let session = Session(token: token, account: account, identity: identity, createdAt: now, lastSeenAt: now)
        let th = Self.tokenHash(token)
        try pool.write { db in
            try db.execute(
                sql: "UPDATE accounts SET failed = 0, locked_until = 0 WHERE org = ? AND username = ?",
                arguments: [org, username])
            try db.execute(
                sql: "INSERT INTO sessions (token_hash, org, username, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [th, org, username, now, now])
        }
        live.withLock { $0[th] = session }
        return session
    }

    struct KDFRow {
        var iterations: Int
        var pwSalt: [UInt8]
        var pwHash: [UInt8]
        var keySalt: [UInt8]
        var sealed: [UInt8]
        init(_ row: Row) {
            iterations = row["kdf_iterations"]
            pwSalt = Array((row["pw_salt"] as Data?) ?? Data())
            pwHash = Array((row["pw_hash"] as Data?) ?? Data())
            keySalt = Array((row["key_salt"] as Data?) ?? Data())
            sealed = Array((row["key_sealed"] as Data?) ?? Data())
        }
    }

    /// Hex SHA-256 of a token, as stored.
    static func tokenHash(_ token: String) -> String { Hash256.sha256(Array(token.utf8)).hex }

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
    public func signOut(token: String) throws {
        let th = Self.tokenHash(token)
        _ = live.withLock { $0.removeValue(forKey: th) }
        try pool.write { db in try db.execute(sql: "DELETE FROM sessions WHERE token_hash = ?", arguments: [th]) }
    }

    func endSessions(org: String, username: String) throws {
        live.withLock { $0 = $0.filter { $0.value.account.org != org || $0.value.account.username != username } }
        try pool.write { db in
            try db.execute(sql: "DELETE FROM sessions WHERE org = ? AND username = ?", arguments: [org, username])
        }
    }

    // MARK: audit

    /// Appends one audit entry.
    public func audit(org: String, username: String, action: String, detail: String, result: String, remote: String) throws {
        let now = clock()
        try pool.write { db in
            try db.execute(
                sql: "INSERT INTO audit (time, org, username, action, detail, result, remote) VALUES (?, ?, ?, ?, ?, ?, ?)",
                arguments: [now, org, username, action, String(detail.prefix(1000)), result, String(remote.prefix(200))])
        }
    }

    /// Audit entries after `after` (seq), oldest first; only `org`'s when given.
    public func auditEntries(org: String?, after: Int64, limit: Int) throws -> [JSONValue] {
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
            return rows.map(Self.auditEntry)
        }
    }

    static func auditEntry(_ r: Row) -> JSONValue {
        let seq: Int64 = r["seq"]
        let time: Int64 = r["time"]
        let org: String = r["org"]
        let username: String = r["username"]
        let action: String = r["action"]
        let detail: String = r["detail"]
        let result: String = r["result"]
        let remote: String = r["remote"]
        let o: [String: JSONValue] = [
            "seq": .int(seq), "time": .int(time), "org": .string(org), "username": .string(username),
            "action": .string(action), "detail": .string(detail), "result": .string(result), "remote": .string(remote),
        ]
        return .object(o)
    }

    /// Removes audit rows older than `retention` (never less than 183 days); returns how many.
    @discardableResult
    public func pruneAudit(retention: Int64 = AccountStore.auditRetentionMillis) throws -> Int {
        let cutoff = clock() - max(retention, Self.auditRetentionMillis)
        return try pool.write { db in
            try db.execute(sql: "DELETE FROM audit WHERE time < ?", arguments: [cutoff])
            return db.changesCount
        }
    }

    /// Raw columns of an account, for tests that check what is on disk.
    public func rawSecrets(org: String, username: String) throws -> (passwordHash: [UInt8], sealedKey: [UInt8])? {
        try pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM accounts WHERE org = ? AND username = ?", arguments: [org, username])
        }.map { r in
            let k = KDFRow(r)
            return (k.pwHash, k.sealed)
        }
    }
}
