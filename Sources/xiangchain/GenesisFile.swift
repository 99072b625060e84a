import ChainCore
import Foundation
import Node

/// The parts of a genesis file that proof checking needs.
struct GenesisFile {
    let suite: CryptoSuite
    let keys: [String: [UInt8]]
    let quorum: Int
    let chainId: String

    static func load(_ path: String) throws -> GenesisFile {
        let g = try Genesis.load(from: URL(fileURLWithPath: path))
        return GenesisFile(suite: g.suite, keys: try g.validatorKeys(), quorum: g.quorum, chainId: g.chainId)
    }
}
