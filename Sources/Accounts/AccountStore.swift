import ChainCore
import Foundation
import GRDB
import Identity

/// Staff accounts of one node: real-name data (off chain), the password check and the sealed
/// key of each, status and lock-out; with the node's sessions and audit log beside it, in the
/// same database (`<home>/data/accounts.sqlite`). Described in `docs/accounts.md`.
///
/// Personal data (name, ID number, phone) is encrypted at rest under the node's data key
/// (`<home>/data-key`, 0600) with the suite's cipher (SM4 on `sm2` chains, AES-256-GCM
/// otherwise; ``AtRestCipher``), each value bound to its org, username and column. Rows that an
/// older version wrote in plaintext are encrypted when the store opens.
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
    let cipher: AtRestCipher
    /// The chain's suite: it picks the cipher of personal data and of sealed keys (SM4 on `sm2`).
    public let suite: CryptoSuite
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

    /// Opens (creating) the store at `path`; `realNameSalt` is the node's secret salt of real-name
    /// hashes, `dataKey` the 32-byte key of personal data at rest, `suite` the chain's. Personal
    /// data found in plaintext (written by an older version) is encrypted before this returns.
    public init(
        path: String, realNameSalt: [UInt8], dataKey: [UInt8], suite: CryptoSuite, kdf: PasswordKDF = .production,
        clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }
    ) throws {
        database = try AccountDatabase(path: path)
        self.kdf = kdf
        self.suite = suite
        sealer = KeySealer(kdf: kdf, scheme: KeySealer.Scheme(suite: suite))
        cipher = try AtRestCipher(key: dataKey, suite: suite)
        self.realNameSalt = realNameSalt
        self.clock = clock
        sessions = try SessionStore(pool: database.pool, clock: clock)
        auditLog = AuditLog(pool: database.pool, clock: clock)
        hashing = HashingQueue()
        try sealPlaintextRows()
    }

    /// The store of a node home: `<home>/data/accounts.sqlite`, salt `<home>/real-name-salt` and
    /// data key `<home>/data-key` (0600, made on first use).
    public convenience init(home: URL, suite: CryptoSuite, kdf: PasswordKDF = .production) throws {
        let data = home.appendingPathComponent("data")
        try SecretFile.createPrivateDirectory(data)
        try self.init(
            path: data.appendingPathComponent("accounts.sqlite").path,
            realNameSalt: try SecretFile.loadOrCreateKey(home.appendingPathComponent("real-name-salt")),
            dataKey: try SecretFile.loadOrCreateKey(home.appendingPathComponent(Self.dataKeyFile)), suite: suite, kdf: kdf)
    }

    /// The data key's file in a node home.
    public static let dataKeyFile = "data-key"

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
        let sealed = try [new.name, new.idNumber, new.phone].enumerated().map { i, value in
            Data(try cipher.seal(string: value, context: Self.context(ca.org, new.username, Self.personalColumns[i])))
        }
        do {
            try pool.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO accounts (org, username, role, name, id_number, phone, status, kdf_iterations, pw_salt,
                          pw_hash, key_salt, key_sealed, key_scheme, certificate, created_at, real_name_hash)
                        VALUES (?, ?, ?, ?, ?, ?, 'active', ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        ca.org, new.username, new.role.rawValue, sealed[0], sealed[1], sealed[2], secrets.iterations,
                        Data(secrets.passwordSalt), Data(secrets.passwordHash), Data(secrets.keySalt), Data(secrets.sealedKey),
                        secrets.scheme.rawValue, certPEM, now, hash,
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
        let identity = SigningIdentity(key: key, certificate: cert)
        return (identity, identity.certificatePEM)
    }

    /// Records the txid of the account's real-name evidence.
    public func setRealNameTxid(org: String, username: String, txid: String) throws {
        try pool.write { db in
            try db.execute(
                sql: "UPDATE accounts SET real_name_txid = ?, version = version + 1 WHERE org = ? AND username = ?",
                arguments: [txid, org, username])
        }
    }

    /// The stored real-name hash of an account.
    public func realNameHash(org: String, username: String) throws -> String? {
        try pool.read { db in
            try String.fetchOne(
                db, sql: "SELECT real_name_hash FROM accounts WHERE org = ? AND username = ?", arguments: [org, username])
        }
    }

    func account(_ row: Row) throws -> Account {
        guard let role = Role(rawValue: row["role"]) else { throw ChainError(.storageCorrupt, "unknown role in accounts") }
        return Account(
            org: row["org"], username: row["username"], role: role, name: try personal(row, "name"), status: row["status"],
            createdAt: row["created_at"], certificatePEM: row["certificate"], realNameTxid: row["real_name_txid"])
    }

    // MARK: personal data at rest

    /// The columns of `accounts` that hold personal data, sealed.
    static let personalColumns = ["name", "id_number", "phone"]

    /// What a sealed value is bound to: its org, username and column.
    static func context(_ org: String, _ username: String, _ column: String) -> String {
        "XIANGCHAIN-ACCOUNT-V1\u{0}\(org)\u{0}\(username)\u{0}\(column)"
    }

    /// One personal column of a row, opened (`unseal_failed` when the box was altered, moved from
    /// another row or column, or sealed under another data key).
    func personal(_ row: Row, _ column: String) throws -> String {
        let value: DatabaseValue = row[column]
        switch value.storage {
        case .blob(let data):
            return try cipher.openString(Array(data), context: Self.context(row["org"], row["username"], column))
        case .string:
            // Plaintext was sealed when the store opened (sealPlaintextRows): text now was written
            // behind the node's back.
            throw ChainError(.storageCorrupt, "accounts.\(column) holds plaintext, not a sealed box")
        default:
            throw ChainError(.storageCorrupt, "accounts.\(column) is not a sealed box")
        }
    }

    /// Name, ID number and phone of an account, opened (the admin's and the tests' view).
    public func personalData(org: String, username: String) throws -> (name: String, idNumber: String, phone: String)? {
        guard
            let row = try pool.read({ db in
                try Row.fetchOne(db, sql: "SELECT * FROM accounts WHERE org = ? AND username = ?", arguments: [org, username])
            })
        else { return nil }
        return (try personal(row, "name"), try personal(row, "id_number"), try personal(row, "phone"))
    }

    /// Encrypts the personal data of rows that an older version stored in plaintext, then
    /// rewrites the file (VACUUM, WAL truncated) so that no plaintext remains in free pages or
    /// the WAL. Returns how many rows were sealed.
    @discardableResult
    func sealPlaintextRows() throws -> Int {
        let plain = Self.personalColumns.map { "typeof(\($0)) = 'text'" }.joined(separator: " OR ")
        let rows = try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT org, username, name, id_number, phone FROM accounts WHERE \(plain)")
        }
        guard !rows.isEmpty else { return 0 }
        try pool.write { db in
            for row in rows {
                let org: String = row["org"]
                let username: String = row["username"]
                var values: [(any DatabaseValueConvertible)?] = []
                for column in Self.personalColumns {
                    let value: DatabaseValue = row[column]
                    switch value.storage {
                    case .string(let text):
                        values.append(Data(try cipher.seal(string: text, context: Self.context(org, username, column))))
                    case .blob(let data):
                        values.append(data)
                    default:
                        throw ChainError(
                            .storageCorrupt, "accounts.\(column) of \(username) in \(org) is neither text nor a sealed box")
                    }
                }
                try db.execute(
                    sql: "UPDATE accounts SET name = ?, id_number = ?, phone = ? WHERE org = ? AND username = ?",
                    arguments: StatementArguments(values + [org, username]))
            }
        }
        try pool.writeWithoutTransaction { db in
            try db.execute(sql: "VACUUM")
            try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
        }
        return rows.count
    }

    /// One account, or nil.
    public func account(org: String, username: String) throws -> Account? {
        try pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM accounts WHERE org = ? AND username = ?", arguments: [org, username])
        }.map { try self.account($0) }
    }

    /// The accounts of an org, by username.
    public func accounts(org: String) throws -> [Account] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM accounts WHERE org = ? ORDER BY username", arguments: [org])
        }.map { try self.account($0) }
    }

    /// Suspends (ending its sessions) or reinstates an account (`not_found` when missing).
    public func setStatus(org: String, username: String, active: Bool) throws {
        let changed = try pool.write { db in
            try db.execute(
                sql: """
                    UPDATE accounts SET status = ?, failed = 0, locked_until = 0, version = version + 1
                    WHERE org = ? AND username = ?
                    """,
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
                      key_scheme = ?, certificate = ?, version = version + 1 WHERE org = ? AND username = ?
                    """,
                arguments: [
                    s.iterations, Data(s.passwordSalt), Data(s.passwordHash), Data(s.keySalt), Data(s.sealedKey),
                    s.scheme.rawValue, certPEM, org, username,
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
        let account = try self.account(row)
        guard account.status == "active" else { throw ChainError(.accountSuspended, "account \(username) is suspended") }
        let sealed = try Self.sealed(row)
        let key = try KeySealer.openKey(password, sealed)
        if sealed.scheme != sealer.scheme {
            // A key sealed by an older version (AES-GCM) on an sm2 chain: sealed again with SM4,
            // now that the password is at hand.
            let s = try sealer.seal(password: password, key: key)
            try pool.write { db in
                try db.execute(
                    sql: """
                        UPDATE accounts SET kdf_iterations = ?, pw_salt = ?, pw_hash = ?, key_salt = ?, key_sealed = ?,
                          key_scheme = ? WHERE org = ? AND username = ? AND key_sealed = ?
                        """,
                    arguments: [
                        s.iterations, Data(s.passwordSalt), Data(s.passwordHash), Data(s.keySalt), Data(s.sealedKey),
                        s.scheme.rawValue, org, username, Data(sealed.sealedKey),
                    ])
            }
        }
        let identity = try SigningIdentity(key: key, certificatePEM: account.certificatePEM)
        return try sessions.start(account: account, identity: identity)
    }

    static func sealed(_ row: Row) throws -> KeySealer.Sealed {
        let schemeName: String = row["key_scheme"] ?? KeySealer.Scheme.aesGCM.rawValue
        guard let scheme = KeySealer.Scheme(rawValue: schemeName) else {
            throw ChainError(.storageCorrupt, "unknown key scheme \(schemeName) in accounts")
        }
        return KeySealer.Sealed(
            iterations: row["kdf_iterations"], passwordSalt: Array((row["pw_salt"] as Data?) ?? Data()),
            passwordHash: Array((row["pw_hash"] as Data?) ?? Data()), keySalt: Array((row["key_salt"] as Data?) ?? Data()),
            sealedKey: Array((row["key_sealed"] as Data?) ?? Data()), scheme: scheme)
    }

    /// Raw columns of an account, for tests that check what is on disk.
    public func rawSecrets(org: String, username: String) throws -> (passwordHash: [UInt8], sealedKey: [UInt8])? {
        try rawSealedKey(org: org, username: username).map { ($0.passwordHash, $0.sealedKey) }
    }

    /// The sealed key of an account and its scheme (`aes-gcm` or `sm4`), for tests.
    public func rawSealedKey(org: String, username: String) throws -> (
        passwordHash: [UInt8], sealedKey: [UInt8], scheme: String
    )? {
        guard
            let r = try pool.read({ db in
                try Row.fetchOne(db, sql: "SELECT * FROM accounts WHERE org = ? AND username = ?", arguments: [org, username])
            })
        else { return nil }
        let k = try Self.sealed(r)
        return (k.passwordHash, k.sealedKey, k.scheme.rawValue)
    }
}
