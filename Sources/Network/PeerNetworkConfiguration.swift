/// The settings of one node's peer network; the defaults suit a production consortium.
public struct PeerNetworkConfiguration: Sendable {
    /// The chain id; a peer whose hello names another chain is refused.
    public var chainId: String
    /// This node's id (the CN of its node certificate).
    public var nodeId: String
    /// Where to listen for peers; port 0 lets the system choose (see `PeerNetwork.listeningAddress`).
    public var listenAddress: PeerAddress

    /// Largest frame, in bytes, accepted or sent; a message may be one byte shorter (the kind byte).
    public var maxFrameSize: Int = 16 << 20
    /// Messages queued per peer before `send` reports `.queueFull`.
    public var outboundQueueMessages: Int = 1024
    /// Bytes queued per peer before `send` reports `.queueFull` (one message is always accepted into an empty queue).
    public var outboundQueueBytes: Int = 32 << 20
    /// Received messages buffered per peer before this node stops reading from it.
    public var inboundBufferMessages: Int = 256
    /// Received bytes buffered per peer before this node stops reading from it (one message always fits).
    public var inboundBufferBytes: Int = 32 << 20
    /// Time allowed from TCP accept or connect to a verified hello.
    public var handshakeTimeout: Duration = .seconds(5)
    /// Time allowed for a TCP connect.
    public var connectTimeout: Duration = .seconds(3)
    /// A ping is sent after this long without writing.
    public var keepaliveInterval: Duration = .seconds(5)
    /// A connection is closed when the peer stays silent this long while this node is reading.
    public var idleTimeout: Duration = .seconds(20)
    /// Time allowed for the TLS close_notify exchange when a connection closes.
    public var tlsShutdownTimeout: Duration = .seconds(2)
    /// Inbound connections allowed to be in their handshake at once; more are closed on accept.
    public var maxPendingHandshakes: Int = 64
    /// Inbound handshakes allowed at once from one IP address.
    public var maxPendingHandshakesPerAddress: Int = 4
    /// The redial policy.
    public var reconnectBackoff = ReconnectBackoff()

    /// A configuration with default limits.
    public init(chainId: String, nodeId: String, listenAddress: PeerAddress) {
        self.chainId = chainId
        self.nodeId = nodeId
        self.listenAddress = listenAddress
    }

    /// Longest message `send` and `broadcast` accept.
    public var maxMessageSize: Int { maxFrameSize - 1 }
}
