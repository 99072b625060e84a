import ChainCore
import Foundation
import GRDB
import Identity

/// Replication of accounts between the nodes of the hosting org (`docs/accounts.md`, "Every node
/// of the hosting org"): an account's state goes on chain sealed under the org's hosting key
/// (``snapshot(org:username:)``), and every node of the org applies what it reads there
/// (``apply(snapshot:own:)``). The last state committed wins; sessions, failed sign-ins and the
/// audit log stay per node.
extension AccountStore {
    /// An account whose local state is newer than what its node has seen committed.
    public struct Unpublished: Sendable, Hashable {
        /// Org and username.
        public let org, username: String
        /// Its local version.
        public let version: Int64
    }

    /// Accounts changed here (or written by an older version) whose state is not yet on chain.
    public func unpublished(limit: Int = 64) throws -> [Unpublished] {
        try pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT org, username, version FROM accounts WHERE version > published ORDER BY org, username LIMIT ?",
                arguments: [limit]
            ).map { Unpublished(org: $0["org"], username: $0["username"], version: $0["version"]) }
        }
    }

    /// The replicated state of an account (personal data opened: seal it before it leaves the
    /// node): role, status, real-name data, password hash and sealed key, certificate, real-name
    /// hash and txid, and the local `version`. Nil when there is no such account.
    public func snapshot(org: String, username: String) throws -> JSONValue? {
        guard
            let row = try pool.read({ db in
                try Row.fetchOne(db, sql: "SELECT * FROM accounts WHERE org = ? AND username = ?", arguments: [org, username])
            })
        else { return nil }
        func int(_ column: String) -> JSONValue { .int(row[column] as Int64) }
        func str(_ column: String) -> JSONValue { .string(row[column] as String) }
        func b64(_ column: String) -> JSONValue { .string(((row[column] as Data?) ?? Data()).base64EncodedString()) }
        var o: [String: JSONValue] = [
            "org": .string(org), "username": .string(username), "role": str("role"), "status": str("status"),
            "name": .string(try personal(row, "name")),
            "idNumber": .string(try personal(row, "id_number")), "phone": .string(try personal(row, "phone")),
            "kdfIterations": int("kdf_iterations"), "pwSalt": b64("pw_salt"), "pwHash": b64("pw_hash"),
            "keySalt": b64("key_salt"), "keySealed": b64("key_sealed"), "keyScheme": str("key_scheme"),
            "certificate": str("certificate"), "createdAt": int("created_at"), "realNameHash": str("real_name_hash"),
            "version": int("version"),
        ]
        if let txid: String = row["real_name_txid"] { o["realNameTxid"] = .string(txid) }
        return .object(o)
    }

    /// Applies an account state read on chain. `own`: this node published it (only marks that
    /// version as on chain; a node restored from a backup older than that version takes it back). Another node's state replaces the local one unless this node has a
    /// change of its own not yet on chain (that change comes later in chain order and wins
    /// everywhere). A new password (or key) or a suspension ends the account's sessions here.
    /// Returns true when the local row changed. Throws `bad_args` for a malformed state.
    @discardableResult
    public func apply(snapshot s: JSONValue, own: Bool) throws -> Bool {
        guard let org = s["org"]?.stringValue, let username = s["username"]?.stringValue,
            let version = s["version"]?.int64Value
        else { throw ChainError(.badArgs, "an account state without org, username or version") }
        if own {
            // This node's own state: only marked as on chain, unless the node has less than it
            // published (restored from an older backup): then it takes it back.
            let marked = try pool.write { db -> Bool in
                guard
                    let local = try Int64.fetchOne(
                        db, sql: "SELECT version FROM accounts WHERE org = ? AND username = ?", arguments: [org, username]),
                    local >= version
                else { return false }
                try db.execute(
                    sql: "UPDATE accounts SET published = ? WHERE org = ? AND username = ? AND published < ?",
                    arguments: [version, org, username, version])
                return true
            }
            if marked { return false }
        }
        func text(_ k: String) throws(ChainError) -> String {
            guard let v = s[k]?.stringValue else { throw ChainError(.badArgs, "account state: \"\(k)\" must be a string") }
            return v
        }
        func blob(_ k: String) throws(ChainError) -> Data {
            guard let v = Data(base64Encoded: try text(k)) else {
                throw ChainError(.badArgs, "account state: \"\(k)\" is not base64")
            }
            return v
        }
        let roleName = try text("role")
        guard let role = Role(rawValue: roleName), Self.assignableRoles.contains(role) else {
            throw ChainError(.badArgs, "account state: unknown role \(roleName)")
        }
        let status = try text("status")
        guard status == "active" || status == "suspended" else { throw ChainError(.badArgs, "account state: bad status") }
        let scheme = try text("keyScheme")
        guard KeySealer.Scheme(rawValue: scheme) != nil else { throw ChainError(.badArgs, "account state: bad key scheme") }
        guard let iterations = s["kdfIterations"]?.int64Value, iterations > 0, let createdAt = s["createdAt"]?.int64Value
        else { throw ChainError(.badArgs, "account state: bad kdfIterations or createdAt") }
        let personal = try [text("name"), text("idNumber"), text("phone")].enumerated().map { i, value in
            Data(try cipher.seal(string: value, context: Self.context(org, username, Self.personalColumns[i])))
        }
        let pwHash = try blob("pwHash")
        let (pwSalt, keySalt, keySealed) = (try blob("pwSalt"), try blob("keySalt"), try blob("keySealed"))
        let certificate = try text("certificate")
        let realNameHash = try text("realNameHash")
        let realNameTxid = s["realNameTxid"]?.stringValue
        let endSessions: Bool? = try pool.write { db in
            let local = try Row.fetchOne(
                db, sql: "SELECT status, pw_hash, key_sealed, version, published FROM accounts WHERE org = ? AND username = ?",
                arguments: [org, username])
            if let local {
                let (v, p): (Int64, Int64) = (local["version"], local["published"])
                // A change made here is on its way to the chain: it will come after this one.
                if v > p, !own { return nil }
                let same =
                    (local["status"] as String) == status && (local["pw_hash"] as Data) == pwHash
                    && (local["key_sealed"] as Data) == keySealed
                try db.execute(
                    sql: """
                        UPDATE accounts SET role = ?, name = ?, id_number = ?, phone = ?, status = ?, kdf_iterations = ?,
                          pw_salt = ?, pw_hash = ?, key_salt = ?, key_sealed = ?, key_scheme = ?, certificate = ?,
                          created_at = ?, real_name_hash = ?, real_name_txid = ?, version = ?, published = ?
                        WHERE org = ? AND username = ?
                        """,
                    arguments: [
                        role.rawValue, personal[0], personal[1], personal[2], status, iterations, pwSalt, pwHash, keySalt,
                        keySealed, scheme, certificate, createdAt, realNameHash, realNameTxid, own ? version : v,
                        own ? version : p, org, username,
                    ])
                let changedKey = (local["pw_hash"] as Data) != pwHash || (local["key_sealed"] as Data) != keySealed
                return same ? false : (changedKey || status != "active")
            }
            try db.execute(
                sql: """
                    INSERT INTO accounts (org, username, role, name, id_number, phone, status, kdf_iterations, pw_salt,
                      pw_hash, key_salt, key_sealed, key_scheme, certificate, created_at, real_name_hash, real_name_txid,
                      version, published)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    org, username, role.rawValue, personal[0], personal[1], personal[2], status, iterations, pwSalt, pwHash,
                    keySalt, keySealed, scheme, certificate, createdAt, realNameHash, realNameTxid, own ? version : 1,
                    own ? version : 1,
                ])
            return false
        }
        guard let endSessions else { return false }
        if endSessions { try sessions.endAll(org: org, username: username) }
        return true
    }

    /// Where this node's application of hosting records stands: the last event applied
    /// (height, index in block, event sequence), or nil before the first.
    public func hostingCursor() throws -> (height: UInt64, index: Int, seq: Int)? {
        try pool.read { db in
            try Row.fetchOne(db, sql: "SELECT height, idx, seq FROM hosting_cursor WHERE id = 1").map {
                (UInt64($0["height"] as Int64), $0["idx"], $0["seq"])
            }
        }
    }

    /// Records that hosting records up to this event are applied.
    public func setHostingCursor(height: UInt64, index: Int, seq: Int) throws {
        try pool.write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO hosting_cursor (id, height, idx, seq) VALUES (1, ?, ?, ?)",
                arguments: [Int64(height), index, seq])
        }
    }

    /// Complaints whose contact is on chain (read back from a committed record), with whether
    /// their text is hidden there.
    public func hostedComplaints() throws -> [String: Bool] {
        try pool.read { db in
            Dictionary(
                try Row.fetchAll(db, sql: "SELECT txid, hidden FROM hosted_complaints").map {
                    ($0["txid"] as String, ($0["hidden"] as Int64) != 0)
                }, uniquingKeysWith: { a, b in a || b })
        }
    }

    /// Records that a complaint's contact (with its text hidden or not) is on chain.
    public func setHostedComplaint(txid: String, hidden: Bool) throws {
        try pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO hosted_complaints (txid, hidden) VALUES (?, ?)
                    ON CONFLICT(txid) DO UPDATE SET hidden = max(hidden, excluded.hidden)
                    """,
                arguments: [txid, hidden ? 1 : 0])
        }
    }
}
