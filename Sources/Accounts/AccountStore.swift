import ChainCore
import Foundation
import GRDB
import Identity

/// Staff accounts of one node: real-name data (off chain), the password check and the sealed
/// key of each, status and lock-out; with the node's sessions and audit log beside it, in the
/// same database (`<home>/data/accounts.sqlite`). Described in `docs/accounts.md`.
public final class AccountStore: Sendable {
    /// Sessions end after this long without use.
    public static var idleMillis: Int64 { SessionStore.idleMillis }
    /// Sessions end this long after sign-in whatever their use.
    public static var maxSessionMillis: Int64 { SessionStore.maxSessionMillis }
    /// Failed sign-ins from one address on one account before that address is held back.
    public static var maxFailures: Int { SignInThrottle.maxFailures }
    /// How long it is held back.
    public static var lockMillis: Int64 { SignInThrottle.blockMillis }
    /// Roles an account may hold.
    public static let assignableRoles: Set<Role> = [
        .admin, .association, .farm, .merchant, .lab, .logistics, .regulator, .village, .township,
    ]

    let database: AccountDatabase
    var pool: DatabasePool { database.pool }
    /// The password KDF (slow in production).
    public let kdf: PasswordKDF
    let sealer: KeySealer
    let realNameSalt: [UInt8]
    let clock: @Sendable () -> Int64
    /// Signed-in sessions.
    public let sessions: SessionStore
    /// The audit log.
    public let auditLog: AuditLog
    /// Failed sign-ins by account and address.
    public let throttle = SignInThrottle()
    /// Where password hashing runs (off the cooperative thread pool).
    public let hashing: HashingQueue

    /// Opens (creating) the store at `path`; `realNameSalt` is the node's secret salt of real-name hashes.
    public init(
        path: String, realNameSalt: [UInt8], kdf: PasswordKDF = .production,
        clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }
    ) throws {
        database = try AccountDatabase(path: path)
        self.kdf = kdf
        sealer = KeySealer(kdf: kdf)
        self.realNameSalt = realNameSalt
        self.clock = clock
        sessions = try SessionStore(pool: database.pool, clock: clock)
        auditLog = AuditLog(pool: database.pool, clock: clock)
        hashing = HashingQueue()
    }

    /// The store of a node home: `<home>/data/accounts.sqlite`, salt `<home>/real-name-salt` (0600, made on first use).
    public convenience init(home: URL, kdf: PasswordKDF = .production) throws {
        let data = home.appendingPathComponent("data")
        try SecretFile.createPrivateDirectory(data)
        try self.init(
            path: data.appendingPathComponent("accounts.sqlite").path,
            realNameSalt: try SecretFile.loadOrCreateKey(home.appendingPathComponent("real-name-salt")), kdf: kdf)
    }

    /// True when `<home>/data/accounts.sqlite` exists.
    public static func exists(home: URL) -> Bool {
        FileManager.default.fileExists(atPath: home.appendingPathComponent("data/accounts.sqlite").path)
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
        let secrets = try sealer.seal(password: new.password, key: identity.key)
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
                        ca.org, new.username, new.role.rawValue, new.name, new.idNumber, new.phone, secrets.iterations,
                        Data(secrets.passwordSalt), Data(secrets.passwordHash), Data(secrets.keySalt), Data(secrets.sealedKey),
                        certPEM, now, hash,
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
        if !active { try sessions.endAll(org: org, username: username) }
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
        let s = try sealer.seal(password: password, key: identity.key)
        try pool.write { db in
            try db.execute(
                sql: """
                    UPDATE accounts SET kdf_iterations = ?, pw_salt = ?, pw_hash = ?, key_salt = ?, key_sealed = ?,
                      certificate = ? WHERE org = ? AND username = ?
                    """,
                arguments: [
                    s.iterations, Data(s.passwordSalt), Data(s.passwordHash), Data(s.keySalt), Data(s.sealedKey), certPEM, org,
                    username,
                ])
        }
        try sessions.endAll(org: org, username: username)
        return identity
    }

    // MARK: sign-in

    /// Signs in from client address `source`: checks the throttle, the password and the status;
    /// on success opens the key into a new session. Throws `bad_credentials` (unknown user or
    /// wrong password alike), `SignInThrottled` (too many failures from this address, for known
    /// and unknown names alike), `account_suspended`. Blocks for the password hash: call it from
    /// `hashing` on a server.
    public func signIn(org: String, username: String, password: String, source: String = "-") throws -> Session {
        let now = clock()
        try throttle.check(org: org, username: username, source: source, now: now)
        let row = try pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM accounts WHERE org = ? AND username = ?", arguments: [org, username])
        }
        let matches: Bool
        if let row {
            matches = try KeySealer.matches(password, Self.sealed(row))
        } else {
            sealer.spendCheckTime(password)
            matches = false
        }
        guard matches, let row else {
            if let blocked = throttle.recordFailure(org: org, username: username, source: source, now: now) {
                throw SignInThrottled(retryAfter: blocked)
            }
            throw ChainError(.badCredentials, "wrong organisation, username or password")
        }
        throttle.recordSuccess(org: org, username: username, source: source)
        let account = try Self.account(row)
        guard account.status == "active" else { throw ChainError(.accountSuspended, "account \(username) is suspended") }
        let identity = try SigningIdentity(
            key: try KeySealer.openKey(password, Self.sealed(row)), certificatePEM: account.certificatePEM)
        return try sessions.start(account: account, identity: identity)
    }

    static func sealed(_ row: Row) -> KeySealer.Sealed {
        KeySealer.Sealed(
            iterations: row["kdf_iterations"], passwordSalt: Array((row["pw_salt"] as Data?) ?? Data()),
            passwordHash: Array((row["pw_hash"] as Data?) ?? Data()), keySalt: Array((row["key_salt"] as Data?) ?? Data()),
            sealedKey: Array((row["key_sealed"] as Data?) ?? Data()))
    }

    /// Raw columns of an account, for tests that check what is on disk.
    public func rawSecrets(org: String, username: String) throws -> (passwordHash: [UInt8], sealedKey: [UInt8])? {
        try pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM accounts WHERE org = ? AND username = ?", arguments: [org, username])
        }.map { r in
            let k = Self.sealed(r)
            return (k.passwordHash, k.sealedKey)
        }
    }
}
