import ChainCore
import ChainTesting
import Foundation
import GRDB
import Identity
import Testing

@testable import Accounts

/// Personal data and account keys at rest: sealed with the suite's cipher (SM4 on sm2 chains,
/// AES-256-GCM otherwise), migrated from databases written by the older code, and refused with
/// `unseal_failed` when tampered with (docs/crypto.md, "Data at rest").
@Suite struct DataAtRestTests {
    static let kdf = PasswordKDF(iterations: 1_000)
    static let key = [UInt8](repeating: 9, count: 32)
    static let name = "张三丰"
    static let idNumber = "320500199001011234"
    static let phone = "13812345678"

    static func alice(_ username: String = "alice") -> NewAccount {
        NewAccount(username: username, name: name, idNumber: idNumber, phone: phone, role: .farm, password: "correct horse")
    }

    static func store(_ dir: URL, suite: CryptoSuite, key: [UInt8] = key) throws -> AccountStore {
        try AccountStore(
            path: dir.appendingPathComponent("accounts.sqlite").path, realNameSalt: Array(repeating: 7, count: 32),
            dataKey: key, suite: suite, kdf: kdf)
    }

    /// Every byte of the database and its WAL.
    static func fileBytes(_ dir: URL) -> [Data] {
        ["accounts.sqlite", "accounts.sqlite-wal"].map {
            (try? Data(contentsOf: dir.appendingPathComponent($0))) ?? Data()
        }
    }

    static func expectNoPlaintext(_ dir: URL, _ values: [String] = [name, idNumber, phone]) {
        for blob in fileBytes(dir) {
            for v in values { #expect(blob.range(of: Data(v.utf8)) == nil, "\(v) in the file") }
        }
    }

    /// The raw stored value of a column, read past the store.
    static func raw(_ dir: URL, _ column: String, username: String = "alice") throws -> DatabaseValue {
        let q = try DatabaseQueue(path: dir.appendingPathComponent("accounts.sqlite").path)
        return try q.read { db in
            try DatabaseValue.fetchOne(db, sql: "SELECT \(column) FROM accounts WHERE username = ?", arguments: [username])
        } ?? .null
    }

    @Test(arguments: [CryptoSuite.ed25519, .p256, .sm2])
    func personalDataAndKeysAreSealedWithTheSuitesCipher(suite: CryptoSuite) async throws {
        let consortium = try TestConsortium(orgs: ["org0"], suite: suite)
        try await withTemporaryDirectory { dir in
            let store = try Self.store(dir, suite: suite)
            let (account, identity) = try store.create(Self.alice(), ca: consortium.cas["org0"]!, suite: suite)
            #expect(account.name == Self.name)
            for column in AccountStore.personalColumns {
                guard case .blob(let box) = try Self.raw(dir, column).storage else {
                    Issue.record("\(column) is not a sealed box")
                    continue
                }
                // The scheme byte: SM4 (0x01) on sm2 chains, AES-256-GCM (0x02) otherwise.
                #expect(box.first == (suite == .sm2 ? 0x01 : 0x02))
            }
            let sealedKey = try #require(try store.rawSealedKey(org: "org0", username: "alice"))
            #expect(sealedKey.scheme == (suite == .sm2 ? "sm4" : "aes-gcm"))
            if suite == .sm2 { #expect(sealedKey.sealedKey.first == SM4SealedBox.version) }
            Self.expectNoPlaintext(dir, [Self.name, Self.idNumber, Self.phone, KeyPEM.encode(identity.key)])
            // Read back through the store, and after reopening it.
            let reopened = try Self.store(dir, suite: suite)
            let data = try #require(try reopened.personalData(org: "org0", username: "alice"))
            #expect(data == (Self.name, Self.idNumber, Self.phone))
            #expect(try reopened.account(org: "org0", username: "alice")?.name == Self.name)
            let session = try reopened.signIn(org: "org0", username: "alice", password: "correct horse")
            #expect(session.identity.certificateDER == identity.certificateDER)
        }
    }

    @Test func theDataKeyLivesInTheNodeHomeOwnerOnly() async throws {
        let consortium = try TestConsortium(orgs: ["org0"], suite: .sm2)
        try await withTemporaryDirectory { home in
            let store = try AccountStore(home: home, suite: .sm2, kdf: Self.kdf)
            _ = try store.create(Self.alice(), ca: consortium.cas["org0"]!, suite: .sm2)
            let keyFile = home.appendingPathComponent(AccountStore.dataKeyFile)
            let mode = try FileManager.default.attributesOfItem(atPath: keyFile.path)[.posixPermissions] as? Int
            #expect(mode == 0o600)
            let first = try String(contentsOf: keyFile, encoding: .utf8)
            // Opened again, the same key is used (and kept).
            let again = try AccountStore(home: home, suite: .sm2, kdf: Self.kdf)
            #expect(try again.personalData(org: "org0", username: "alice")?.name == Self.name)
            #expect(try String(contentsOf: keyFile, encoding: .utf8) == first)
        }
    }

    /// A database as the older code wrote it: schema v1 only, personal data in plaintext, the key
    /// sealed with AES-GCM under the password.
    static func makeOldDatabase(_ dir: URL, identity: SigningIdentity, usernames: [String]) throws {
        let q = try DatabaseQueue(path: dir.appendingPathComponent("accounts.sqlite").path)
        try q.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA journal_mode = WAL") }
        try q.write { db in
            try db.execute(
                sql: """
                    CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY);
                    INSERT INTO grdb_migrations VALUES ('v1');
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
            for username in usernames {
                let s = try KeySealer(kdf: kdf, scheme: .aesGCM).seal(password: "correct horse", key: identity.key)
                try db.execute(
                    sql: """
                        INSERT INTO accounts (org, username, role, name, id_number, phone, status, kdf_iterations, pw_salt,
                          pw_hash, key_salt, key_sealed, certificate, created_at, real_name_hash)
                        VALUES ('org0', ?, 'farm', ?, ?, ?, 'active', ?, ?, ?, ?, ?, ?, 1, 'h')
                        """,
                    arguments: [
                        username, name, idNumber, phone, s.iterations, Data(s.passwordSalt), Data(s.passwordHash),
                        Data(s.keySalt), Data(s.sealedKey), identity.certificatePEM,
                    ])
            }
        }
    }

    @Test func plaintextRowsOfTheOldCodeAreSealedOnOpenAndKeysResealedWithSM4AtSignIn() async throws {
        let consortium = try TestConsortium(orgs: ["org0"], suite: .sm2)
        let identity = try consortium.identity(.farm, org: "org0", name: "alice")
        try await withTemporaryDirectory { dir in
            try Self.makeOldDatabase(dir, identity: identity, usernames: ["alice", "bob"])
            #expect(try Self.raw(dir, "name").storage == .string(Self.name))
            #expect(Self.fileBytes(dir).contains { $0.range(of: Data(Self.idNumber.utf8)) != nil })

            let store = try Self.store(dir, suite: .sm2)
            // Sealed on open, nothing left in plaintext anywhere in the files, nothing lost.
            for column in AccountStore.personalColumns {
                guard case .blob(let box) = try Self.raw(dir, column).storage else {
                    Issue.record("\(column) was not sealed on open")
                    continue
                }
                #expect(box.first == SM4SealedBox.version)
            }
            Self.expectNoPlaintext(dir)
            for user in ["alice", "bob"] {
                #expect(try store.personalData(org: "org0", username: user)! == (Self.name, Self.idNumber, Self.phone))
            }
            #expect(try store.sealPlaintextRows() == 0)

            // The old AES-GCM key opens with the password, and is sealed again with SM4.
            #expect(try store.rawSealedKey(org: "org0", username: "alice")?.scheme == "aes-gcm")
            let s1 = try store.signIn(org: "org0", username: "alice", password: "correct horse")
            #expect(s1.identity.certificateDER == identity.certificateDER)
            let resealed = try #require(try store.rawSealedKey(org: "org0", username: "alice"))
            #expect(resealed.scheme == "sm4" && resealed.sealedKey.first == SM4SealedBox.version)
            let s2 = try store.signIn(org: "org0", username: "alice", password: "correct horse")
            #expect(s2.identity.key.rawPrivateKey == identity.key.rawPrivateKey)
            #expect(try store.rawSealedKey(org: "org0", username: "bob")?.scheme == "aes-gcm")
            // On a SHA-256 chain an old AES-GCM key stays as it is.
        }
    }

    @Test func tamperedOrMovedBoxesAndAnotherKeyAreRefusedWithUnsealFailed() async throws {
        let consortium = try TestConsortium(orgs: ["org0"], suite: .sm2)
        try await withTemporaryDirectory { dir in
            let store = try Self.store(dir, suite: .sm2)
            _ = try store.create(Self.alice(), ca: consortium.cas["org0"]!, suite: .sm2)
            var bob = Self.alice("bob")
            bob.name = "李四"
            _ = try store.create(bob, ca: consortium.cas["org0"]!, suite: .sm2)
            // Another data key: the rows stay as they are, reading them fails clearly.
            let wrong = try Self.store(dir, suite: .sm2, key: Array(repeating: 8, count: 32))
            #expect(errorCode { try wrong.personalData(org: "org0", username: "alice") } == "unseal_failed")
            #expect(errorCode { try wrong.accounts(org: "org0") } == "unseal_failed")
            #expect(try store.personalData(org: "org0", username: "bob")?.name == "李四")

            let q = try DatabaseQueue(path: dir.appendingPathComponent("accounts.sqlite").path)
            // Alice's name box copied into Bob's row: bound to Alice's row, it does not open there.
            try q.write { db in
                try db.execute(
                    sql: "UPDATE accounts SET name = (SELECT name FROM accounts WHERE username = 'alice') WHERE username = 'bob'")
            }
            #expect(errorCode { try store.personalData(org: "org0", username: "bob") } == "unseal_failed")
            // Alice's phone box put in her id_number column: bound to its column.
            let (idBox, phone) = try q.read { db in
                let row = try #require(
                    try Row.fetchOne(db, sql: "SELECT id_number, phone FROM accounts WHERE username = 'alice'"))
                return (row["id_number"] as Data, row["phone"] as Data)
            }
            try q.write { db in try db.execute(sql: "UPDATE accounts SET id_number = phone WHERE username = 'alice'") }
            #expect(errorCode { try store.personalData(org: "org0", username: "alice") } == "unseal_failed")
            try q.write { db in
                try db.execute(sql: "UPDATE accounts SET id_number = ? WHERE username = 'alice'", arguments: [idBox])
            }
            #expect(try store.personalData(org: "org0", username: "alice")?.idNumber == Self.idNumber)
            // One flipped bit, a cut box, an unknown scheme, an empty box: unseal_failed; plaintext
            // written behind the store's back (a number becomes text in a TEXT column): storage_corrupt.
            let cases: [(any DatabaseValueConvertible, String)] = [
                (Data(phone.enumerated().map { $0.offset == 20 ? $0.element ^ 1 : $0.element }), "unseal_failed"),
                (Data(phone.prefix(10)), "unseal_failed"), (Data([0x07]) + phone.dropFirst(), "unseal_failed"),
                (Data(), "unseal_failed"), (42, "storage_corrupt"), ("13800000000", "storage_corrupt"),
            ]
            for (bad, expected) in cases {
                try q.write { db in
                    try db.execute(sql: "UPDATE accounts SET phone = ? WHERE username = 'alice'", arguments: [bad])
                }
                #expect(errorCode { try store.personalData(org: "org0", username: "alice") } == expected, "\(bad)")
            }
            try q.write { db in try db.execute(sql: "UPDATE accounts SET phone = ? WHERE username = 'alice'", arguments: [phone])
            }
            #expect(try store.personalData(org: "org0", username: "alice")?.phone == Self.phone)
        }
    }

    @Test func atRestCipherOpensEitherSchemeAndRefusesHostileBoxes() throws {
        let sm4 = try AtRestCipher(key: Self.key, suite: .sm2)
        let aes = try AtRestCipher(key: Self.key, suite: .ed25519)
        let a = try sm4.seal(string: "张三", context: "c")
        let b = try aes.seal(string: "张三", context: "c")
        #expect(a.first == 0x01 && b.first == 0x02)
        #expect(a.count == 1 + 16 + 6 + 32 && b.count == 1 + 12 + 6 + 16)
        // Either cipher opens either box (a node whose data predates a change of writer).
        for c in [sm4, aes] {
            #expect(try c.openString(a, context: "c") == "张三")
            #expect(try c.openString(b, context: "c") == "张三")
            for box in [a, b] {
                #expect(errorCode { try c.open(box, context: "d") } == "unseal_failed")
                #expect(errorCode { try c.open(Array(box.dropLast()), context: "c") } == "unseal_failed")
                #expect(errorCode { try c.open(Array(box.prefix(5)), context: "c") } == "unseal_failed")
                var flipped = box
                flipped[box.count / 2] ^= 0x80
                #expect(errorCode { try c.open(flipped, context: "c") } == "unseal_failed")
            }
            #expect(errorCode { try c.open([], context: "c") } == "unseal_failed")
            #expect(errorCode { try c.open([0x03] + Array(a.dropFirst()), context: "c") } == "unseal_failed")
        }
        // Fresh IVs: the same value sealed twice differs.
        #expect(try sm4.seal(string: "x", context: "c") != sm4.seal(string: "x", context: "c"))
        #expect(errorCode { try AtRestCipher(key: [1, 2, 3], suite: .sm2) } == "bad_key")
        let other = try AtRestCipher(key: Array(repeating: 1, count: 32), suite: .sm2)
        #expect(errorCode { try other.open(a, context: "c") } == "unseal_failed")
        #expect(errorCode { try other.open(b, context: "c") } == "unseal_failed")
    }
}
