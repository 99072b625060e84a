import API
import ChainCore
import ChainTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Identity
import NIOCore
import Node
import Prometheus
import Storage
import Testing

/// A test client call's outcome.
struct Reply {
    let status: HTTPResponse.Status
    let json: JSONValue
    let headers: HTTPFields
    var code: String? { json["error"]?["code"]?.stringValue }
}

extension TestClientProtocol {
    func call(_ method: HTTPRequest.Method, _ uri: String, body: [UInt8]? = nil) async throws -> Reply {
        try await execute(uri: uri, method: method, body: body.map { ByteBuffer(bytes: $0) }) { r in
            let bytes = Array(buffer: r.body)
            let json = bytes.isEmpty ? JSONValue.null : try JSONParser().parse(bytes)
            return Reply(status: r.status, json: json, headers: r.headers)
        }
    }

    func submit(_ tx: SignedTransaction, query: String = "") async throws -> Reply {
        try await call(.post, "/v1/txs\(query)", body: Array(try JSONEncoder().encode(TransactionSubmission(tx))))
    }
}

@Suite struct APITests {
    let consortium: TestConsortium
    init() throws { consortium = try TestConsortium() }

    func withNode(
        config: NodeConfig? = nil, maxWait: Duration = .seconds(5),
        _ body: @Sendable (ChainNode, any TestClientProtocol) async throws -> Void
    ) async throws {
        try await withTemporaryDirectory { dir in
            let node = try consortium.node(in: dir, config: config)
            let app = Application(router: ChainAPI(node: node, maxWait: maxWait).router())
            try await app.test(.router) { client in try await body(node, client) }
        }
    }

    func evidenceTx(
        _ id: SigningIdentity, chain: String = "test-chain", hash: String = Fixtures.randomHash(), timestamp: Int64 = Fixtures.now
    )
        throws -> SignedTransaction
    {
        try id.transaction(
            chain: chain, contract: "evidence", method: "put", args: Fixtures.evidenceArgs(hash: hash), timestamp: timestamp)
    }

    @Test func statusDescribesTheChain() async throws {
        try await withNode { _, client in
            let r = try await client.call(.get, "/v1/status")
            #expect(r.status == .ok)
            #expect(r.json["chainId"]?.stringValue == "test-chain")
            #expect(r.json["suite"]?.stringValue == "ed25519")
            #expect(r.json["height"]?.int64Value == 0)
            #expect(r.json["nodeId"]?.stringValue == "node0")
            #expect(r.json["lastBlockHash"]?.stringValue?.count == 64)
            #expect(r.json["validators"]?.arrayValue?.count == 1)
        }
    }

    @Test func aSubmittedTransactionIsPendingThenCommittedWithAVerifiableProof() async throws {
        try await withNode { node, client in
            let farm = try consortium.identity(.farm, org: "org1", name: "farm-9")
            let hash = Fixtures.randomHash()
            let tx = try evidenceTx(farm, hash: hash)
            let accepted = try await client.submit(tx)
            #expect(accepted.status == .accepted)
            #expect(accepted.json["txid"]?.stringValue == tx.txid)
            #expect(try await client.call(.get, "/v1/txs/\(tx.txid)").json["status"]?.stringValue == "pending")

            #expect(try node.produceBlock() == 1)
            let t = try await client.call(.get, "/v1/txs/\(tx.txid)")
            #expect(t.status == .ok)
            #expect(t.json["status"]?.stringValue == "committed")
            #expect(t.json["height"]?.int64Value == 1 && t.json["index"]?.int64Value == 0)
            #expect(t.json["signer"]?["org"]?.stringValue == "org1")
            #expect(t.json["signer"]?["role"]?.stringValue == "farm")
            #expect(t.json["signer"]?["subject"]?.stringValue == "farm-9")
            #expect(t.json["events"]?.arrayValue?.first?["name"]?.stringValue == "evidence_put")

            let proof = try await client.call(.get, "/v1/txs/\(tx.txid)/proof")
            #expect(proof.status == .ok)
            let report = try ProofVerifier.verify(
                proof: proof.json, suite: .ed25519, validatorKeys: try consortium.genesis.validatorKeys())
            #expect(report.validSigners == ["node0"] && report.height == 1)
            #expect(proof.json["header"]?["headerHash"]?.stringValue == proof.json["headerHash"]?.stringValue)

            let ev = try await client.call(.get, "/v1/evidence/\(hash)")
            #expect(ev.json["txid"]?.stringValue == tx.txid)
            #expect(ev.json["signer"]?["subject"]?.stringValue == "farm-9")
            #expect(ev.json["time"]?.int64Value == (try node.store.block(at: 1))?.header.timestamp)

            let b = try await client.call(.get, "/v1/blocks/1")
            #expect(b.json["txids"]?.arrayValue == [.string(tx.txid)])
            let list = try await client.call(.get, "/v1/blocks?from=1&limit=5")
            #expect(list.json["blocks"]?.arrayValue?.count == 1)
        }
    }

    @Test func proofsOfAManyTransactionBlockAllVerify() async throws {
        try await withNode { node, client in
            let id = try consortium.identity(.merchant)
            var txs: [SignedTransaction] = []
            for _ in 0..<13 {
                let tx = try evidenceTx(id)
                txs.append(tx)
                #expect(try await client.submit(tx).status == .accepted)
            }
            try node.produceBlock()
            let keys = try consortium.genesis.validatorKeys()
            for tx in txs {
                let proof = try await client.call(.get, "/v1/txs/\(tx.txid)/proof")
                #expect(throws: Never.self) { try ProofVerifier.verify(proof: proof.json, suite: .ed25519, validatorKeys: keys) }
                // A proof presented for another transaction id fails.
                var forged = proof.json.objectValue!
                forged["txid"] = .string(txs[(txs.firstIndex(of: tx)! + 1) % txs.count].txid)
                #expect(throws: ChainError.self) {
                    try ProofVerifier.verify(proof: .object(forged), suite: .ed25519, validatorKeys: keys)
                }
            }
        }
    }

    @Test func waitForCommitReturnsTheOutcome() async throws {
        try await withNode { node, client in
            let id = try consortium.identity(.lab)
            let hash = Fixtures.randomHash()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    while !Task.isCancelled {
                        try node.produceBlock()
                        try await Task.sleep(for: .milliseconds(10))
                    }
                }
                let ok = try await client.submit(try evidenceTx(id, hash: hash), query: "?wait=commit")
                #expect(ok.status == .ok)
                #expect(ok.json["status"]?.stringValue == "committed")
                #expect(ok.json["height"]?.int64Value == 1)
                let dup = try await client.submit(try evidenceTx(id, hash: hash), query: "?wait=commit")
                #expect(dup.status == .ok)
                #expect(dup.json["status"]?.stringValue == "failed")
                #expect(dup.json["error"]?["code"]?.stringValue == "already_exists")
                group.cancelAll()
            }
            let failedID = try #require(try node.store.block(at: 2)?.txids.first)
            let t = try await client.call(.get, "/v1/txs/\(failedID.hex)")
            #expect(t.json["status"]?.stringValue == "failed")
            #expect(t.json["error"]?["code"]?.stringValue == "already_exists")
        }
    }

    @Test func waitTimesOutAsPendingWhenNoBlockComes() async throws {
        try await withNode { _, client in
            let r = try await client.submit(try evidenceTx(try consortium.identity(.farm)), query: "?wait=commit&timeout=50")
            #expect(r.status == .accepted)
            #expect(r.json["status"]?.stringValue == "pending")
        }
    }

    @Test func hostileSubmissionsGetTheirCodeAndChangeNothing() async throws {
        try await withNode { node, client in
            let farm = try consortium.identity(.farm)
            let good = try evidenceTx(farm)
            let envelope = TransactionSubmission(good)
            func json(_ e: TransactionSubmission) throws -> [UInt8] { Array(try JSONEncoder().encode(e)) }

            var badBody = envelope
            badBody.body = "***not base64***"
            var badSig = envelope
            badSig.signature = Data(try farm.key.sign(Array("other".utf8))).base64EncodedString()
            var notObjectBody = envelope
            notObjectBody.body = Data("[1,2,3]".utf8).base64EncodedString()
            var badPEM = envelope
            badPEM.signer = "hello"
            let stranger = try TestConsortium(orgs: ["org0"]).identity(.farm)
            // Far outside the node's ±10 minutes: on a loaded machine a minute or more can pass
            // between signing these and sending the last of them (one "11 minutes ahead" was
            // accepted once, sent 145 s after it was signed).
            let now = Fixtures.now

            let cases: [(String, [UInt8], HTTPResponse.Status, String)] = [
                ("bad base64", try json(badBody), .badRequest, "bad_base64"),
                ("not JSON", Array("{nope".utf8), .badRequest, "malformed_json"),
                ("JSON array", Array("[1]".utf8), .badRequest, "malformed"),
                ("JSON string", Array("\"tx\"".utf8), .badRequest, "malformed"),
                ("missing field", Array(#"{"body":"e30="}"#.utf8), .badRequest, "malformed"),
                ("extra field", Array(#"{"body":"e30=","signature":"","signer":"","x":1}"#.utf8), .badRequest, "malformed"),
                ("body not object", try json(notObjectBody), .badRequest, "malformed_body"),
                (
                    "wrong chain", try json(TransactionSubmission(try evidenceTx(farm, chain: "other-chain"))), .badRequest,
                    "wrong_chain"
                ),
                (
                    "stale", try json(TransactionSubmission(try evidenceTx(farm, timestamp: now - 30 * 60_000))), .badRequest,
                    "stale_timestamp"
                ),
                (
                    "future", try json(TransactionSubmission(try evidenceTx(farm, timestamp: now + 30 * 60_000))), .badRequest,
                    "stale_timestamp"
                ),
                ("bad signature", try json(badSig), .unauthorized, "bad_signature"),
                ("unknown CA", try json(TransactionSubmission(try evidenceTx(stranger))), .unauthorized, "unknown_ca"),
                ("not a certificate", try json(badPEM), .unauthorized, "bad_certificate"),
                (
                    "wrong role", try json(TransactionSubmission(try evidenceTx(try consortium.identity(.node)))), .forbidden,
                    "role_not_allowed"
                ),
                ("huge", Array(repeating: UInt8(ascii: " "), count: 2 << 20), .contentTooLarge, "too_large"),
            ]
            for (name, body, status, code) in cases {
                let r = try await client.call(.post, "/v1/txs", body: body)
                #expect(r.status == status, "\(name): \(r.json.canonicalString)")
                #expect(r.code == code, "\(name): \(r.json.canonicalString)")
                #expect(r.json["error"]?["message"]?.stringValue?.isEmpty == false, "\(name)")
            }
            #expect(try await client.call(.post, "/v1/txs?wait=soon", body: try json(envelope)).code == "invalid_parameter")
            // Nothing reached the mempool or the chain.
            #expect(node.mempool.count == 0)
            #expect(try node.produceBlock() == nil)
            #expect(try node.store.tip() == nil)
        }
    }

    @Test func aReplayedTransactionIsRefusedBeforeAndAfterCommit() async throws {
        try await withNode { node, client in
            let tx = try evidenceTx(try consortium.identity(.farm))
            #expect(try await client.submit(tx).status == .accepted)
            let again = try await client.submit(tx)
            #expect(again.status == .conflict && again.code == "duplicate_tx")
            try node.produceBlock()
            let after = try await client.submit(tx)
            #expect(after.status == .conflict && after.code == "duplicate_tx")
            #expect(try node.store.transactionCount() == 1)
        }
    }

    @Test func aFullMempoolAnswers503WithRetryAfter() async throws {
        var config = NodeConfig(nodeId: "node0")
        config.mempoolCapacity = 3
        try await withNode(config: config) { node, client in
            let id = try consortium.identity(.farm)
            for _ in 0..<3 { #expect(try await client.submit(try evidenceTx(id)).status == .accepted) }
            let r = try await client.submit(try evidenceTx(id))
            #expect(r.status == .serviceUnavailable && r.code == "mempool_full")
            #expect(r.headers[.retryAfter] == "1")
            // Overload is refused before the body is read or parsed (with room, this is a 400).
            let unread = try await client.call(.post, "/v1/txs", body: Array("not json".utf8))
            #expect(unread.status == .serviceUnavailable && unread.code == "mempool_full")
            try node.produceBlock()
            #expect(try await client.call(.post, "/v1/txs", body: Array("not json".utf8)).status == .badRequest)
            #expect(try await client.submit(try evidenceTx(id)).status == .accepted)
        }
    }

    /// Over a real socket: a refusal for lack of room leaves the request body unread, and the
    /// connection carries on (the server drains what it did not read).
    @Test func anUnreadBodyRefusedForLackOfRoomLeavesTheConnectionUsable() async throws {
        var config = NodeConfig(nodeId: "node0")
        config.mempoolCapacity = 1
        try await withTemporaryDirectory { dir in
            let registry = PrometheusCollectorRegistry()
            let node = try consortium.node(
                in: dir, config: config, metrics: NodeMetrics(factory: PrometheusMetricsFactory(registry: registry)))
            let app = Application(router: ChainAPI(node: node, maxWait: .seconds(5)).router())
            try await app.test(.live) { client in
                let id = try consortium.identity(.farm)
                #expect(try await client.submit(try evidenceTx(id)).status == .accepted)
                for body in [[UInt8](repeating: 0x7B, count: 300_000), Array("not json".utf8)] {
                    let unread = try await client.call(.post, "/v1/txs", body: body)
                    #expect(unread.status == .serviceUnavailable && unread.code == "mempool_full")
                    #expect(try await client.call(.get, "/v1/status").status == .ok)
                }
                // Counted as refusals, as when admission refuses them.
                let scraped = String(decoding: registry.emitToBuffer(), as: UTF8.self)
                #expect(scraped.contains("xiangchain_transactions_refused_total{code=\"mempool_full\"} 2"), "\(scraped)")
                try node.produceBlock()
                #expect(try await client.call(.post, "/v1/txs", body: Array("not json".utf8)).status == .badRequest)
                #expect(try await client.submit(try evidenceTx(id)).status == .accepted)
            }
        }
    }

    @Test func aBatchAdmitsEachTransactionOnItsOwnAndReportsEach() async throws {
        var config = NodeConfig(nodeId: "node0")
        config.mempoolCapacity = 5
        try await withNode(config: config) { node, client in
            let id = try consortium.identity(.merchant, org: "org1")
            func envelope(_ tx: SignedTransaction) throws -> JSONValue {
                try JSONParser().parse(Array(try JSONEncoder().encode(TransactionSubmission(tx))))
            }
            let good = try (0..<3).map { _ in try evidenceTx(id) }
            var forged = TransactionSubmission(try evidenceTx(id))
            forged.signature = Data(repeating: 1, count: 64).base64EncodedString()
            let items: [JSONValue] =
                try good.map(envelope) + [
                    try JSONParser().parse(Array(try JSONEncoder().encode(forged))), .object(["body": .int(1)]),
                    try envelope(good[0]),
                ]
            let r = try await client.call(.post, "/v1/txs/batch", body: JSONValue.object(["txs": .array(items)]).canonicalBytes)
            #expect(r.status == .ok)
            let results = r.json["results"]?.arrayValue ?? []
            #expect(results.count == 6)
            for k in 0..<3 {
                #expect(results[k]["status"]?.stringValue == "accepted" && results[k]["txid"]?.stringValue == good[k].txid)
            }
            #expect(results[3]["error"]?["code"]?.stringValue == "bad_signature")
            #expect(results[4]["error"]?["code"]?.stringValue == "malformed")
            #expect(results[5]["error"]?["code"]?.stringValue == "duplicate_tx")
            #expect(node.mempool.count == 3)
            // Room for two more: the rest of the batch is refused for lack of room, per transaction,
            // before its signatures are checked — a forged one beyond the room is `mempool_full`
            // (with its txid), not `bad_signature`.
            let beyondTx = try evidenceTx(id)
            var beyond = TransactionSubmission(beyondTx)
            beyond.signature = Data(repeating: 2, count: 64).base64EncodedString()
            let more =
                try (0..<2).map { _ in try envelope(try evidenceTx(id)) } + [
                    try JSONParser().parse(Array(try JSONEncoder().encode(beyond)))
                ]
            let partly = try await client.call(
                .post, "/v1/txs/batch", body: JSONValue.object(["txs": .array(more)]).canonicalBytes)
            #expect(partly.status == .ok)
            let partlyResults = partly.json["results"]?.arrayValue ?? []
            #expect(partlyResults.count == 3)
            #expect(partlyResults.prefix(2).allSatisfy { $0["status"]?.stringValue == "accepted" }, "\(partly.json)")
            #expect(partlyResults.last?["error"]?["code"]?.stringValue == "mempool_full", "\(partly.json)")
            #expect(partlyResults.last?["txid"]?.stringValue == beyondTx.txid)
            // Nothing taken at all: 503 with Retry-After, like a single submission.
            let none = try await client.call(
                .post, "/v1/txs/batch", body: JSONValue.object(["txs": .array([try envelope(try evidenceTx(id))])]).canonicalBytes
            )
            #expect(none.status == .serviceUnavailable && none.code == "mempool_full" && none.headers[.retryAfter] == "1")
            #expect(node.mempool.count == 5)
            // A full pool refuses a batch before reading it: even a body that is not a batch.
            let unread = try await client.call(.post, "/v1/txs/batch", body: Array("{\"txs\":[".utf8))
            #expect(unread.status == .serviceUnavailable && unread.code == "mempool_full")
            try node.produceBlock()
            // Bodies that are not a batch are refused whole.
            let hostile: [[UInt8]] = [
                Array("[]".utf8), Array("{\"txs\":[]}".utf8), Array("{\"txs\":{}}".utf8), Array("{\"txs\":[],\"x\":1}".utf8),
                Array("{\"txs\":[".utf8), JSONValue.object(["txs": .array(Array(repeating: .null, count: 1001))]).canonicalBytes,
            ]
            for body in hostile {
                let bad = try await client.call(.post, "/v1/txs/batch", body: body)
                #expect(bad.status == .badRequest, "\(String(decoding: body.prefix(40), as: UTF8.self))")
                #expect(bad.code == "malformed" || bad.code == "malformed_json")
            }
            #expect(node.mempool.count == 0)
        }
    }

    @Test func badPathsAndQueriesGetClearErrors() async throws {
        try await withNode { _, client in
            let cases: [(String, HTTPResponse.Status, String)] = [
                ("/v1/txs/xyz", .badRequest, "invalid_parameter"),
                ("/v1/txs/\(String(repeating: "0", count: 64))", .notFound, "not_found"),
                ("/v1/txs/\(String(repeating: "0", count: 64))/proof", .notFound, "not_found"),
                ("/v1/blocks/abc", .badRequest, "invalid_parameter"),
                ("/v1/blocks/-1", .badRequest, "invalid_parameter"),
                ("/v1/blocks/99", .notFound, "not_found"),
                ("/v1/blocks?limit=1000", .badRequest, "invalid_parameter"),
                ("/v1/blocks?from=0", .badRequest, "invalid_parameter"),
                ("/v1/evidence/nothex", .badRequest, "invalid_parameter"),
                ("/v1/evidence/\(String(repeating: "a", count: 64))", .notFound, "not_found"),
                ("/v1/nothing", .notFound, "not_found"),
            ]
            for (uri, status, code) in cases {
                let r = try await client.call(.get, uri)
                #expect(r.status == status, "\(uri)")
                #expect(r.code == code, "\(uri): \(r.json.canonicalString)")
            }
        }
    }

    /// Heights parse as UInt64; SQLite integers are signed. One anonymous request with a height at
    /// or above 2^63 used to trap converting it and kill the node.
    @Test(arguments: ["9223372036854775808", "18446744073709551615", "9223372036854775807"])
    func heightsBeyondTheStoredRangeAreAnsweredNotTrappedOn(height: String) async throws {
        try await withNode { node, client in
            let one = try await client.call(.get, "/v1/blocks/\(height)")
            #expect(one.status == .notFound)
            #expect(one.code == "not_found")
            let list = try await client.call(.get, "/v1/blocks?from=\(height)")
            #expect(list.status == .ok)
            #expect(list.json["blocks"]?.arrayValue?.isEmpty == true)
            let sync = try await client.execute(uri: "/v1/sync/blocks?from=\(height)", method: .get) { r in r }
            #expect(sync.status == .ok)
            #expect(
                try BlockSyncBatch.decode(Array(buffer: sync.body), maxTxs: 10, maxBlockBytes: 1 << 20, hasher: .sha256).isEmpty)
            #expect(try await client.call(.get, "/v1/status").status == .ok)
            #expect(
                try node.store.events(contract: "evidence", name: "evidence_put", fromHeight: UInt64(height)!, limit: 10).isEmpty)
        }
    }
}
