import ChainCore
import NIOCore
import Synchronization

/// Hands accepted connections from the listener's event loops to the accept loop, without ever
/// dropping one.
///
/// NIO's async `bind` drops connections still buffered when its consumer stops, and dropping a
/// `NIOAsyncChannel` that never ran `executeThenClose` traps (swift-nio issues #2637, #2813).
/// Here the `NIOAsyncChannel` is created under the same lock that checks the queue is open, and
/// whatever is still queued at shutdown is drained and closed properly by the caller.
final class AcceptQueue<Element: Sendable>: Sendable {
    private struct State {
        var queue = CircularBuffer<Element>()
        var waiter: CheckedContinuation<Element?, Never>?
        var waiterCancelled = false
        var closed = false
    }

    private let state = Mutex(State())

    init() {}

    /// Creates the element with `make` and queues it; throws `shutting_down` (without calling `make`) once closed.
    func admit(_ make: () throws -> Element) throws -> Void {
        let handOver = try state.withLock { s -> (CheckedContinuation<Element?, Never>, Element)? in
            guard !s.closed else { throw ChainError(.shuttingDown, "the listener is closing") }
            let element = try make()
            if let waiter = s.waiter {
                s.waiter = nil
                return (waiter, element)
            }
            s.queue.append(element)
            return nil
        }
        if let (waiter, element) = handOver { waiter.resume(returning: element) }
    }

    /// The next accepted element; nil once closed and empty, or when the task is cancelled. One consumer at a time.
    func next() async -> Element? {
        if let ready = state.withLock({ s -> Element?? in
            if let first = s.queue.popFirst() { return .some(first) }
            return s.closed ? .some(nil) : nil
        }) {
            return ready
        }
        defer { state.withLock { $0.waiterCancelled = false } }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Element?, Never>) in
                let immediate = state.withLock { s -> Element?? in
                    if let first = s.queue.popFirst() { return .some(first) }
                    if s.closed || s.waiterCancelled { return .some(nil) }
                    s.waiter = continuation
                    return nil
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            let waiter = state.withLock { s -> CheckedContinuation<Element?, Never>? in
                s.waiterCancelled = true
                let w = s.waiter
                s.waiter = nil
                return w
            }
            waiter?.resume(returning: nil)
        }
    }

    /// Refuses further elements and wakes a waiting `next`; queued elements stay until taken or drained.
    func close() {
        let waiter = state.withLock { s -> CheckedContinuation<Element?, Never>? in
            s.closed = true
            let w = s.waiter
            s.waiter = nil
            return w
        }
        waiter?.resume(returning: nil)
    }

    /// Removes and returns the elements never taken.
    func drain() -> [Element] {
        state.withLock { s in
            let left = Array(s.queue)
            s.queue.removeAll()
            return left
        }
    }
}
