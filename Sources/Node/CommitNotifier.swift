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
/// not missed), then waits with a timeout. Cancellation and timeout release the slot. A
/// transaction the mempool drops for age (`expire`) ends its waits at once with `tx_expired`.
public final class CommitNotifier: Sendable {
    /// How a wait ends before its timeout.
    enum Resolution: Sendable {
        case committed(CommitOutcome)
        case expired
    }

    enum Slot {
        case registered
        case waiting(CheckedContinuation<Resolution?, Never>)
        case done(Resolution)
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
        let cont: CheckedContinuation<Resolution?, Never>? = state.withLock { s in
            let slot = s.slots[ticket.id]?.removeValue(forKey: ticket.token)
            if s.slots[ticket.id]?.isEmpty == true { s.slots[ticket.id] = nil }
            if case .waiting(let c) = slot { return c }
            return nil
        }
        cont?.resume(returning: nil)
    }

    /// Waits up to `timeout` for the outcome; nil on timeout or cancellation; throws `tx_expired`
    /// when the transaction was dropped for age (`expire`).
    public func wait(_ ticket: Ticket, timeout: Duration) async throws(ChainError) -> CommitOutcome? {
        let resolution = await withTaskGroup(of: Resolution?.self) { group in
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
        switch resolution {
        case .committed(let outcome)?: return outcome
        case .expired?: throw Mempool.expiredError(ticket.id)
        case nil: return nil
        }
    }

    private func waitUnbounded(_ ticket: Ticket) async -> Resolution? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Resolution?, Never>) in
                let immediate: Resolution?? = state.withLock { s in
                    switch s.slots[ticket.id]?[ticket.token] {
                    case .done(let r):
                        s.slots[ticket.id]?[ticket.token] = nil
                        return .some(r)
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
            let cont: CheckedContinuation<Resolution?, Never>? = state.withLock { s in
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
        resolve(outcomes.map { ($0.0, .committed($0.1)) })
    }

    /// Ends the waits for transactions the mempool dropped for age: their waiters throw `tx_expired`.
    public func expire(_ ids: [Hash256]) {
        resolve(ids.map { ($0, .expired) })
    }

    private func resolve(_ resolutions: [(Hash256, Resolution)]) {
        var toResume: [(CheckedContinuation<Resolution?, Never>, Resolution)] = []
        state.withLock { s in
            guard !s.slots.isEmpty else { return }
            for (id, resolution) in resolutions {
                guard let slots = s.slots[id] else { continue }
                for (token, slot) in slots {
                    switch slot {
                    case .waiting(let c):
                        toResume.append((c, resolution))
                        s.slots[id]?[token] = nil
                    case .registered:
                        s.slots[id]?[token] = .done(resolution)
                    case .done, .abandoned:
                        break
                    }
                }
                if s.slots[id]?.isEmpty == true { s.slots[id] = nil }
            }
        }
        for (c, r) in toResume { c.resume(returning: r) }
    }
}
