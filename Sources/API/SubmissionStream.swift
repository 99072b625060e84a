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
/// before it reads the answers: the node reads ahead of its answers at most
/// `readAheadCount` messages or `readAheadBytes` (one message whatever its size), admits all that
/// wait as one batch (one check of their signatures, `Admission.submit` for many), then answers
/// each in order; a client that does not read is slowed by TCP, not buffered for. Messages beyond
/// the mempool's room when a batch is looked at are refused `mempool_full` before they are read,
/// as all are when it is full (admission would refuse them after verifying them). While it is
/// full, a message whose predecessors all have their answers is refused by the event loop that
/// read it, before it reaches the stream (`QuickRefusal`, set up by `refuseQuickly`).
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

    /// Most messages read ahead of their answers on one connection, and most bytes of them (one
    /// message is always read, whatever its size).
    static let readAheadCount = 64
    static let readAheadBytes = 256 * 1024

    /// Serves one connection until the client closes it, breaks the protocol, or keeps the node
    /// waiting for `idle`: sends nothing while the node waits for a message, or reads nothing
    /// while an answer waits to be written. Then the connection is closed (not only the stream
    /// ended: a client that does not read would hold a close frame back too). `watch` keeps whose
    /// turn it is (made as the upgrade is accepted: `QuickRefusal` shares it).
    func serve(
        inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, channel: any Channel,
        watch: StallWatch, idle: Duration
    ) async throws {
        let limit = maxMessageBytes
        let waiting = ReadAhead(maxCount: Self.readAheadCount, maxBytes: Self.readAheadBytes)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await watch.watch(channel, limit: idle) }
            group.addTask {
                do {
                    for try await message in inbound.messages(maxSize: limit) {
                        guard await waiting.put(message, size: Self.size(of: message)) else { return }
                    }
                    waiting.finish()
                } catch {
                    waiting.finish(.failure(error))
                }
            }
            defer { waiting.finish() }
            // The messages that wait, answered in order; then the next ones.
            var lastRefusal: Refusal?
            while let messages = try await waiting.takeAll() {
                // Admission is the node's own time (an observer's forwarding has its own bounds).
                watch.nodesTurn()
                let answers = await self.answers(messages, lastRefusal: &lastRefusal)
                watch.clientsTurn()
                for answer in answers {
                    try await outbound.write(.text(answer))
                    watch.clientsTurn()
                }
            }
            group.cancelAll()
        }
    }

    /// Sets up `QuickRefusal` for the stream that `channel` is being upgraded to (called on its
    /// event loop as the upgrade is accepted; `watch` is the stream's).
    func refuseQuickly(on channel: any Channel, watch: StallWatch) {
        guard channel.eventLoop.inEventLoop, !node.isObserver else { return }
        let node = node
        let limit = maxMessageBytes
        try? channel.pipeline.syncOperations.addHandler(
            QuickRefusalInstaller { QuickRefusal(node: node, watch: watch, maxMessageBytes: limit) })
    }

    static func size(of message: WebSocketMessage) -> Int {
        switch message {
        case .text(let s): s.utf8.count
        case .binary(let b): b.readableBytes
        }
    }

    /// A refusal that names no transaction (for lack of room, or an envelope that did not parse)
    /// and its answer, kept by a connection: under overload most messages are refused alike
    /// (`mempool_full`), and their answer is written once.
    struct Refusal {
        let error: ChainError
        let answer: String
    }

    /// The answers to `messages`, in order, as `POST /v1/txs` would answer each body; the
    /// transactions that parse are admitted as one batch. `lastRefusal` is the connection's.
    func answers(_ messages: [WebSocketMessage], lastRefusal: inout Refusal?) async -> [String] {
        var answers: [String?] = Array(repeating: nil, count: messages.count)
        var parsed: [(index: Int, tx: SignedTransaction, envelope: [UInt8])] = []
        // The room when the first message is looked at: those beyond it would be verified only to
        // be refused by admission, so they are refused before they are read, as when it is full.
        var room = ChainRoutes.Room(node)
        for (index, message) in messages.enumerated() {
            do throws(ChainError) {
                // Before the message's bytes are even copied: a refusal should cost next to nothing.
                try room.take()
                let bytes: [UInt8]
                switch message {
                case .text(let s): bytes = Array(s.utf8)
                case .binary(let b): bytes = Array(b.readableBytesView)
                }
                parsed.append((index, try TransactionSubmission.parse(bytes, hasher: node.hasher), bytes))
            } catch {
                if let last = lastRefusal, last.error == error {
                    answers[index] = last.answer
                } else {
                    let answer = ChainRoutes.refused(txid: nil, error).canonicalString
                    lastRefusal = Refusal(error: error, answer: answer)
                    answers[index] = answer
                }
            }
        }
        let outcomes = await api.admission.submit(parsed.map { ($0.tx, $0.envelope) })
        for (item, outcome) in zip(parsed, outcomes) {
            switch outcome {
            case .success: answers[item.index] = ChainRoutes.accepted(txid: item.tx.txid).canonicalString
            case .failure(let e as ChainError): answers[item.index] = ChainRoutes.refused(txid: item.tx.txid, e).canonicalString
            case .failure(let e):
                answers[item.index] =
                    ChainRoutes.refused(txid: item.tx.txid, ChainError(.internalError, "\(e)")).canonicalString
            }
        }
        return answers.map { $0! }
    }
}

/// The messages of one stream read ahead of their answers, within a bound: the reader waits while
/// `maxCount` messages or `maxBytes` wait (one message is always taken, whatever its size); the
/// server takes all that wait at once. Either side's end wakes the other.
final class ReadAhead: Sendable {
    private struct State {
        var messages: [WebSocketMessage] = []
        var bytes = 0
        /// Set when the reader ended (how), or the server stopped taking.
        var end: Result<Void, any Error>?
        var taker: CheckedContinuation<Void, Never>?
        var putter: CheckedContinuation<Void, Never>?

        func fits(_ size: Int, maxCount: Int, maxBytes: Int) -> Bool {
            messages.isEmpty || (messages.count < maxCount && bytes + size <= maxBytes)
        }
    }
    private let state = Mutex(State())
    let maxCount: Int
    let maxBytes: Int

    init(maxCount: Int, maxBytes: Int) {
        self.maxCount = max(1, maxCount)
        self.maxBytes = maxBytes
    }

    /// Queues `message` of `size` bytes, first waiting for room. False once the server has
    /// stopped (the message is not queued).
    func put(_ message: WebSocketMessage, size: Int) async -> Bool {
        while true {
            let (queued, taker): (Bool?, CheckedContinuation<Void, Never>?) = state.withLock { s in
                if s.end != nil { return (false, nil) }
                guard s.fits(size, maxCount: maxCount, maxBytes: maxBytes) else { return (nil, nil) }
                s.messages.append(message)
                s.bytes += size
                defer { s.taker = nil }
                return (true, s.taker)
            }
            if let queued {
                taker?.resume()
                return queued
            }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                    let now = state.withLock { s in
                        if s.end != nil || s.fits(size, maxCount: maxCount, maxBytes: maxBytes) { return true }
                        s.putter = c
                        return false
                    }
                    if now { c.resume() }
                }
            } onCancel: {
                finish(.failure(CancellationError()))
            }
        }
    }

    /// Every message waiting, after waiting for one; nil once the reader has ended and every
    /// message was taken (or throws what ended it).
    func takeAll() async throws -> [WebSocketMessage]? {
        while true {
            let (taken, putter, end): ([WebSocketMessage]?, CheckedContinuation<Void, Never>?, Result<Void, any Error>?) =
                state.withLock { s in
                    if !s.messages.isEmpty {
                        let taken = s.messages
                        s.messages = []
                        s.bytes = 0
                        defer { s.putter = nil }
                        return (taken, s.putter, nil)
                    }
                    return (nil, nil, s.end)
                }
            if let taken {
                putter?.resume()
                return taken
            }
            if let end {
                try end.get()
                return nil
            }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                    let now = state.withLock { s in
                        if !s.messages.isEmpty || s.end != nil { return true }
                        s.taker = c
                        return false
                    }
                    if now { c.resume() }
                }
            } onCancel: {
                finish(.failure(CancellationError()))
            }
        }
    }

    /// The reader ended (`end`), or the server stopped taking: wakes whoever waits. The first end
    /// counts.
    func finish(_ end: Result<Void, any Error> = .success(())) {
        let (taker, putter) = state.withLock { s in
            if s.end == nil { s.end = end }
            defer {
                s.taker = nil
                s.putter = nil
            }
            return (s.taker, s.putter)
        }
        taker?.resume()
        putter?.resume()
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

    /// When the client's turn began; nil during the node's.
    var clientsTurnBegan: ContinuousClock.Instant? { since.withLock { $0 } }

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
