import ChainCore
import Consensus
import Foundation

/// The rounds a validator restored from a backup must stay out of: its lost copy may have voted,
/// timed out or proposed in any round up to where the network was when it was restored, and the
/// restored safety data no longer knows which. Until its replica is past `(epoch, round)` the
/// node sends none of its own proposals, votes or timeouts (it never signed them, so it cannot
/// sign twice); it still follows, commits and serves. Written by `xiangchain restore` to
/// `data/vote-fence.json` from the live validators' status.
public struct VoteFence: Codable, Sendable, Equatable {
    /// The configuration epoch the network was in.
    public var epoch: UInt64
    /// The highest consensus round any of the asked validators was in.
    public var round: UInt64

    /// Creates a fence.
    public init(epoch: UInt64, round: UInt64) {
        self.epoch = epoch
        self.round = round
    }

    /// Its file in a node home.
    public static func url(home: URL) -> URL { home.appendingPathComponent("data/vote-fence.json") }

    /// The fence of a node home, nil without one; `bad_config` for an unreadable file (a node
    /// must not start voting because its fence is damaged).
    public static func load(home: URL) throws(ChainError) -> VoteFence? {
        let url = url(home: home)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        do {
            return try JSONDecoder().decode(VoteFence.self, from: Data(contentsOf: url))
        } catch {
            throw ChainError(.badConfig, "vote fence \(url.path) is unreadable: \(error)")
        }
    }

    /// Writes it into a node home.
    public func write(home: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: Self.url(home: home), options: .atomic)
    }

    /// True when `message`, signed by this node, belongs to a round at or below the fence.
    public func holdsBack(_ message: ConsensusMessage) -> Bool {
        let at: (UInt64, UInt64)
        switch message {
        case .proposal(let b, _): at = (b.epoch, b.round)
        case .vote(let v): at = (v.data.epoch, v.data.round)
        case .timeout(let t, _): at = (t.epoch, t.round)
        default: return false
        }
        return at.0 < epoch || (at.0 == epoch && at.1 <= round)
    }
}
