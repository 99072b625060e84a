import Node
import Synchronization

/// An in-memory network of consensus transports for in-process multi-node tests: messages are
/// delivered in order per link; nodes can be cut off and reconnected.
public final class InMemoryHub: Sendable {
    struct State {
        var inboxes: [String: AsyncStream<(String, [UInt8])>.Continuation] = [:]
        var down: Set<String> = []
    }

    private let state = Mutex(State())
    let ids: [String]

    /// A hub for these node ids.
    public init(ids: [String]) { self.ids = ids }

    /// The transport of node `id`.
    public func transport(_ id: String) -> InMemoryTransport { InMemoryTransport(hub: self, id: id) }

    /// Cuts a node off (its messages and those to it are lost) or reconnects it.
    public func setDown(_ id: String, _ isDown: Bool) {
        state.withLock { if isDown { $0.down.insert(id) } else { $0.down.remove(id) } }
    }

    /// Registers node `id`'s inbox now and returns it: messages sent to `id` after this call are
    /// buffered in the stream, so a test can send and then read without racing a listener task.
    public func listen(_ id: String) -> AsyncStream<(String, [UInt8])> { register(id) }

    func register(_ id: String) -> AsyncStream<(String, [UInt8])> {
        let (stream, continuation) = AsyncStream.makeStream(of: (String, [UInt8]).self)
        state.withLock { $0.inboxes[id] = continuation }
        return stream
    }

    func unregister(_ id: String) {
        let c = state.withLock { $0.inboxes.removeValue(forKey: id) }
        c?.finish()
    }

    func deliver(from: String, to: String, _ bytes: [UInt8]) {
        let target = state.withLock { s -> AsyncStream<(String, [UInt8])>.Continuation? in
            guard !s.down.contains(from), !s.down.contains(to) else { return nil }
            return s.inboxes[to]
        }
        target?.yield((from, bytes))
    }

    func connected(_ id: String) -> [String] {
        state.withLock { s in
            guard !s.down.contains(id) else { return [] }
            return ids.filter { $0 != id && s.inboxes[$0] != nil && !s.down.contains($0) }
        }
    }
}

/// One node's end of an `InMemoryHub`.
public struct InMemoryTransport: ConsensusTransport {
    let hub: InMemoryHub
    let id: String

    public func send(to nodeId: String, _ bytes: [UInt8]) { hub.deliver(from: id, to: nodeId, bytes) }

    public func broadcast(_ bytes: [UInt8]) {
        for other in hub.ids where other != id { hub.deliver(from: id, to: other, bytes) }
    }

    public func receive(_ handler: @escaping @Sendable (String, [UInt8]) -> Void) async {
        let stream = hub.register(id)
        await withTaskCancellationHandler {
            for await (from, bytes) in stream { handler(from, bytes) }
        } onCancel: {
            hub.unregister(id)
        }
    }

    public var connectedPeers: [String] { hub.connected(id) }
}
