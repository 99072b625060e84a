import ChainCore
import Synchronization

/// The outcome of a committed transaction, as reported to a waiting client.
public struct CommitOutcome: Sendable, Hashable {
    /// Block height.
    public let height: UInt64
    /// Index in the block.
    public let index: Int
    /// Nil if it succeeded.
    public let error: ChainError?
}

/// Lets API requests wait for their transaction to be committed.
///
/// A caller registers before submitting (so a commit that happens before it starts waiting is
/// not missed), then waits with a timeout. Cancellation and timeout release the slot.
public final class CommitNotifier: Sendable {
    enum Slot {
        case registered
        case waiting(CheckedContinuation<CommitOutcome?, Never>)
        case done(CommitOutcome)
        case abandoned
    }

    /// A registration.
    public struct Ticket: Sendable, Hashable {
        let id: Hash256
        let token: UInt64
    }

    private struct State {
        var next: UInt64 = 0
        var slots: [Hash256: [UInt64: Slot]] = [:]
    }

    private let state = Mutex(State())

    /// Creates a notifier.
    public init() {}

    /// Registers interest in `id`.
    public func register(_ id: Hash256) -> Ticket {
        state.withLock { s in
            s.next += 1
            s.slots[id, default: [:]][s.next] = .registered
            return Ticket(id: id, token: s.next)
        }
    }

    /// Drops a registration that will not be waited on.
    public func cancel(_ ticket: Ticket) {
        let cont: CheckedContinuation<CommitOutcome?, Never>? = state.withLock { s in
            let slot = s.slots[ticket.id]?.removeValue(forKey: ticket.token)
            if s.slots[ticket.id]?.isEmpty == true { s.slots[ticket.id] = nil }
            if case .waiting(let c) = slot { return c }
            return nil
        }
        cont?.resume(returning: nil)
    }

    /// Waits up to `timeout` for the outcome; nil on timeout or cancellation.
    public func wait(_ ticket: Ticket, timeout: Duration) async -> CommitOutcome? {
        await withTaskGroup(of: CommitOutcome?.self) { group in
            group.addTask { await self.waitUnbounded(ticket) }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            self.cancel(ticket)
            return first
        }
    }

    private func waitUnbounded(_ ticket: Ticket) async -> CommitOutcome? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<CommitOutcome?, Never>) in
                let immediate: CommitOutcome?? = state.withLock { s in
                    switch s.slots[ticket.id]?[ticket.token] {
                    case .done(let o):
                        s.slots[ticket.id]?[ticket.token] = nil
                        return .some(o)
                    case .registered:
                        s.slots[ticket.id]?[ticket.token] = .waiting(c)
                        return nil
                    case .waiting, .abandoned, .none:
                        return .some(nil)
                    }
                }
                if let immediate { c.resume(returning: immediate) }
            }
        } onCancel: {
            let cont: CheckedContinuation<CommitOutcome?, Never>? = state.withLock { s in
                let slot = s.slots[ticket.id]?[ticket.token]
                switch slot {
                case .waiting(let c):
                    s.slots[ticket.id]?[ticket.token] = .abandoned
                    return c
                case .registered:
                    s.slots[ticket.id]?[ticket.token] = .abandoned
                    return nil
                default:
                    return nil
                }
            }
            cont?.resume(returning: nil)
        }
    }

    /// Reports committed outcomes to their waiters.
    public func notify(_ outcomes: [(Hash256, CommitOutcome)]) {
        var toResume: [(CheckedContinuation<CommitOutcome?, Never>, CommitOutcome)] = []
        state.withLock { s in
            guard !s.slots.isEmpty else { return }
            for (id, outcome) in outcomes {
                guard let slots = s.slots[id] else { continue }
                for (token, slot) in slots {
                    switch slot {
                    case .waiting(let c):
                        toResume.append((c, outcome))
                        s.slots[id]?[token] = nil
                    case .registered:
                        s.slots[id]?[token] = .done(outcome)
                    case .done, .abandoned:
                        break
                    }
                }
                if s.slots[id]?.isEmpty == true { s.slots[id] = nil }
            }
        }
        for (c, o) in toResume { c.resume(returning: o) }
    }
}
