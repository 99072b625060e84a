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
/// It exists for throughput: one connection carries many submissions, each answered on its own,
/// without a request's parsing, routing and middleware each (`docs/performance.md`, fifteenth
/// pass). Limits: a frame is at most 64 KiB and a message at most what `POST /v1/txs` reads
/// (past either the connection is closed, 1009); the connection counts against the server's
/// connection limit; one on which the node has waited for the client — its next message, or the
/// reading of an answer — for the idle timeout is closed (`StallWatch`). There is no waiting for
/// the commit here (`?wait=commit` of `POST /v1/txs`, or the block stream `GET /v1/stream`).
struct SubmissionStream: Sendable {
    let api: APIContext
    var node: ChainNode { api.node }

    /// The path of the stream.
    static let path = "/v1/txs/stream"

    /// True for the stream's path, with or without a query.
    static func isStream(_ target: String?) -> Bool {
        target?.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) == path
    }

    /// Most bytes of one WebSocket frame, on this stream and on `/v1/stream`: a larger message
    /// comes in fragments (a frame is buffered whole, a few per connection, before it is read).
    static let maxFrameBytes = 64 * 1024

    /// Most bytes of one message: what `POST /v1/txs` reads.
    var maxMessageBytes: Int { ChainRoutes.submissionLimit(node.config) }

    /// Serves one connection until the client closes it, breaks the protocol, or keeps the node
    /// waiting for `idle`: sends nothing while the node waits for a message, or reads nothing
    /// while an answer waits to be written. Then the connection is closed (not only the stream
    /// ended: a client that does not read would hold a close frame back too).
    func serve(
        inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, channel: any Channel, idle: Duration
    ) async throws {
        let watch = StallWatch(clientsTurn: true)
        let limit = maxMessageBytes
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await watch.watch(channel, limit: idle) }
            group.addTask {
                for try await message in inbound.messages(maxSize: limit) {
                    // Admission is the node's own time (an observer's forwarding has its own bounds).
                    watch.nodesTurn()
                    let answer = await self.answer(message)
                    watch.clientsTurn()
                    try await outbound.write(.text(answer))
                    watch.clientsTurn()
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
            return ChainRoutes.accepted(txid: tx.txid).canonicalString
        } catch let e as ChainError {
            return ChainRoutes.refused(txid: txid, e).canonicalString
        } catch {
            return ChainRoutes.refused(txid: txid, ChainError(.internalError, "\(error)")).canonicalString
        }
    }
}

/// Whose turn it is on a WebSocket stream, and since when: a stream on which the client has had
/// its turn (sending the next message, or reading what the node writes) for the idle timeout is
/// closed (`watch`). The node's own time (admitting a transaction, waiting for the next block) never counts.
final class StallWatch: Sendable {
    /// When the client's turn began; nil during the node's.
    private let since: Mutex<ContinuousClock.Instant?>

    init(clientsTurn: Bool) { since = Mutex(clientsTurn ? ContinuousClock.now : nil) }

    /// The client's turn begins now.
    func clientsTurn() { since.withLock { $0 = .now } }

    /// The node's turn.
    func nodesTurn() { since.withLock { $0 = nil } }

    /// Returns once the client has had its turn for `limit`, after closing `channel`.
    func watch(_ channel: any Channel, limit: Duration) async throws {
        while true {
            let left = since.withLock { s in s.map { limit - (ContinuousClock.now - $0) } } ?? limit
            if left <= .zero {
                channel.close(promise: nil)
                return
            }
            try await Task.sleep(for: left)
        }
    }
}
