import ChainCore
import ChainTesting
import Foundation
import HummingbirdWebSocket
import Identity
import NIOCore
import Node
import Testing

@testable import API

/// The submission stream's answers to the messages read ahead (`SubmissionStream.answers`), on a
/// real node (SQLite files): under overload every message is refused before it is read, each
/// with the same answer, and a connection's kept refusal never answers a message once there is
/// room again.
@Suite struct SubmissionStreamAnswerTests {
    let consortium: TestConsortium
    init() throws { consortium = try TestConsortium() }

    @Test func aFullMempoolRefusesEveryMessageBeforeReadingItAndRoomAdmitsAgain() async throws {
        var config = NodeConfig(nodeId: "node0")
        config.mempoolCapacity = 2
        try await withTemporaryDirectory { dir in
            let node = try consortium.node(in: dir, config: config)
            let stream = SubmissionStream(api: ChainAPI(node: node).api)
            let id = try consortium.identity(.farm)
            func tx() throws -> SignedTransaction {
                try id.transaction(
                    chain: "test-chain", contract: "evidence", method: "put", args: Fixtures.evidenceArgs(),
                    timestamp: Fixtures.now)
            }
            func message(_ tx: SignedTransaction) throws -> WebSocketMessage {
                .text(String(decoding: try JSONEncoder().encode(TransactionSubmission(tx)), as: UTF8.self))
            }
            func parsed(_ answers: [String]) throws -> [JSONValue] { try answers.map { try JSONParser().parse(Array($0.utf8)) } }
            var kept: SubmissionStream.Refusal?

            // Room for two when the batch is read: two are admitted and the third is refused
            // before it is read (it would have been verified only for admission to refuse it).
            let three = try (0..<3).map { _ in try tx() }
            let first = try parsed(await stream.answers(try three.map(message), lastRefusal: &kept))
            #expect(first[0]["status"]?.stringValue == "accepted" && first[0]["txid"]?.stringValue == three[0].txid)
            #expect(first[1]["status"]?.stringValue == "accepted" && first[1]["txid"]?.stringValue == three[1].txid)
            #expect(first[2]["error"]?["code"]?.stringValue == "mempool_full" && first[2]["txid"] == nil, "\(first[2])")
            #expect(node.mempool.count == 2)

            // Full: every message is refused before it is read — a good one, one that is not
            // JSON, a binary one — with the same answer, which the connection keeps.
            let full: [WebSocketMessage] = [
                try message(try tx()), .text("not json"), .binary(.init(bytes: [0xFF])), try message(try tx()),
            ]
            let refused = await stream.answers(full, lastRefusal: &kept)
            #expect(Set(refused).count == 1)
            let answer = try JSONParser().parse(Array(refused[0].utf8))
            #expect(answer["error"]?["code"]?.stringValue == "mempool_full" && answer["txid"] == nil, "\(refused[0])")
            #expect(kept?.answer == refused[0])
            // The next batch, still full, gets the kept answer.
            #expect(await stream.answers([try message(try tx())], lastRefusal: &kept) == [refused[0]])
            #expect(node.mempool.count == 2)

            // Room again (a block took the two): the kept refusal answers nothing any more.
            try node.produceBlock()
            let next = try tx()
            let again = try parsed(await stream.answers([try message(next), .text("not json")], lastRefusal: &kept))
            #expect(again[0]["status"]?.stringValue == "accepted" && again[0]["txid"]?.stringValue == next.txid)
            #expect(again[1]["error"]?["code"]?.stringValue == "malformed_json")
            #expect(node.mempool.count == 1)
        }
    }
}
