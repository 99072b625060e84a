import NIOCore
import Synchronization

/// One connection's bounded queue of frames waiting to be written, bounded in messages and bytes.
///
/// `offer` never waits: it queues or refuses. The connection's writer drains the queue as fast as
/// the socket accepts bytes, so a peer that stops reading fills the queue and further offers are refused.
final class OutboundQueue: Sendable {
    /// What became of an offered frame.
    enum Offer: Sendable, Equatable {
        /// Queued for writing.
        case queued
        /// Refused: the queue is at its message or byte limit.
        case full
        /// Refused: the connection is closing.
        case closed
    }

    private struct Usage {
        var messages = 0
        var bytes = 0
        var closed = false
    }

    let maxMessages: Int
    let maxBytes: Int
    /// The frames to write, in order; finishes when the queue closes.
    let frames: AsyncStream<ByteBuffer>
    private let continuation: AsyncStream<ByteBuffer>.Continuation
    private let usage = Mutex(Usage())

    init(maxMessages: Int, maxBytes: Int) {
        self.maxMessages = max(maxMessages, 1)
        self.maxBytes = max(maxBytes, 1)
        (frames, continuation) = AsyncStream.makeStream(of: ByteBuffer.self, bufferingPolicy: .unbounded)
    }

    /// Queues `frame` unless the queue is full or closed.
    func offer(_ frame: ByteBuffer) -> Offer {
        let size = frame.readableBytes
        let outcome = usage.withLock { u -> Offer in
            if u.closed { return .closed }
            if u.messages >= maxMessages || (u.messages > 0 && u.bytes + size > maxBytes) { return .full }
            u.messages += 1
            u.bytes += size
            return .queued
        }
        if outcome == .queued { continuation.yield(frame) }
        return outcome
    }

    /// Called by the writer for each frame it takes from `frames`.
    func didDequeue(_ frame: ByteBuffer) {
        usage.withLock {
            $0.messages -= 1
            $0.bytes -= frame.readableBytes
        }
    }

    /// Messages and bytes queued now.
    var queued: (messages: Int, bytes: Int) { usage.withLock { ($0.messages, $0.bytes) } }

    /// Refuses further offers and ends `frames` (frames not yet written are dropped).
    func close() {
        usage.withLock { $0.closed = true }
        continuation.finish()
    }
}
