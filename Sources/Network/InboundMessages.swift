import NIOCore
import Synchronization

/// A message received from a validator.
public struct InboundMessage: Sendable, Hashable {
    /// The sender's node id, as authenticated by its certificate and hello.
    public let from: String
    /// The message bytes, exactly as the sender passed them to `send` or `broadcast`.
    public let bytes: [UInt8]

    /// A message from `from`.
    public init(from: String, bytes: [UInt8]) {
        self.from = from
        self.bytes = bytes
    }
}

/// The messages received from all peers, in arrival order per peer and round-robin across peers.
///
/// Buffering is bounded per peer: when a peer's buffer is full, the node stops reading from its
/// socket until the consumer catches up, so a slow consumer slows the senders (their
/// sends report `.queueFull`) instead of growing memory. The sequence ends when the network's
/// `run()` returns. Several tasks may iterate; each message goes to exactly one of them.
public struct InboundMessages: AsyncSequence, Sendable {
    /// Received messages.
    public typealias Element = InboundMessage
    /// Iteration never throws.
    public typealias Failure = Never

    let inbox: Inbox

    /// Iterates the messages.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let inbox: Inbox

        /// The next message, or nil once the network has stopped (or the task is cancelled).
        public mutating func next() async -> InboundMessage? { await inbox.next() }

        /// The next message, or nil once the network has stopped (or the task is cancelled).
        public mutating func next(isolation actor: isolated (any Actor)?) async -> InboundMessage? { await inbox.next() }
    }

    /// An iterator over the messages.
    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(inbox: inbox) }
}

/// Per-peer bounded lanes of received messages, drained round-robin by any number of consumers.
///
/// Each connection is a producer feeding the lane of its peer's node id, so a peer's messages stay
/// in order across a reconnect and the number of lanes is bounded by the validator set. A producer
/// suspends in `push` while its lane is full; a consumer suspends in `next` while every lane is
/// empty. Both honour task cancellation.
final class Inbox: Sendable {
    private struct Lane {
        var messages = CircularBuffer<[UInt8]>()
        var bytes = 0
        /// Open producers (connection ids) feeding this lane.
        var producers: Set<UInt64> = []
        /// Producers waiting for room, in arrival order.
        var waiting: [(producer: UInt64, continuation: CheckedContinuation<Bool, Never>)] = []

        func hasRoom(for size: Int, maxMessages: Int, maxBytes: Int) -> Bool {
            messages.count < maxMessages && (messages.isEmpty || bytes + size <= maxBytes)
        }

        var isIdle: Bool { messages.isEmpty && producers.isEmpty }
    }

    private struct State {
        var lanes: [String: Lane] = [:]
        /// Node ids whose lanes hold messages, each once, in service order.
        var ready = CircularBuffer<String>()
        var consumers: [(id: UInt64, continuation: CheckedContinuation<InboundMessage?, Never>)] = []
        var cancelledConsumers: Set<UInt64> = []
        var nextConsumerId: UInt64 = 0
        var finished = false
    }

    private enum PushStep {
        case handedOver(CheckedContinuation<InboundMessage?, Never>, InboundMessage)
        case appended
        case mustWait
        case refused
    }

    let laneMessages: Int
    let laneBytes: Int
    private let state = Mutex(State())

    init(laneMessages: Int, laneBytes: Int) {
        self.laneMessages = max(laneMessages, 1)
        self.laneBytes = max(laneBytes, 1)
    }

    /// Registers connection `producer` as a source of messages from `nodeId`.
    func register(producer: UInt64, nodeId: String) {
        state.withLock { s in
            guard !s.finished else { return }
            s.lanes[nodeId, default: Lane()].producers.insert(producer)
        }
    }

    /// Ends connection `producer`: a `push` it is waiting in returns false; messages it already added stay.
    func unregister(producer: UInt64, nodeId: String) {
        let waiting = state.withLock { s -> CheckedContinuation<Bool, Never>? in
            Self.remove(producer: producer, nodeId: nodeId, from: &s)
        }
        waiting?.resume(returning: false)
    }

    /// Messages and bytes waiting from `nodeId`.
    func laneUsage(_ nodeId: String) -> (messages: Int, bytes: Int) {
        state.withLock { s in s.lanes[nodeId].map { ($0.messages.count, $0.bytes) } ?? (0, 0) }
    }

    /// Adds a message from `nodeId` sent over connection `producer`, first waiting while the lane is full.
    ///
    /// Returns false, dropping the message, when the producer was unregistered, the inbox finished,
    /// or the task cancelled.
    func push(_ bytes: [UInt8], from nodeId: String, producer: UInt64) async -> Bool {
        while true {
            let step = state.withLock { s -> PushStep in
                guard !s.finished, var lane = s.lanes[nodeId], lane.producers.contains(producer) else { return .refused }
                guard lane.hasRoom(for: bytes.count, maxMessages: laneMessages, maxBytes: laneBytes) else {
                    return .mustWait
                }
                if !s.consumers.isEmpty {
                    let consumer = s.consumers.removeFirst()
                    return .handedOver(consumer.continuation, InboundMessage(from: nodeId, bytes: bytes))
                }
                if lane.messages.isEmpty { s.ready.append(nodeId) }
                lane.messages.append(bytes)
                lane.bytes += bytes.count
                s.lanes[nodeId] = lane
                return .appended
            }
            switch step {
            case .handedOver(let consumer, let message):
                consumer.resume(returning: message)
                return true
            case .appended:
                return true
            case .refused:
                return false
            case .mustWait:
                guard await waitForRoom(for: bytes.count, from: nodeId, producer: producer) else { return false }
            }
        }
    }

    /// Suspends until the lane of `nodeId` may have room for `size` bytes (true) or `producer` is done (false).
    private func waitForRoom(for size: Int, from nodeId: String, producer: UInt64) async -> Bool {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let now = state.withLock { s -> Bool? in
                    guard !s.finished, var lane = s.lanes[nodeId], lane.producers.contains(producer) else { return false }
                    if lane.hasRoom(for: size, maxMessages: laneMessages, maxBytes: laneBytes) { return true }
                    lane.waiting.append((producer, continuation))
                    s.lanes[nodeId] = lane
                    return nil
                }
                if let now { continuation.resume(returning: now) }
            }
        } onCancel: {
            // A cancelled producer is done for good: the connection is ending.
            unregister(producer: producer, nodeId: nodeId)
        }
    }

    /// The next message in round-robin order, waiting while there is none; nil when finished or cancelled.
    func next() async -> InboundMessage? {
        let (message, wake, id) = state.withLock {
            s -> (InboundMessage?, CheckedContinuation<Bool, Never>?, UInt64?) in
            if let taken = Self.take(&s) { return (taken.0, taken.1, nil) }
            if s.finished { return (nil, nil, nil) }
            let id = s.nextConsumerId
            s.nextConsumerId += 1
            return (nil, nil, id)
        }
        wake?.resume(returning: true)
        guard let id else { return message }
        defer { state.withLock { _ = $0.cancelledConsumers.remove(id) } }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<InboundMessage?, Never>) in
                let immediate = state.withLock { s -> (InboundMessage?, CheckedContinuation<Bool, Never>?)? in
                    if s.cancelledConsumers.remove(id) != nil { return (nil, nil) }
                    if let taken = Self.take(&s) { return taken }
                    if s.finished { return (nil, nil) }
                    s.consumers.append((id, continuation))
                    return nil
                }
                if let immediate {
                    immediate.1?.resume(returning: true)
                    continuation.resume(returning: immediate.0)
                }
            }
        } onCancel: {
            let waiting = state.withLock { s -> CheckedContinuation<InboundMessage?, Never>? in
                if let index = s.consumers.firstIndex(where: { $0.id == id }) {
                    return s.consumers.remove(at: index).continuation
                }
                s.cancelledConsumers.insert(id)
                return nil
            }
            waiting?.resume(returning: nil)
        }
    }

    /// Takes the head of the next ready lane; also returns one of that lane's waiting producers to wake.
    private static func take(_ s: inout State) -> (InboundMessage, CheckedContinuation<Bool, Never>?)? {
        while let nodeId = s.ready.popFirst() {
            guard var lane = s.lanes[nodeId], let bytes = lane.messages.popFirst() else { continue }
            lane.bytes -= bytes.count
            let wake = lane.waiting.isEmpty ? nil : lane.waiting.removeFirst().continuation
            if !lane.messages.isEmpty { s.ready.append(nodeId) }
            s.lanes[nodeId] = lane.isIdle ? nil : lane
            return (InboundMessage(from: nodeId, bytes: bytes), wake)
        }
        return nil
    }

    private static func remove(producer: UInt64, nodeId: String, from s: inout State) -> CheckedContinuation<Bool, Never>? {
        guard var lane = s.lanes[nodeId] else { return nil }
        lane.producers.remove(producer)
        var waiting: CheckedContinuation<Bool, Never>?
        if let index = lane.waiting.firstIndex(where: { $0.producer == producer }) {
            waiting = lane.waiting.remove(at: index).continuation
        }
        s.lanes[nodeId] = lane.isIdle ? nil : lane
        return waiting
    }

    /// Ends the inbox: consumers get what is buffered, then nil; producers are refused.
    func finish() {
        let (consumers, producers) = state.withLock { s in
            s.finished = true
            let consumers = s.consumers.map(\.continuation)
            s.consumers.removeAll()
            var producers: [CheckedContinuation<Bool, Never>] = []
            for (nodeId, var lane) in s.lanes {
                producers += lane.waiting.map(\.continuation)
                lane.waiting.removeAll()
                lane.producers.removeAll()
                s.lanes[nodeId] = lane.isIdle ? nil : lane
            }
            return (consumers, producers)
        }
        for c in consumers { c.resume(returning: nil) }
        for p in producers { p.resume(returning: false) }
    }
}
