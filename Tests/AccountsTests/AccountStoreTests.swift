import Accounts
import ChainCore
import ChainTesting
import Foundation
import Identity
import Synchronization
import Testing

/// A clock tests move by hand.
final class TestClock: Sendable {
    let value = Mutex<Int64>(1_800_000_000_000)
    var now: Int64 { value.withLock { $0 } }
    func advance(_ ms: Int64) { value.withLock { $0 += ms } }
}

@Suite struct AccountStoreTests {
    let consortium: TestConsortium
    init() throws { consortium = try TestConsortium(orgs: ["org0", "org1"]) }

    static let kdf = PasswordKDF(iterations: 1_000)
    static let dataKey = [UInt8](repeating: 9, count: 32)

    func withStore(_ body: (AccountStore, TestClock, URL) async throws -> Void) async throws {
        try await withTemporaryDirectory { dir in
            let clock = TestClock()
            let store = try AccountStore(
                path: dir.appendingPathComponent("accounts.sqlite").path, realNameSalt: Array(repeating: 7, count: 32),
                dataKey: Self.dataKey, suite: .ed25519, kdf: Self.kdf, clock: { clock.now })
            try await body(store, clock, dir)
        }
    }

    func alice(_ role: Role = .farm, password: String = "correct horse") -> NewAccount {
        NewAccount(
            username: "alice", name: "张三", idNumber: "320500199001011234", phone: "13800000000", role: role,
            password: password)
    }

    @Test func productionKDFIsSlow() {
        #expect(PasswordKDF.production.iterations >= 310_000)
    }

    @Test func createAndSignIn() async throws {
        try await withStore { store, _, _ in
            let (account, identity) = try store.create(alice(), ca: consortium.cas["org0"]!, suite: .ed25519)
            #expect(account.org == "org0" && account.role == .farm)
            let membership = try consortium.membership()
            let signer = try membership.verify(
                certificateDER: identity.certificateDER, at: Date(timeIntervalSince1970: 1_800_000_000))
            #expect(signer.0.role == .farm && signer.0.org == "org0")
            let s = try store.signIn(org: "org0", username: "alice", password: "correct horse")
            #expect(s.identity.certificateDER == identity.certificateDER)
            #expect(try store.sessions.session(token: s.token).account.username == "alice")
            #expect(errorCode { try store.create(alice(), ca: consortium.cas["org0"]!, suite: .ed25519) } == "already_exists")
            // Same username in another org is another account.
            _ = try store.create(alice(), ca: consortium.cas["org1"]!, suite: .ed25519)
        }
    }

    @Test func secretsOnDiskAreNotPlain() async throws {
        try await withStore { store, _, dir in
            let (_, identity) = try store.create(alice(), ca: consortium.cas["org0"]!, suite: .ed25519)
            let raw = try #require(try store.rawSecrets(org: "org0", username: "alice"))
            #expect(raw.passwordHash != Array("correct horse".utf8))
            #expect(raw.passwordHash.count == 32)
            let pkcs8 = Array(KeyPEM.encode(identity.key).utf8)
            #expect(raw.sealedKey != pkcs8)
            let file = try Data(contentsOf: dir.appendingPathComponent("accounts.sqlite"))
            let wal = (try? Data(contentsOf: dir.appendingPathComponent("accounts.sqlite-wal"))) ?? Data()
            for blob in [file, wal] {
                #expect(blob.range(of: Data(KeyPEM.encode(identity.key).utf8)) == nil)
                #expect(blob.range(of: Data(identity.key.rawPrivateKey)) == nil)
                #expect(blob.range(of: Data("correct horse".utf8)) == nil)
            }
        }
    }

    @Test func validation() async throws {
        try await withStore { store, _, _ in
            let ca = consortium.cas["org0"]!
            var a = alice()
            a.username = "Al"
            #expect(errorCode { try store.create(a, ca: ca, suite: .ed25519) } == "bad_args")
            a = alice(password: "short")
            #expect(errorCode { try store.create(a, ca: ca, suite: .ed25519) } == "bad_args")
            a = alice()
            a.phone = "12ab5"
            #expect(errorCode { try store.create(a, ca: ca, suite: .ed25519) } == "bad_args")
            a = alice(.node)
            #expect(errorCode { try store.create(a, ca: ca, suite: .ed25519) } == "bad_args")
        }
    }

    @Test func fiveFailuresHoldBackThatAddressOnlyAndUnknownNamesLookTheSame() async throws {
        try await withStore { store, clock, _ in
            _ = try store.create(alice(), ca: consortium.cas["org0"]!, suite: .ed25519)
            let attacker = "203.0.113.9"
            for name in ["alice", "nobody"] {
                for _ in 0..<4 {
                    #expect(
                        errorCode { try store.signIn(org: "org0", username: name, password: "wrong password", source: attacker) }
                            == "bad_credentials")
                }
                // The fifth failure holds this address back, for a known and an unknown name alike.
                #expect(throws: SignInThrottled.self) {
                    try store.signIn(org: "org0", username: name, password: "wrong password", source: attacker)
                }
            }
            #expect(throws: SignInThrottled.self) {
                try store.signIn(org: "org0", username: "alice", password: "correct horse", source: attacker)
            }
            // The owner, from another address, is not locked out.
            _ = try store.signIn(org: "org0", username: "alice", password: "correct horse", source: "198.51.100.7")
            clock.advance(AccountStore.lockMillis + 1)
            _ = try store.signIn(org: "org0", username: "alice", password: "correct horse", source: attacker)
        }
    }

    /// Parallel wrong guesses cannot slip past the count: the check and the count are one step.
    @Test func parallelGuessesAreCountedExactly() async throws {
        try await withStore { store, _, _ in
            _ = try store.create(alice(), ca: consortium.cas["org0"]!, suite: .ed25519)
            let outcomes = await withTaskGroup(of: String.self) { group in
                for _ in 0..<40 {
                    group.addTask {
                        do {
                            _ = try store.signIn(org: "org0", username: "alice", password: "wrong password", source: "x")
                            return "ok"
                        } catch is SignInThrottled {
                            return "throttled"
                        } catch {
                            return "wrong"
                        }
                    }
                }
                var out: [String] = []
                for await o in group { out.append(o) }
                return out
            }
            #expect(outcomes.filter { $0 == "wrong" }.count <= AccountStore.maxFailures)
            #expect(!outcomes.contains("ok"))
        }
    }

    @Test func suspendedAndReset() async throws {
        try await withStore { store, _, _ in
            let ca = consortium.cas["org0"]!
            let (_, old) = try store.create(alice(), ca: ca, suite: .ed25519)
            let s = try store.signIn(org: "org0", username: "alice", password: "correct horse")
            try store.setStatus(org: "org0", username: "alice", active: false)
            #expect(errorCode { try store.sessions.session(token: s.token) } == "unauthenticated")
            #expect(
                errorCode { try store.signIn(org: "org0", username: "alice", password: "correct horse") } == "account_suspended")
            try store.setStatus(org: "org0", username: "alice", active: true)
            let new = try store.resetPassword(org: "org0", username: "alice", password: "new password!", ca: ca, suite: .ed25519)
            #expect(new.certificateDER != old.certificateDER)
            #expect(
                errorCode { try store.signIn(org: "org0", username: "alice", password: "correct horse") } == "bad_credentials")
            let s2 = try store.signIn(org: "org0", username: "alice", password: "new password!")
            #expect(s2.identity.certificateDER == new.certificateDER)
        }
    }

    @Test func sessionsExpire() async throws {
        try await withStore { store, clock, _ in
            _ = try store.create(alice(), ca: consortium.cas["org0"]!, suite: .ed25519)
            let idle = try store.signIn(org: "org0", username: "alice", password: "correct horse")
            clock.advance(AccountStore.idleMillis - 1000)
            _ = try store.sessions.session(token: idle.token)
            clock.advance(AccountStore.idleMillis - 1000)
            _ = try store.sessions.session(token: idle.token)
            clock.advance(AccountStore.idleMillis + 1)
            #expect(errorCode { try store.sessions.session(token: idle.token) } == "unauthenticated")
            // Used every 7 hours, a session still ends 24 h after sign-in.
            let busy = try store.signIn(org: "org0", username: "alice", password: "correct horse")
            for _ in 0..<3 {
                clock.advance(7 * 3_600_000)
                _ = try store.sessions.session(token: busy.token)
            }
            clock.advance(3 * 3_600_000 + 1)
            #expect(errorCode { try store.sessions.session(token: busy.token) } == "unauthenticated")
            try store.sessions.end(token: busy.token)
        }
    }

    @Test func auditRetention() async throws {
        try await withStore { store, clock, _ in
            try store.auditLog.append(org: "org0", username: "alice", action: "signin", detail: "", result: "ok", remote: "-")
            clock.advance(100 * 86_400_000)
            try store.auditLog.append(org: "org1", username: "bob", action: "signin", detail: "", result: "ok", remote: "-")
            // A shorter retention is not honoured: nothing younger than 183 days goes.
            #expect(try store.auditLog.prune(retention: 86_400_000) == 0)
            clock.advance(90 * 86_400_000)
            #expect(try store.auditLog.prune() == 1)
            let rest = try store.auditLog.entries(org: nil, after: 0, limit: 10)
            #expect(rest.count == 1 && rest[0].org == "org1")
        }
    }

    @Test func realNameHashIsSalted() async throws {
        try await withStore { store, _, _ in
            let h = store.realNameHash(name: "张三", idNumber: "1", phone: "13800000000")
            #expect(h.count == 64 && h != Hash256.sha256(Array("张三\u{0}1\u{0}13800000000".utf8)).hex)
        }
    }

    /// Password hashing runs on the queue's own threads, with a bounded queue: a burst beyond it
    /// is refused at once instead of occupying the cooperative thread pool. No step depends on
    /// timing (it once failed on a loaded machine, when it compared a 10 ms sleep with 50 ms
    /// hashes): the admitted hashes block until the test lets them go, and the test does that from
    /// the cooperative pool while as many of them hold their threads as the pool has threads.
    @Test func hashingIsQueuedOffThePoolAndBounded() async throws {
        // Were the work on the cooperative pool, these blocked hashes would hold all its threads
        // and nothing below could run to release them (they give up after a minute, and fail).
        let threads = min(8, max(2, ProcessInfo.processInfo.activeProcessorCount))
        let queue = HashingQueue(threads: threads, maxWaiting: 8)
        let gate = HashGate()
        let outcomes = await withTaskGroup(of: String.self) { group in
            for _ in 0..<24 {
                group.addTask {
                    do {
                        try await queue.run {
                            gate.running.add(1, ordering: .relaxed)
                            if gate.semaphore.wait(timeout: .now() + 60) == .timedOut {
                                gate.gaveUp.store(true, ordering: .relaxed)
                            }
                        }
                        return "done"
                    } catch let e as ChainError {
                        return e.code.rawValue
                    } catch {
                        return "other"
                    }
                }
            }
            // The admitted calls cannot end before the gate opens: the first 16 answers are the
            // refusals, given at once.
            var out: [String] = []
            while out.count < 16, let o = await group.next() { out.append(o) }
            // The pool is free: this polls while `threads` hashes hold their threads.
            for _ in 0..<3_000 where gate.running.load(ordering: .relaxed) < threads {
                try? await Task.sleep(for: .milliseconds(10))
            }
            out.append("pool saw \(gate.running.load(ordering: .relaxed)) running")
            for _ in 0..<8 { gate.semaphore.signal() }
            for await o in group { out.append(o) }
            return out
        }
        #expect(Array(outcomes.prefix(16)) == Array(repeating: "too_many_requests", count: 16))
        #expect(outcomes[16] == "pool saw \(threads) running")
        #expect(outcomes.filter { $0 == "done" }.count == 8)
        let hashesGaveUp = gate.gaveUp.load(ordering: .relaxed)
        #expect(!hashesGaveUp)
    }
}

/// What the blocked hashes of `hashingIsQueuedOffThePoolAndBounded` share with the test.
private final class HashGate: @unchecked Sendable {
    // A semaphore is safe to use from any thread; the counters are atomics.
    let semaphore = DispatchSemaphore(value: 0)
    let running = Atomic<Int>(0)
    let gaveUp = Atomic<Bool>(false)
}
