import Accounts
import ChainCore
import ChainTesting
import Foundation
import GRDB
import Identity
import Testing

/// Account states between two nodes of the hosting org (each with its own database and data key):
/// what one node publishes, the other applies; the last state committed wins; a change of the
/// node's own not yet on chain is not overwritten; sessions end where a new password or a
/// suspension arrives; malformed states are refused without writing.
@Suite struct AccountReplicationTests {
    let consortium: TestConsortium
    init() throws { consortium = try TestConsortium(orgs: ["org0", "org1"]) }

    static let kdf = PasswordKDF(iterations: 1_000)

    func withTwoNodes(_ body: (AccountStore, AccountStore, URL) async throws -> Void) async throws {
        try await withTemporaryDirectory { dir in
            func open(_ name: String, _ key: UInt8) throws -> AccountStore {
                try AccountStore(
                    path: dir.appendingPathComponent("\(name).sqlite").path, realNameSalt: Array(repeating: key, count: 32),
                    dataKey: Array(repeating: key, count: 32), suite: .ed25519, kdf: Self.kdf)
            }
            try await body(try open("a", 1), try open("b", 2), dir)
        }
    }

    func clerk(password: String = "clerk-password-1") -> NewAccount {
        NewAccount(
            username: "clerk", name: "王小明", idNumber: "32050019900101123X", phone: "13912345678", role: .association,
            password: password)
    }

    /// Publishes every unpublished account of `from` into `to`, and marks it published on `from`
    /// (as the chain would, in that order).
    func replicate(_ from: AccountStore, _ to: AccountStore) throws {
        for u in try from.unpublished() {
            let s = try #require(try from.snapshot(org: u.org, username: u.username))
            try to.apply(snapshot: s, own: false)
            try from.apply(snapshot: s, own: true)
        }
    }

    @Test func anAccountMadeOnOneNodeSignsInOnTheOtherAndChangesFollow() async throws {
        try await withTwoNodes { a, b, _ in
            let ca = consortium.cas["org0"]!
            _ = try a.create(clerk(), ca: ca, suite: .ed25519)
            #expect(try a.unpublished().map(\.username) == ["clerk"])
            try replicate(a, b)
            #expect(try a.unpublished().isEmpty && b.unpublished().isEmpty)
            // Opened under b's own data key; the same key and certificate.
            #expect(try b.personalData(org: "org0", username: "clerk")?.phone == "13912345678")
            let sa = try a.signIn(org: "org0", username: "clerk", password: "clerk-password-1")
            let sb = try b.signIn(org: "org0", username: "clerk", password: "clerk-password-1")
            #expect(sa.identity.certificateDER == sb.identity.certificateDER)
            // Sessions and the throttle are per node: b's session is not a's.
            #expect(throws: ChainError.self) { try a.sessions.session(token: sb.token) }

            // A reset on a: b's sessions end when it arrives, the old password fails there.
            try a.resetPassword(org: "org0", username: "clerk", password: "clerk-password-2", ca: ca, suite: .ed25519)
            try replicate(a, b)
            #expect(throws: ChainError.self) { try b.sessions.session(token: sb.token) }
            #expect(errorCode { try b.signIn(org: "org0", username: "clerk", password: "clerk-password-1") } == "bad_credentials")
            let again = try b.signIn(org: "org0", username: "clerk", password: "clerk-password-2")

            // A suspension on b reaches a.
            try b.setStatus(org: "org0", username: "clerk", active: false)
            #expect(throws: ChainError.self) { try b.sessions.session(token: again.token) }
            try replicate(b, a)
            #expect(
                errorCode { try a.signIn(org: "org0", username: "clerk", password: "clerk-password-2") } == "account_suspended")
        }
    }

    @Test func aChangeNotYetOnChainIsNotOverwrittenAndTheLastCommittedWins() async throws {
        try await withTwoNodes { a, b, _ in
            let ca = consortium.cas["org0"]!
            _ = try a.create(clerk(), ca: ca, suite: .ed25519)
            try replicate(a, b)
            // Both change the account before either change is on chain: a suspends, b resets.
            try a.setStatus(org: "org0", username: "clerk", active: false)
            try b.resetPassword(org: "org0", username: "clerk", password: "clerk-password-b", ca: ca, suite: .ed25519)
            let fromA = try #require(try a.snapshot(org: "org0", username: "clerk"))
            let fromB = try #require(try b.snapshot(org: "org0", username: "clerk"))
            // Chain order: a's, then b's. Each node applies both in that order.
            #expect(try b.apply(snapshot: fromA, own: false) == false)  // b's own change is pending: kept
            try b.apply(snapshot: fromB, own: true)
            try a.apply(snapshot: fromA, own: true)
            #expect(try a.apply(snapshot: fromB, own: false) == true)
            // Both hold b's state (the last committed), nothing left to publish.
            for store in [a, b] {
                #expect(try store.unpublished().isEmpty)
                #expect(try store.account(org: "org0", username: "clerk")?.status == "active")
                _ = try store.signIn(org: "org0", username: "clerk", password: "clerk-password-b")
            }
        }
    }

    @Test func malformedStatesAreRefusedWithoutWriting() async throws {
        try await withTwoNodes { a, b, _ in
            _ = try a.create(clerk(), ca: consortium.cas["org0"]!, suite: .ed25519)
            let good = try #require(try a.snapshot(org: "org0", username: "clerk")?.objectValue)
            let variants: [(String, JSONValue?)] = [
                ("role", .string("node")), ("role", .string("root")), ("status", .string("deleted")),
                ("pwHash", .string("not base64!")), ("keyScheme", .string("rot13")), ("kdfIterations", .int(0)),
                ("username", nil), ("version", nil), ("name", .int(3)), ("certificate", nil),
            ]
            for (key, value) in variants {
                var bad = good
                bad[key] = value
                #expect(errorCode { try b.apply(snapshot: .object(bad), own: false) } == "bad_args", "\(key)")
            }
            #expect(try b.accounts(org: "org0").isEmpty)
        }
    }

    @Test func accountsOfAnOlderDatabaseArePublishedAfterTheMigration() async throws {
        try await withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("old.sqlite").path
            // A database as version 2 left it (no version columns, no hosting tables).
            let store = try AccountStore(
                path: path, realNameSalt: Array(repeating: 3, count: 32), dataKey: Array(repeating: 3, count: 32),
                suite: .ed25519, kdf: Self.kdf)
            _ = try store.create(clerk(), ca: consortium.cas["org0"]!, suite: .ed25519)
            let queue = try DatabaseQueue(path: path)
            try queue.write { db in
                try db.execute(
                    sql: """
                        ALTER TABLE accounts DROP COLUMN version; ALTER TABLE accounts DROP COLUMN published;
                        DROP TABLE hosting_cursor; DROP TABLE hosted_complaints;
                        DELETE FROM grdb_migrations WHERE identifier = 'v3-hosting';
                        """)
            }
            try queue.close()
            let reopened = try AccountStore(
                path: path, realNameSalt: Array(repeating: 3, count: 32), dataKey: Array(repeating: 3, count: 32),
                suite: .ed25519, kdf: Self.kdf)
            #expect(try reopened.unpublished().map(\.username) == ["clerk"])
            #expect(try reopened.hostingCursor() == nil)
            try reopened.setHostingCursor(height: 7, index: 1, seq: 0)
            #expect(try reopened.hostingCursor()?.height == 7)
            try reopened.setHostedComplaint(txid: "t", hidden: true)
            try reopened.setHostedComplaint(txid: "t", hidden: false)
            #expect(try reopened.hostedComplaints() == ["t": true])
        }
    }
}

extension AccountReplicationTests {
    /// A node restored from a backup older than a state it published takes that state back from
    /// the chain (its own record), and stays clean.
    @Test func aNodeRestoredFromAnOlderBackupTakesItsOwnStateBack() async throws {
        try await withTwoNodes { a, restored, _ in
            _ = try a.create(clerk(), ca: consortium.cas["org0"]!, suite: .ed25519)
            try a.resetPassword(
                org: "org0", username: "clerk", password: "clerk-password-2", ca: consortium.cas["org0"]!, suite: .ed25519)
            let published = try #require(try a.snapshot(org: "org0", username: "clerk"))
            // `restored` stands for node a after a restore from before the account existed.
            #expect(try restored.apply(snapshot: published, own: true))
            #expect(try restored.unpublished().isEmpty)
            _ = try restored.signIn(org: "org0", username: "clerk", password: "clerk-password-2")
            // Its own record again: only marked.
            #expect(try restored.apply(snapshot: published, own: true) == false)
        }
    }
}
