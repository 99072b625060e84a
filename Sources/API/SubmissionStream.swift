import ChainCore
import Foundation
import HummingbirdWebSocket
import Identity
import NIOCore
import Node
import Synchronization

/// `GET /v1/txs/stream`, a WebSocket for clients that submit many transactions: each message the
/// client sends is one transaction, the envelope `POST /v1/txs` takes (`{"body", "signature",
/// "signer"}`, as a text or binary message); the node answers every message with one text
/// message, in order — `{"txid", "status": "accepted"}`, or `{"error": {code, message}}` with the
/// `txid` when the envelope was read that far — with the codes and meaning of `POST /v1/txs`'s
/// answers (`mempool_full`: nothing was taken, send it again later). A client may send many
/// before it reads the answers; the node reads the next message only after answering the one
/// before, so a client that does not read is slowed by TCP, not buffered for.
///
/// It exists for throughput: a transaction over HTTP/1.1 costs its node a request's parsing,
/// routing, middleware and answer, about as much as verifying it (`docs/performance.md`); here it
/// costs a WebSocket frame. The same limits hold: a message is at most what `POST /v1/txs` reads
/// (a larger one closes the connection, 1009), the connection counts against the server's
/// connection limit, and one that sends nothing (or does not read its answers) for the idle
/// timeout is closed. There is no waiting for the commit here (`?wait=commit` of `POST /v1/txs`,
/// or the block stream `GET /v1/stream`).
struct SubmissionStream: Sendable {
    let api: APIContext
    var node: ChainNode { api.node }

    /// The path of the stream.
    static let path = "/v1/txs/stream"

    /// True for the stream's path, with or without a query.
    static func isStream(_ target: String?) -> Bool {
        target?.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) == path
    }

    /// Most bytes of one message: what `POST /v1/txs` reads.
    var maxMessageBytes: Int { node.config.maxBodyBytes * 2 + 64 * 1024 }

    /// Serves one connection until the client closes it, breaks the protocol, or is idle for `idle`.
    func serve(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, idle: Duration) async throws {
        let idleMs = Int64(idle.components.seconds * 1000 + idle.components.attoseconds / 1_000_000_000_000_000)
        let lastActive = LastActive()
        let limit = maxMessageBytes
        try await withThrowingTaskGroup(of: Void.self) { group in
            // Closes a connection with nothing in flight for the idle timeout (a client that stopped
            // sending, or one that stopped reading and holds an answer back).
            group.addTask {
                while true {
                    let quiet = ChainNode.nowMillis() - lastActive.ms.load(ordering: .relaxed)
                    if quiet >= idleMs { return }
                    try await Task.sleep(for: .milliseconds(idleMs - quiet))
                }
            }
            group.addTask {
                for try await message in inbound.messages(maxSize: limit) {
                    lastActive.ms.store(ChainNode.nowMillis(), ordering: .relaxed)
                    let answer = await self.answer(message)
                    try await outbound.write(.text(answer))
                    lastActive.ms.store(ChainNode.nowMillis(), ordering: .relaxed)
                }
            }
            _ = try await group.next()
            group.cancelAll()
        }
    }

    /// The answer to one message, as `POST /v1/txs` would answer its body.
    func answer(_ message: WebSocketMessage) async -> String {
        let bytes: [UInt8]
        switch message {
        case .text(let s): bytes = Array(s.utf8)
        case .binary(let b): bytes = Array(b.readableBytesView)
        }
        var txid: String?
        do {
            try ChainRoutes(api: api).refuseWhenFull()
            let tx = try TransactionSubmission.parse(bytes, hasher: node.hasher)
            txid = tx.txid
            try await api.admission.submit(tx, envelope: bytes)
            return JSONValue.object(["txid": .string(tx.txid), "status": .string("accepted")]).canonicalString
        } catch let e as ChainError {
            return Self.refusal(e, txid: txid)
        } catch {
            return Self.refusal(ChainError(.internalError, "\(error)"), txid: txid)
        }
    }

    /// `{"error": {code, message}, "txid"?}`.
    static func refusal(_ error: ChainError, txid: String?) -> String {
        var o: [String: JSONValue] = ["error": APIError.errorObject(error)]
        if let txid { o["txid"] = .string(txid) }
        return JSONValue.object(o).canonicalString
    }
}

/// When a submission stream last read or answered a message, ms.
private final class LastActive: Sendable {
    let ms = Atomic<Int64>(ChainNode.nowMillis())
}
