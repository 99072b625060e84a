import ChainCore
import Identity
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle
import Synchronization

/// What `send` or `broadcast` did with a message for one peer.
public enum SendResult: Sendable, Hashable {
    /// Queued on the peer's connection; it is written unless that connection drops first.
    case queued
    /// Dropped: the peer's outbound queue is full (back-pressure; the peer reads slower than this node sends).
    case queueFull
    /// Dropped: there is no connection to the peer right now.
    case notConnected
}

/// Which side opened a connection.
public enum ConnectionDirection: String, Sendable, Hashable {
    /// The peer dialed this node.
    case inbound
    /// This node dialed the peer.
    case outbound
}

/// One live, authenticated connection, for status pages.
public struct PeerStatus: Sendable, Hashable {
    /// The peer's node id.
    public let nodeId: String
    /// Who dialed.
    public let direction: ConnectionDirection
    /// The peer's socket address, if known.
    public let remoteAddress: String?
    /// This node's number for the connection; a reconnect gets a higher one.
    public let connectionId: UInt64
    /// Messages waiting in the outbound queue.
    public let queuedMessages: Int
    /// Bytes waiting in the outbound queue.
    public let queuedBytes: Int
}

/// Counters since the network was created.
public struct PeerNetworkStatistics: Sendable, Hashable {
    /// Connections that completed the handshake.
    public var connectionsEstablished: Int
    /// Connections refused or failed during the handshake (TLS, certificate, hello).
    public var handshakesFailed: Int
    /// Messages `send` or `broadcast` dropped (`.queueFull` or `.notConnected`).
    public var messagesDropped: Int
    /// Messages delivered to `messages`.
    public var messagesReceived: Int
}

/// Node-to-node transport among validators: a full mesh of mutually authenticated TLS 1.3
/// connections carrying opaque, length-prefixed messages.
///
/// A `Service`: `run()` listens, dials the validators this node is responsible for (the lower
/// node id dials), redials with capped, jittered exponential backoff, and on graceful shutdown
/// closes the listener and every connection. `send` and `broadcast` never wait; each peer has a
/// bounded outbound queue and a full queue drops the message and says so. Received messages
/// arrive on `messages`. `docs/network.md` describes the wire format and the rules.
public final class PeerNetwork: Service, Sendable {
    /// The settings this network was created with.
    public let configuration: PeerNetworkConfiguration

    private struct Connection: Sendable {
        let id: UInt64
        let peer: ValidatorPeer
        let direction: ConnectionDirection
        let remoteAddress: String?
        let channel: any Channel
        let outbox: OutboundQueue
    }

    private struct Dialer: Sendable {
        let generation: UInt64
        let peer: ValidatorPeer
    }

    private struct DialRequest: Sendable {
        let nodeId: String
        let generation: UInt64
    }

    private enum Phase {
        case idle, running, stopped
    }

    private struct State {
        var trust: PeerTrust
        var caCertificatesPEM: [String]
        var phase = Phase.idle
        var listening: PeerAddress?
        var connections: [String: Connection] = [:]
        var dialers: [String: Dialer] = [:]
        var nextGeneration: UInt64 = 0
        var nextConnectionId: UInt64 = 0
        var pendingHandshakes = 0
        /// Inbound handshakes in progress per remote IP address.
        var pendingByAddress: [String: PendingSlots] = [:]
        /// Refusals since the last refusal warning, and when that was (uptime milliseconds).
        var refusedSinceLog = 0
        var lastRefusalLog: Int64 = -10_000
    }

    /// One address's handshakes in progress: all of them, and those counted in the shared limit.
    private struct PendingSlots {
        var total = 0
        var shared = 0
    }

    private final class Flag: Sendable {
        private let value = Atomic<Bool>(false)
        func set() { value.store(true, ordering: .relaxed) }
        var isSet: Bool { value.load(ordering: .relaxed) }
    }

    private let identity: NodeCredentials
    /// The transport binding this node's hellos carry (`sm2` chains), else empty.
    private let helloBinding: [UInt8]
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger
    private let inbox: Inbox
    private let accepted = AcceptQueue<NIOAsyncChannel<ByteBuffer, ByteBuffer>>()
    private let dialRequests: AsyncStream<DialRequest>
    private let dialContinuation: AsyncStream<DialRequest>.Continuation
    private let state: Mutex<State>
    private let established = Atomic<Int>(0)
    private let handshakeFailures = Atomic<Int>(0)
    private let dropped = Atomic<Int>(0)
    private let received = Atomic<Int>(0)

    /// Creates the network of the node `configuration.nodeId`, which presents `identity` (its node
    /// key and certificate), trusts the org CAs `caCertificatesPEM`, and accepts exactly the
    /// certificates of `validators` (the current validator set, this node included).
    public convenience init(
        configuration: PeerNetworkConfiguration, identity: SigningIdentity, caCertificatesPEM: [String],
        validators: [ValidatorPeer], eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger
    ) throws(ChainError) {
        try self.init(
            configuration: configuration,
            credentials: try NodeCredentials(key: identity.key, certificateDER: identity.certificateDER),
            caCertificatesPEM: caCertificatesPEM, validators: validators, eventLoopGroup: eventLoopGroup, logger: logger)
    }

    /// Creates the network of the node `configuration.nodeId` from its node key and node
    /// certificate PEM (as in a node's home directory); otherwise as the initializer taking a `SigningIdentity`.
    public convenience init(
        configuration: PeerNetworkConfiguration, nodeKey: SigningKey, certificatePEM: String, caCertificatesPEM: [String],
        validators: [ValidatorPeer], eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger
    ) throws(ChainError) {
        try self.init(
            configuration: configuration,
            credentials: try NodeCredentials(key: nodeKey, certificateDER: try KeyPEM.certificateDER(fromPEM: certificatePEM)),
            caCertificatesPEM: caCertificatesPEM, validators: validators, eventLoopGroup: eventLoopGroup, logger: logger)
    }

    private init(
        configuration: PeerNetworkConfiguration, credentials identity: NodeCredentials, caCertificatesPEM: [String],
        validators: [ValidatorPeer], eventLoopGroup: any EventLoopGroup, logger: Logger
    ) throws(ChainError) {
        guard configuration.maxFrameSize >= PeerHello.maxFrameSize, configuration.maxFrameSize <= Int(UInt32.max) else {
            throw ChainError(.badConfig, "maxFrameSize must be between \(PeerHello.maxFrameSize) and \(UInt32.max) bytes")
        }
        guard !configuration.nodeId.isEmpty, configuration.nodeId.utf8.count <= PeerHello.maxNameLength,
            !configuration.chainId.isEmpty, configuration.chainId.utf8.count <= PeerHello.maxNameLength
        else {
            throw ChainError(.badConfig, "node id and chain id must be 1–\(PeerHello.maxNameLength) bytes")
        }
        let trust = try PeerTrust(
            identity: identity, caCertificatesPEM: caCertificatesPEM, validators: validators,
            tlsShutdownTimeout: configuration.tlsShutdownTimeout)
        if let me = trust.validators[configuration.nodeId], me.certificateDER != identity.certificateDER {
            throw ChainError(
                .certificateMismatch, "the validator set lists another certificate for this node (\(configuration.nodeId))")
        }
        self.configuration = configuration
        self.identity = identity
        self.helloBinding = try identity.binding(chainId: configuration.chainId, nodeId: configuration.nodeId)
        self.eventLoopGroup = eventLoopGroup
        var logger = logger
        logger[metadataKey: "node"] = "\(configuration.nodeId)"
        self.logger = logger
        self.inbox = Inbox(laneMessages: configuration.inboundBufferMessages, laneBytes: configuration.inboundBufferBytes)
        (dialRequests, dialContinuation) = AsyncStream.makeStream(of: DialRequest.self)
        self.state = Mutex(State(trust: trust, caCertificatesPEM: caCertificatesPEM))
        if trust.validators[configuration.nodeId] == nil {
            logger.warning("this node is not in the validator set; peers will refuse it")
        }
    }

    // MARK: - Public API

    /// Received messages from every peer (see `InboundMessages`); ends when `run()` returns.
    public var messages: InboundMessages { InboundMessages(inbox: inbox) }

    /// Node ids with a live, authenticated connection, sorted.
    public var connectedPeers: [String] { state.withLock { $0.connections.keys.sorted() } }

    /// The live connections, sorted by node id.
    public var peerStatus: [PeerStatus] {
        state.withLock { s in
            s.connections.values.sorted { $0.peer.nodeId < $1.peer.nodeId }.map { c in
                let queued = c.outbox.queued
                return PeerStatus(
                    nodeId: c.peer.nodeId, direction: c.direction, remoteAddress: c.remoteAddress, connectionId: c.id,
                    queuedMessages: queued.messages, queuedBytes: queued.bytes)
            }
        }
    }

    /// The address the listener is bound to while `run()` is active (its port is the real one when configured as 0).
    public var listeningAddress: PeerAddress? { state.withLock { $0.listening } }

    /// Counters since the network was created.
    public var statistics: PeerNetworkStatistics {
        PeerNetworkStatistics(
            connectionsEstablished: established.load(ordering: .relaxed),
            handshakesFailed: handshakeFailures.load(ordering: .relaxed),
            messagesDropped: dropped.load(ordering: .relaxed),
            messagesReceived: received.load(ordering: .relaxed))
    }

    /// Queues `bytes` for the validator `nodeId` without waiting.
    ///
    /// Returns `.queueFull` or `.notConnected` when the message is dropped. Throws `message_too_large`
    /// over `configuration.maxMessageSize` bytes and `unknown_peer` for an id that is not another validator.
    @discardableResult
    public func send(to nodeId: String, _ bytes: [UInt8]) throws(ChainError) -> SendResult {
        try checkSize(bytes)
        let ownId = configuration.nodeId
        let connection = try state.withLock { s throws(ChainError) -> Connection? in
            guard nodeId != ownId, s.trust.validators[nodeId] != nil else {
                throw ChainError(.unknownPeer, "\(nodeId) is not another validator of the current set")
            }
            return s.connections[nodeId]
        }
        return offer(Self.dataFrame(bytes), to: connection)
    }

    /// Queues `bytes` for every other validator without waiting; returns what happened per node id.
    ///
    /// Throws `message_too_large` over `configuration.maxMessageSize` bytes.
    @discardableResult
    public func broadcast(_ bytes: [UInt8]) throws(ChainError) -> [String: SendResult] {
        try checkSize(bytes)
        let ownId = configuration.nodeId
        let targets = state.withLock { s in
            s.trust.validators.keys.filter { $0 != ownId }.map { ($0, s.connections[$0]) }
        }
        let frame = Self.dataFrame(bytes)
        var results: [String: SendResult] = [:]
        for (nodeId, connection) in targets { results[nodeId] = offer(frame, to: connection) }
        return results
    }

    /// Replaces the validator set (and, when given, the trusted org CA certificates).
    ///
    /// Connections to peers no longer listed with the same certificate are closed; dialing starts
    /// or stops to match the new set. New connections use the new trust at once.
    public func update(validators: [ValidatorPeer], caCertificatesPEM: [String]? = nil) throws(ChainError) {
        let roots = caCertificatesPEM ?? state.withLock { $0.caCertificatesPEM }
        let trust = try PeerTrust(
            identity: identity, caCertificatesPEM: roots, validators: validators,
            tlsShutdownTimeout: configuration.tlsShutdownTimeout)
        let ownId = configuration.nodeId
        let (stale, requests) = state.withLock { s -> ([Connection], [DialRequest]) in
            s.trust = trust
            s.caCertificatesPEM = roots
            var stale: [Connection] = []
            for (nodeId, c) in s.connections where trust.validators[nodeId]?.fingerprint != c.peer.fingerprint {
                stale.append(c)
                s.connections[nodeId] = nil
            }
            let requests = s.phase == .running ? Self.reconcileDialers(&s, ownId: ownId) : []
            return (stale, requests)
        }
        for c in stale {
            logger.info(
                "closing connection: peer left the validator set or changed certificate", metadata: ["peer": "\(c.peer.nodeId)"])
            close(c)
        }
        for r in requests { dialContinuation.yield(r) }
    }

    /// Listens, dials and serves connections until graceful shutdown or cancellation; call it once.
    ///
    /// Throws `bind_failed` when the listener cannot bind, `listener_failed` when it dies, and
    /// `already_running` on a second call.
    public func run() async throws {
        try state.withLock { s throws(ChainError) in
            guard s.phase == .idle else { throw ChainError(.alreadyRunning, "a PeerNetwork runs once") }
            s.phase = .running
        }
        defer { stop() }
        let listener = try await bind()
        let bound = listener.localAddress
        let ownId = configuration.nodeId
        let requests = state.withLock { s in
            if let bound, let port = bound.port {
                s.listening = try? PeerAddress(host: bound.ipAddress ?? configuration.listenAddress.host, port: port)
            }
            return Self.reconcileDialers(&s, ownId: ownId)
        }
        for r in requests { dialContinuation.yield(r) }
        logger.info("listening for peers", metadata: ["address": "\(bound.map { "\($0)" } ?? "?")"])
        try await cancelWhenGracefulShutdown {
            try await self.serve(listener: listener)
        }
        logger.info("peer network stopped")
    }

    // MARK: - Listening and dialing

    private typealias FrameChannel = NIOAsyncChannel<ByteBuffer, ByteBuffer>

    private func bind() async throws(ChainError) -> any Channel {
        let address = configuration.listenAddress
        do {
            return try await ServerBootstrap(group: eventLoopGroup)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .serverChannelOption(.backlog, value: 256)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try self.admit(channel) }
                }
                .bind(host: address.host, port: address.port).get()
        } catch {
            throw ChainError(.bindFailed, "cannot listen on \(address): \(error)")
        }
    }

    /// Sets up an accepted channel and queues it for the accept loop; runs on its event loop.
    /// A throw makes NIO close the channel.
    private func admit(_ channel: any Channel) throws {
        let address = channel.remoteAddress?.ipAddress ?? "?"
        guard takeHandshakeSlot(address: address) else {
            handshakeFailures.add(1, ordering: .relaxed)
            logRefusal(address: address)
            throw ChainError(.tooManyHandshakes, "too many inbound handshakes in progress")
        }
        do {
            try accepted.admit {
                let trust = currentTrust
                return try makeFrameChannel(
                    channel,
                    tls: trust.usesTransportBinding
                        ? NIOSSLServerHandler(context: trust.serverContext, customVerificationCallback: Self.acceptAnyLeaf)
                        : NIOSSLServerHandler(context: trust.serverContext))
            }
        } catch {
            releaseHandshakeSlot(address: address)
            throw error
        }
    }

    private func serve(listener: any Channel) async throws {
        let accepted = self.accepted
        listener.closeFuture.whenComplete { _ in accepted.close() }
        var listenerFailed = false
        await withDiscardingTaskGroup { group in
            group.addTask { await self.runDialers() }
            while let child = await accepted.next() {
                group.addTask { await self.accept(child) }
            }
            listenerFailed = !Task.isCancelled
            // Stopping: refuse new connections, then close the ones accepted but not yet served.
            accepted.close()
            try? await listener.close()
            for child in accepted.drain() {
                group.addTask { await self.accept(child) }
            }
            group.cancelAll()
        }
        if listenerFailed {
            throw ChainError(.listenerFailed, "the peer listener on \(configuration.listenAddress) closed unexpectedly")
        }
    }

    private func runDialers() async {
        await withDiscardingTaskGroup { group in
            for await request in dialRequests {
                group.addTask { await self.dial(request) }
            }
        }
    }

    private func accept(_ child: FrameChannel) async {
        let remote = child.channel.remoteAddress.map { "\($0)" }
        do {
            try await runConnection(child, direction: .inbound, expecting: nil)
        } catch {
            logger.warning("refused inbound connection", metadata: ["remote": "\(remote ?? "?")", "reason": "\(error)"])
        }
    }

    private func dial(_ request: DialRequest) async {
        var failures = 0
        while !Task.isCancelled, let peer = dialTarget(request), let address = peer.address {
            do {
                let channel = try await connect(to: address)
                try await runConnection(channel, direction: .outbound, expecting: peer)
                failures = 0
            } catch let error as ChainError {
                logger.warning(
                    "dial failed", metadata: ["peer": "\(peer.nodeId)", "address": "\(address)", "reason": "\(error)"])
            } catch {
                logger.debug("dial failed", metadata: ["peer": "\(peer.nodeId)", "address": "\(address)", "reason": "\(error)"])
            }
            guard !Task.isCancelled, dialTarget(request) != nil else { return }
            let delay = configuration.reconnectBackoff.delay(afterFailures: failures, random: Double.random(in: 0..<1))
            failures += 1
            do {
                try await Task.sleep(for: delay)
            } catch {
                return
            }
        }
    }

    private func connect(to address: PeerAddress) async throws -> FrameChannel {
        try await ClientBootstrap(group: eventLoopGroup)
            .connectTimeout(TimeAmount(configuration.connectTimeout))
            .connect(host: address.host, port: address.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let trust = self.currentTrust
                    let handler =
                        trust.usesTransportBinding
                        ? try NIOSSLClientHandler(
                            context: trust.clientContext, serverHostname: nil, customVerificationCallback: Self.acceptAnyLeaf)
                        : try NIOSSLClientHandler(context: trust.clientContext, serverHostname: nil)
                    return try self.makeFrameChannel(channel, tls: handler)
                }
            }
    }

    /// Adds TLS, framing and keepalive to a fresh channel; runs on its event loop.
    private func makeFrameChannel(_ channel: any Channel, tls: NIOSSLHandler) throws -> FrameChannel {
        let ops = channel.pipeline.syncOperations
        try ops.addHandler(tls)
        try ops.addHandler(
            ByteToMessageHandler(
                FrameDecoder(maxFrameSize: configuration.maxFrameSize, firstFrameLimit: PeerHello.maxFrameSize)))
        try ops.addHandler(FrameEncoder(maxFrameSize: configuration.maxFrameSize))
        try ops.addHandler(
            KeepaliveHandler(
                interval: TimeAmount(configuration.keepaliveInterval), idleTimeout: TimeAmount(configuration.idleTimeout),
                logger: logger))
        return try FrameChannel(
            wrappingChannelSynchronously: channel,
            configuration: .init(
                backPressureStrategy: .init(lowWatermark: 2, highWatermark: 4), inboundType: ByteBuffer.self,
                outboundType: ByteBuffer.self))
    }

    // MARK: - One connection

    /// Authenticates the peer, then serves the connection until it closes. Throws when the handshake fails.
    private func runConnection(_ channel: FrameChannel, direction: ConnectionDirection, expecting: ValidatorPeer?) async throws {
        let remote = channel.channel.remoteAddress.map { "\($0)" }
        let address = channel.channel.remoteAddress?.ipAddress ?? "?"
        try await channel.executeThenClose { inbound, outbound in
            var frames = inbound.makeAsyncIterator()
            let peer: ValidatorPeer
            do {
                peer = try await handshake(channel.channel, frames: &frames, outbound: outbound, expecting: expecting)
            } catch {
                handshakeFailures.add(1, ordering: .relaxed)
                if direction == .inbound { releaseHandshakeSlot(address: address) }
                throw error
            }
            if direction == .inbound { releaseHandshakeSlot(address: address) }
            await serve(
                channel.channel, frames: &frames, outbound: outbound, peer: peer, direction: direction, remote: remote)
        }
    }

    /// TLS verification on an `sm2` chain: the TLS handshake still proves possession of the
    /// presented transport key; whose key it is, the hello's SM2 binding decides (`handshake`).
    private static func acceptAnyLeaf(_: [NIOSSLCertificate], _ promise: EventLoopPromise<NIOSSLVerificationResult>) {
        promise.succeed(.certificateVerified)
    }

    private func handshake(
        _ channel: any Channel, frames: inout NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator,
        outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, expecting expected: ValidatorPeer?
    ) async throws(ChainError) -> ValidatorPeer {
        let timedOut = Flag()
        let deadline = channel.eventLoop.scheduleTask(in: TimeAmount(configuration.handshakeTimeout)) {
            timedOut.set()
            channel.close(promise: nil)
        }
        defer { deadline.cancel() }
        let ownId = configuration.nodeId
        let first: ByteBuffer?
        let certificate: NIOSSLCertificate?
        do {
            try await outbound.write(
                ByteBuffer(bytes: PeerHello(chainId: configuration.chainId, nodeId: ownId, binding: helloBinding).encode()))
            first = try await frames.next()
            certificate = first == nil ? nil : try await channel.nioSSL_peerCertificate().get()
        } catch {
            if timedOut.isSet {
                throw ChainError(.handshakeTimeout, "no verified hello within \(configuration.handshakeTimeout)")
            }
            if let e = error as? ChainError { throw e }
            throw ChainError(.handshakeFailed, "\(error)")
        }
        guard let first else {
            if timedOut.isSet {
                throw ChainError(.handshakeTimeout, "no verified hello within \(configuration.handshakeTimeout)")
            }
            throw ChainError(.handshakeFailed, "the peer closed the connection before its hello")
        }
        guard let certificate, let der = try? certificate.toDERBytes() else {
            throw ChainError(.handshakeFailed, "the peer presented no certificate")
        }
        let trust = currentTrust
        let peer: ValidatorPeer
        let hello: PeerHello
        if trust.usesTransportBinding {
            // sm2 chain: the TLS leaf is a transport certificate; the hello names the validator and
            // carries its SM2 node key's signature over that certificate, for this chain.
            hello = try PeerHello.decode(Array(first.readableBytesView))
            guard hello.chainId == configuration.chainId else {
                throw ChainError(
                    .wrongChain, "\(hello.nodeId) is on chain \"\(hello.chainId)\", not \"\(configuration.chainId)\"")
            }
            guard let claimed = trust.validators[hello.nodeId], let key = claimed.sm2PublicKey else {
                throw ChainError(.notAValidator, "\"\(hello.nodeId)\" is not one of the current validators")
            }
            let message = TransportCredentials.bindingMessage(
                chainId: configuration.chainId, nodeId: hello.nodeId, certificateDER: der)
            guard CryptoSuite.sm2.verify(signature: hello.binding, message: message, publicKey: key) else {
                throw ChainError(
                    .certificateMismatch,
                    "the TLS certificate of \(hello.nodeId) is not certified by its SM2 node key (transport binding)")
            }
            peer = claimed
        } else {
            guard let known = trust.validator(certificateDER: der) else {
                throw ChainError(
                    .notAValidator,
                    "the peer's certificate (SHA-256 \(Hash256.sha256(der).hex)) is not one of the current validators'")
            }
            peer = known
            hello = try PeerHello.decode(Array(first.readableBytesView))
            guard hello.chainId == configuration.chainId else {
                throw ChainError(.wrongChain, "\(peer.nodeId) is on chain \"\(hello.chainId)\", not \"\(configuration.chainId)\"")
            }
            guard hello.binding.isEmpty else {
                throw ChainError(.badHello, "\(peer.nodeId) sent a transport binding on a chain whose TLS uses node certificates")
            }
        }
        guard hello.nodeId == peer.nodeId else {
            throw ChainError(
                .nodeIDMismatch, "the certificate of \(peer.nodeId) was used to claim node id \"\(hello.nodeId)\"")
        }
        guard peer.nodeId != ownId else { throw ChainError(.selfConnection, "connected to itself") }
        if let expected {
            guard peer.nodeId == expected.nodeId else {
                throw ChainError(.unexpectedPeer, "dialed \(expected.nodeId) but \(peer.nodeId) answered")
            }
        } else {
            guard peer.nodeId.precedesAsNodeId(ownId) else {
                throw ChainError(.wrongDialDirection, "\(peer.nodeId) dialed, but the lower node id (\(ownId)) dials")
            }
        }
        return peer
    }

    private func serve(
        _ channel: any Channel, frames: inout NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator,
        outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, peer: ValidatorPeer, direction: ConnectionDirection,
        remote: String?
    ) async {
        let outbox = OutboundQueue(
            maxMessages: configuration.outboundQueueMessages, maxBytes: configuration.outboundQueueBytes)
        let registration = state.withLock { s -> (UInt64, Connection?)? in
            // The set may have changed, or the network stopped, while the handshake ran.
            guard s.phase == .running, s.trust.validators[peer.nodeId]?.fingerprint == peer.fingerprint else { return nil }
            s.nextConnectionId += 1
            let id = s.nextConnectionId
            let old = s.connections[peer.nodeId]
            s.connections[peer.nodeId] = Connection(
                id: id, peer: peer, direction: direction, remoteAddress: remote, channel: channel, outbox: outbox)
            return (id, old)
        }
        guard let (id, replaced) = registration else {
            logger.info(
                "closing connection: the validator set changed or the network is stopping", metadata: ["peer": "\(peer.nodeId)"])
            return
        }
        inbox.register(producer: id, nodeId: peer.nodeId)
        if let replaced {
            logger.info("replacing an older connection", metadata: ["peer": "\(peer.nodeId)"])
            close(replaced)
        }
        established.add(1, ordering: .relaxed)
        logger.info(
            "peer connected",
            metadata: ["peer": "\(peer.nodeId)", "direction": "\(direction.rawValue)", "remote": "\(remote ?? "?")"])

        var reason = "the peer closed the connection"
        await withDiscardingTaskGroup { group in
            group.addTask {
                for await frame in outbox.frames {
                    outbox.didDequeue(frame)
                    do {
                        try await outbound.write(frame)
                    } catch {
                        channel.close(promise: nil)
                        return
                    }
                }
            }
            do {
                reading: while let frame = try await frames.next() {
                    let kind = frame.getInteger(at: frame.readerIndex, as: UInt8.self).flatMap(FrameKind.init(rawValue:))
                    switch kind {
                    case .data:
                        guard await inbox.push(Array(frame.readableBytesView.dropFirst()), from: peer.nodeId, producer: id) else {
                            reason = "the connection is closing"
                            break reading
                        }
                        received.add(1, ordering: .relaxed)
                    case .ping:
                        continue
                    case .hello:
                        reason = "protocol violation: a second hello"
                        break reading
                    case nil:
                        reason = "protocol violation: unknown frame kind"
                        break reading
                    }
                }
            } catch {
                reason = "\(error)"
            }
            channel.close(promise: nil)
            group.cancelAll()
        }

        let current = state.withLock { s -> Bool in
            guard s.connections[peer.nodeId]?.id == id else { return false }
            s.connections[peer.nodeId] = nil
            return true
        }
        outbox.close()
        inbox.unregister(producer: id, nodeId: peer.nodeId)
        logger.info(
            "peer disconnected",
            metadata: ["peer": "\(peer.nodeId)", "reason": "\(reason)", "replaced": "\(!current)"])
    }

    // MARK: - State helpers

    private var currentTrust: PeerTrust { state.withLock { $0.trust } }

    private func close(_ c: Connection) {
        c.outbox.close()
        inbox.unregister(producer: c.id, nodeId: c.peer.nodeId)
        c.channel.close(promise: nil)
    }

    private func stop() {
        let open = state.withLock { s -> [Connection] in
            s.phase = .stopped
            s.listening = nil
            s.dialers.removeAll()
            let open = Array(s.connections.values)
            s.connections.removeAll()
            return open
        }
        for c in open { close(c) }
        dialContinuation.finish()
        inbox.finish()
    }

    /// A slot for an inbound handshake from `address`: at most `maxPendingHandshakesPerAddress`
    /// per address, and `maxPendingHandshakes` in all for addresses that are not a validator's.
    /// An outsider holding connections open therefore cannot lock the validators out: their
    /// addresses (from the validator set) are not counted against the shared limit.
    private func takeHandshakeSlot(address: String) -> Bool {
        let limit = configuration.maxPendingHandshakes
        let perAddress = configuration.maxPendingHandshakesPerAddress
        return state.withLock { s in
            var slots = s.pendingByAddress[address, default: PendingSlots()]
            guard slots.total < perAddress else { return false }
            if !s.trust.validators.values.contains(where: { $0.address?.host == address }) {
                guard s.pendingHandshakes < limit else { return false }
                s.pendingHandshakes += 1
                slots.shared += 1
            }
            slots.total += 1
            s.pendingByAddress[address] = slots
            return true
        }
    }

    /// Gives back a slot of `address`; a shared one first (which kind it took is counted, so a
    /// validator-set change in between cannot make the totals drift).
    private func releaseHandshakeSlot(address: String) {
        state.withLock { s in
            guard var slots = s.pendingByAddress[address] else { return }
            if slots.shared > 0 {
                slots.shared -= 1
                s.pendingHandshakes -= 1
            }
            slots.total -= 1
            s.pendingByAddress[address] = slots.total > 0 ? slots : nil
        }
    }

    /// One warning per 10 s at most, with the number of connections refused since the last.
    private func logRefusal(address: String) {
        let now = Int64(NIODeadline.now().uptimeNanoseconds / 1_000_000)
        let count: Int? = state.withLock { s in
            s.refusedSinceLog += 1
            guard now - s.lastRefusalLog >= 10_000 else { return nil }
            defer {
                s.refusedSinceLog = 0
                s.lastRefusalLog = now
            }
            return s.refusedSinceLog
        }
        if let count {
            logger.warning(
                "refusing connections: too many handshakes in progress",
                metadata: ["refused": "\(count)", "latest": "\(address)"])
        }
    }

    private func dialTarget(_ request: DialRequest) -> ValidatorPeer? {
        state.withLock { s in
            guard s.phase == .running, let d = s.dialers[request.nodeId], d.generation == request.generation else { return nil }
            return d.peer
        }
    }

    /// Starts a dialer for each validator this node must dial whose entry is new or changed; forgets the rest.
    private static func reconcileDialers(_ s: inout State, ownId: String) -> [DialRequest] {
        var wanted: [String: ValidatorPeer] = [:]
        for (nodeId, v) in s.trust.validators where ownId.precedesAsNodeId(nodeId) && v.address != nil {
            wanted[nodeId] = v
        }
        for nodeId in s.dialers.keys where wanted[nodeId] == nil { s.dialers[nodeId] = nil }
        var requests: [DialRequest] = []
        for (nodeId, v) in wanted.sorted(by: { $0.key < $1.key }) where s.dialers[nodeId]?.peer != v {
            s.nextGeneration += 1
            s.dialers[nodeId] = Dialer(generation: s.nextGeneration, peer: v)
            requests.append(DialRequest(nodeId: nodeId, generation: s.nextGeneration))
        }
        return requests
    }

    private func checkSize(_ bytes: [UInt8]) throws(ChainError) {
        guard bytes.count <= configuration.maxMessageSize else {
            throw ChainError(
                .messageTooLarge, "message of \(bytes.count) bytes exceeds the limit of \(configuration.maxMessageSize)")
        }
    }

    private func offer(_ frame: ByteBuffer, to connection: Connection?) -> SendResult {
        let result: SendResult
        switch connection?.outbox.offer(frame) {
        case .queued: result = .queued
        case .full: result = .queueFull
        case .closed, nil: result = .notConnected
        }
        if result != .queued { dropped.add(1, ordering: .relaxed) }
        return result
    }

    private static func dataFrame(_ bytes: [UInt8]) -> ByteBuffer {
        var frame = ByteBuffer()
        frame.reserveCapacity(bytes.count + 1)
        frame.writeInteger(FrameKind.data.rawValue)
        frame.writeBytes(bytes)
        return frame
    }
}
