import Accounts
import ChainCore
import Foundation
import Identity
import Node
import Storage
import Synchronization

/// Keeps the one-stop platform's accounts and complaint contacts the same on every node of the
/// hosting org (`docs/accounts.md`, "Every node of the hosting org").
///
/// What changes on one node (an account created, its password reset, suspended or reinstated;
/// a complaint taken or its text hidden) goes on chain as a `hosting.record` transaction signed
/// by the node (role `node`): the new state, sealed under the org's **hosting key**
/// (`<home>/hosting-key`, 32 bytes, the same file on every node of the org; ``AtRestCipher``
/// with context `XIANGCHAIN-HOSTING-V1 ‖ 0 ‖ org`). Every node of the org reads the committed
/// records in chain order and applies them to its own accounts database and complaint file
/// (sealed there again under its own data key). Nodes of other orgs see ciphertext only.
///
/// ``syncOnce(now:)`` applies what was committed since the last call (from the cursor kept in
/// the accounts database: a node that was down, or restored from a backup, catches up from where
/// its files stand) and publishes what is not yet on chain (accounts whose local version is
/// newer than the version seen committed, complaints not seen committed or whose hiding is not).
/// A record not seen committed within ``retryMillis`` is published again; applying is idempotent.
public final class HostingReplica: Sendable {
    /// Domain separation of the sealed records.
    public static let contextPrefix = "XIANGCHAIN-HOSTING-V1"
    /// The hosting key's file in a node home.
    public static let keyFile = "hosting-key"
    /// A record not seen committed after this long is published again, ms.
    public static let retryMillis: Int64 = 15_000
    /// Records read from the chain per step.
    static let batch = 256

    let node: ChainNode
    let admission: Admission
    let identity: SigningIdentity
    /// The org whose nodes share the hosting key (this node's).
    public let org: String
    let cipher: AtRestCipher
    let accounts: AccountStore
    let complaints: OffchainComplaints?
    /// What this node published and has not yet seen committed: key → (version, when).
    let pending = Mutex<[String: (version: Int64, at: Int64)]>([:])
    /// The complaint file's size, time and inode when its last reading left nothing to publish.
    let cleanComplaintFile = Mutex<String?>(nil)
    /// Records that did not open (another key) or did not apply, for the logs and tests.
    let refusedCount = Atomic<Int>(0)

    /// A replica of `org` (this node's org) over `accounts` and `complaints`, signing as `identity`.
    public init(
        node: ChainNode, admission: Admission, identity: SigningIdentity, org: String, hostingKey: [UInt8],
        accounts: AccountStore, complaints: OffchainComplaints?
    ) throws {
        self.node = node
        self.admission = admission
        self.identity = identity
        self.org = org
        cipher = try AtRestCipher(key: hostingKey, suite: node.genesis.suite)
        self.accounts = accounts
        self.complaints = complaints
    }

    /// Records refused so far (sealed under another key, or malformed).
    public var refused: Int { refusedCount.load(ordering: .relaxed) }

    var context: String { "\(Self.contextPrefix)\u{0}\(org)" }

    /// Seals a record of `kind` for the org's nodes.
    func seal(kind: String, body: JSONValue) throws -> String {
        let record = JSONValue.object([
            "v": .int(1), "kind": .string(kind), "node": .string(node.config.nodeId), "body": body,
        ])
        return Data(try cipher.seal(record.canonicalBytes, context: context)).base64EncodedString()
    }

    /// Opens a record (nil when it is not this org's or does not open).
    func open(_ box: String) -> (kind: String, node: String, body: JSONValue)? {
        guard let bytes = Data(base64Encoded: box), let plain = try? cipher.open(Array(bytes), context: context),
            let o = try? JSONParser().parse(plain), o["v"]?.int64Value == 1, let kind = o["kind"]?.stringValue,
            let from = o["node"]?.stringValue, let body = o["body"]
        else { return nil }
        return (kind, from, body)
    }

    /// One round: applies what was committed, then publishes what is not on chain. Returns how
    /// many records were applied and published.
    @discardableResult
    public func syncOnce(now: Int64 = ChainNode.nowMillis()) async throws -> (applied: Int, published: Int) {
        let applied = try applyCommitted()
        let published = try await publish(now: now)
        return (applied, published)
    }

    /// Applies the hosting records committed since the cursor, in chain order.
    func applyCommitted() throws -> Int {
        var applied = 0
        var limit = Self.batch
        while true {
            let cursor = try accounts.hostingCursor()
            let events = try node.store.events(
                contract: "hosting", name: "record", fromHeight: cursor?.height ?? 0, limit: limit)
            let fresh = events.filter { e in
                guard let c = cursor else { return true }
                return (e.height, e.index, e.seq) > (c.height, c.index, c.seq)
            }
            // A block with more records than a batch, already applied in part: read more of it
            // (bounded by the block's size).
            if fresh.isEmpty, events.count == limit {
                limit *= 2
                continue
            }
            let asked = limit
            limit = Self.batch
            for e in fresh {
                if let data = try? JSONParser().parse(Array(e.data.utf8)), data["org"]?.stringValue == org,
                    let box = data["box"]?.stringValue
                {
                    if let record = open(box) {
                        do {
                            try apply(record)
                            applied += 1
                        } catch {
                            refusedCount.add(1, ordering: .relaxed)
                        }
                    } else {
                        refusedCount.add(1, ordering: .relaxed)
                    }
                }
                try accounts.setHostingCursor(height: e.height, index: e.index, seq: e.seq)
            }
            if events.count < asked { return applied }
        }
    }

    func apply(_ record: (kind: String, node: String, body: JSONValue)) throws {
        let own = record.node == node.config.nodeId
        switch record.kind {
        case "account":
            try accounts.apply(snapshot: record.body, own: own)
            if let o = record.body.objectValue, let org = o["org"]?.stringValue, let user = o["username"]?.stringValue,
                let version = o["version"]?.int64Value, own
            {
                pending.withLock { p in
                    if let v = p["a\u{0}\(org)\u{0}\(user)"]?.version, v <= version { p["a\u{0}\(org)\u{0}\(user)"] = nil }
                }
            }
        case "complaint":
            guard let o = record.body.objectValue, let txid = o["txid"]?.stringValue else {
                throw ChainError(.badArgs, "a complaint record without txid")
            }
            // Also this node's own: a node restored from an older backup gets back what it took.
            try complaints?.adopt(o)
            let hidden = o["hiddenAt"] != nil
            try accounts.setHostedComplaint(txid: txid, hidden: hidden)
            pending.withLock { p in
                if let v = p["c\u{0}\(txid)"]?.version, v <= (hidden ? 1 : 0) { p["c\u{0}\(txid)"] = nil }
            }
        default:
            throw ChainError(.badArgs, "unknown hosting record kind \(record.kind)")
        }
    }

    /// Publishes what is not yet on chain (skipping what was published less than ``retryMillis`` ago).
    func publish(now: Int64) async throws -> Int {
        var out: [(key: String, version: Int64, box: String)] = []
        for u in try accounts.unpublished() {
            let key = "a\u{0}\(u.org)\u{0}\(u.username)"
            if let p = pending.withLock({ $0[key] }), p.version >= u.version, now - p.at < Self.retryMillis { continue }
            guard let snapshot = try accounts.snapshot(org: u.org, username: u.username) else { continue }
            out.append((key, u.version, try seal(kind: "account", body: snapshot)))
        }
        // The complaint file is read again only when it changed, or when the last reading left
        // complaints to publish (not yet committed, or published and not yet seen on chain).
        let stamp = complaints.flatMap { c -> String? in
            guard let a = try? FileManager.default.attributesOfItem(atPath: c.fileURL.path) else { return nil }
            return
                "\((a[.size] as? NSNumber)?.int64Value ?? -1)/\((a[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)/\((a[.systemFileNumber] as? NSNumber)?.int64Value ?? 0)"
        }
        if let complaints, stamp == nil || stamp != cleanComplaintFile.withLock({ $0 }) {
            var outstanding = 0
            defer { cleanComplaintFile.withLock { $0 = outstanding == 0 ? stamp : nil } }
            let hosted = try accounts.hostedComplaints()
            let records = complaints.records()
            // Only complaints whose own transaction committed: a line whose txid never commits is
            // a complaint that did not reach the chain.
            let ids = records.keys.compactMap { Hash256(hex: $0) }
            let committed = try node.store.committedIDs(among: ids).map(\.hex)
            // Complaints not committed yet (one that has not committed in ten minutes never will:
            // its line is a complaint that did not reach the chain).
            let waiting = Set(records.keys).subtracting(committed)
            outstanding = waiting.filter { (records[$0]?["receivedAt"]?.int64Value ?? 0) > now - 600_000 }.count
            for txid in committed.sorted() {
                guard let r = records[txid] else { continue }
                let hidden = r["hiddenAt"] != nil
                if let h = hosted[txid], h || !hidden { continue }
                outstanding += 1
                let key = "c\u{0}\(txid)"
                let version: Int64 = hidden ? 1 : 0
                if let p = pending.withLock({ $0[key] }), p.version >= version, now - p.at < Self.retryMillis { continue }
                out.append((key, version, try seal(kind: "complaint", body: .object(r))))
            }
        }
        var published = 0
        for item in out {
            let tx = try identity.transaction(
                chain: node.chainId,
                call: ContractCall(contract: "hosting", method: "record", args: .object(["box": .string(item.box)])))
            do {
                try await admission.submit(tx)
                pending.withLock { $0[item.key] = (item.version, now) }
                published += 1
            } catch {
                // Mempool full, no validator reachable: tried again at the next round.
                continue
            }
        }
        return published
    }
}
