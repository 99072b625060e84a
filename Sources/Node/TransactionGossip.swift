import ChainCore
import Consensus
import Synchronization

/// Gathers the transactions this node admits from clients into gossip messages: one channel-2
/// message (a `TransactionBatch`) per `maxBatch` transactions, or per `flushDelay` after the first
/// one waiting, whichever comes first.
///
/// One message per transaction cost a frame, a TLS record and a socket write per transaction per
/// peer; a batch costs them once. The receiving side is unchanged: it already takes batches.
/// Delivery stays best effort, as before (a full outbound queue drops the message).
final class TransactionGossip: Sendable {
    /// Most transactions in one message.
    let maxBatch: Int
    /// Longest a transaction waits for its batch to fill.
    let flushDelay: Duration
    private let send: @Sendable ([UInt8]) -> Void
    private let waiting = Mutex<[SignedTransaction]>([])
    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    /// A batcher that hands each encoded message (channel byte included) to `send`.
    init(maxBatch: Int = 256, flushDelay: Duration = .milliseconds(5), send: @escaping @Sendable ([UInt8]) -> Void) {
        self.maxBatch = max(1, maxBatch)
        self.flushDelay = flushDelay
        self.send = send
        (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// The gossip message for `txs`: channel byte 2, then the batch.
    static func message(_ txs: [SignedTransaction]) -> [UInt8] {
        PeerChannelMessage.transactions(txs).encoded
    }

    /// Queues one admitted transaction; sends at once when the batch is full.
    func add(_ tx: SignedTransaction) {
        let limit = maxBatch
        let (full, first) = waiting.withLock { w -> ([SignedTransaction]?, Bool) in
            w.append(tx)
            if w.count >= limit {
                let batch = w
                w.removeAll(keepingCapacity: true)
                return (batch, false)
            }
            return (nil, w.count == 1)
        }
        if let full {
            send(Self.message(full))
        } else if first {
            wake.yield()
        }
    }

    /// Sends whatever is waiting.
    func flush() {
        let batch = waiting.withLock { w -> [SignedTransaction] in
            let batch = w
            w.removeAll(keepingCapacity: true)
            return batch
        }
        if !batch.isEmpty { send(Self.message(batch)) }
    }

    /// Flushes `flushDelay` after a transaction arrives in an empty batch, until cancelled.
    func run() async {
        for await _ in wakeups {
            try? await Task.sleep(for: flushDelay)
            flush()
        }
        flush()
    }

    /// Ends `run()`.
    func finish() { wake.finish() }
}
