import ChainCore
import Foundation
import GRDB
import Identity

/// The node's accounts database, `<home>/data/accounts.sqlite` (WAL, owner-only, secure delete):
/// the schema of accounts, sessions and the audit log, shared by the stores that use it. The
/// personal columns of `accounts` (name, id_number, phone) hold sealed boxes (``AtRestCipher``).
final class AccountDatabase: Sendable {
    let pool: DatabasePool
    let path: String

    init(path: String) throws {
        self.path = path
        var config = Configuration()
        config.busyMode = .timeout(5)
        // Deleted and overwritten content is zeroed, so that no personal data or key that was
        // replaced lingers in free space of the file (docs/crypto.md, "Data at rest").
        config.prepareDatabase { db in try db.execute(sql: "PRAGMA secure_delete = ON") }
        pool = try DatabasePool(path: path, configuration: config)
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
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
        }
        // v2: how each account key is sealed (AES-256-GCM before; SM4 on sm2 chains from now on).
        migrator.registerMigration("v2-key-scheme") { db in
            try db.execute(sql: "ALTER TABLE accounts ADD COLUMN key_scheme TEXT NOT NULL DEFAULT 'aes-gcm'")
        }
        // v3: replication to the other nodes of the hosting org (docs/accounts.md, "Every node of
        // the hosting org"): each account's local version and the version last seen on chain
        // (rows of an older version are published at the next start), the chain position up to
        // which hosting records were applied, and the complaints whose contact is on chain.
        migrator.registerMigration("v3-hosting") { db in
            try db.execute(
                sql: """
                    ALTER TABLE accounts ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
                    ALTER TABLE accounts ADD COLUMN published INTEGER NOT NULL DEFAULT 0;
                    CREATE TABLE hosting_cursor (
                      id INTEGER PRIMARY KEY CHECK (id = 1), height INTEGER NOT NULL, idx INTEGER NOT NULL,
                      seq INTEGER NOT NULL);
                    CREATE TABLE hosted_complaints (txid TEXT PRIMARY KEY, hidden INTEGER NOT NULL);
                    """)
        }
        try migrator.migrate(pool)
        // The database and its WAL and shared-memory files are the owner's only.
        for suffix in ["", "-wal", "-shm"] {
            try? FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path + suffix)
        }
    }
}
