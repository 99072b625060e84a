import ChainCore
import NIOCore

/// The first byte of every frame payload.
enum FrameKind: UInt8, Sendable {
    /// The hello, exactly once, as the first frame of each direction.
    case hello = 0x01
    /// An opaque message for the layer above.
    case data = 0x02
    /// A keepalive; carries nothing and is never delivered.
    case ping = 0x03
}

/// The hello frame each side sends right after the TLS handshake: who it claims to be, on which chain.
///
/// Body after the kind byte: the 4 bytes `XCHN`, a u16 protocol version, then the chain id and
/// the node id as u32-length-prefixed UTF-8 strings (`docs/network.md`).
struct PeerHello: Sendable, Hashable {
    /// The magic that starts every hello body.
    static let magic: [UInt8] = Array("XCHN".utf8)
    /// The protocol version this implementation speaks on `ed25519` and `p256` chains.
    static let currentVersion: UInt16 = 1
    /// The version of hellos that carry a transport binding (`sm2` chains): version 1's fields,
    /// then the u32-length-prefixed SM2 signature of the binding (`TransportCredentials`).
    static let transportBindingVersion: UInt16 = 2
    /// Longest chain id or node id accepted, in bytes.
    static let maxNameLength = 256
    /// Longest hello frame accepted (the first-frame limit of the decoder).
    static let maxFrameSize = 1024

    /// Protocol version of the sender.
    var version: UInt16
    /// The chain the sender belongs to.
    var chainId: String
    /// The sender's node id.
    var nodeId: String
    /// On an `sm2` chain: the sender's SM2 node key's signature over its transport binding
    /// (chain id, node id, SHA-256 of its TLS certificate); empty otherwise.
    var binding: [UInt8]

    init(version: UInt16? = nil, chainId: String, nodeId: String, binding: [UInt8] = []) {
        self.version = version ?? (binding.isEmpty ? PeerHello.currentVersion : PeerHello.transportBindingVersion)
        self.chainId = chainId
        self.nodeId = nodeId
        self.binding = binding
    }

    /// The whole frame payload, kind byte included.
    func encode() -> [UInt8] {
        var w = BinaryWriter()
        w.u8(FrameKind.hello.rawValue)
        for b in Self.magic { w.u8(b) }
        w.u16(version)
        w.string(chainId)
        w.string(nodeId)
        if version == Self.transportBindingVersion { w.lengthPrefixed(binding) }
        return w.bytes
    }

    /// Parses a frame payload that must be a hello.
    static func decode(_ payload: [UInt8]) throws(ChainError) -> PeerHello {
        var r = BinaryReader(payload, maxFieldLength: maxNameLength)
        do throws(ChainError) {
            guard try r.u8() == FrameKind.hello.rawValue else {
                throw ChainError(.badHello, "the first frame is not a hello")
            }
            var magic: [UInt8] = []
            for _ in 0..<4 { magic.append(try r.u8()) }
            guard magic == Self.magic else { throw ChainError(.badHello, "hello does not start with XCHN") }
            let version = try r.u16()
            guard version == currentVersion || version == transportBindingVersion else {
                throw ChainError(
                    .unsupportedVersion,
                    "peer speaks protocol version \(version), this node \(currentVersion) and \(transportBindingVersion)")
            }
            let chainId = try r.string()
            let nodeId = try r.string()
            let binding = version == transportBindingVersion ? try r.lengthPrefixed() : []
            guard version == currentVersion || !binding.isEmpty else {
                throw ChainError(.badHello, "a version 2 hello without its transport binding")
            }
            try r.finish()
            return PeerHello(version: version, chainId: chainId, nodeId: nodeId, binding: binding)
        } catch let e where e.code == .decodingFailed {
            throw ChainError(.badHello, "hello does not parse: \(e.message)")
        }
    }
}
