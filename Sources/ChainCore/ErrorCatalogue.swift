/// The error codes of XiangChain: every code a node, a contract or a tool can answer with, its
/// kind (which decides the HTTP status at the API edge) and one line saying what it means.
/// `docs/errors.md` is this table for people; a test keeps the two in step.
extension ErrorCode {
    // MARK: Requests and encoding

    /// A request or value has the wrong shape: missing, unknown or mistyped fields.
    public static let malformed = ErrorCode(
        "malformed", .invalid, area: "Requests and encoding",
        "a request or value has the wrong shape: missing, unknown or mistyped fields")
    /// Not strict JSON (RFC 8259): bad syntax, duplicate keys, invalid UTF-8, too deep, trailing bytes.
    public static let malformedJSON = ErrorCode(
        "malformed_json", .invalid, area: "Requests and encoding",
        "not strict JSON (RFC 8259): bad syntax, duplicate keys, invalid UTF-8, too deep, trailing bytes")
    /// A transaction body is not the JSON object the format requires.
    public static let malformedBody = ErrorCode(
        "malformed_body", .invalid, area: "Requests and encoding", "a transaction body is not the JSON object the format requires"
    )
    /// A field that must be base64 is not.
    public static let badBase64 = ErrorCode(
        "bad_base64", .invalid, area: "Requests and encoding", "a field that must be base64 is not")
    /// Binary data ends early, carries impossible lengths or trailing bytes.
    public static let decodingFailed = ErrorCode(
        "decoding_failed", .invalid, area: "Requests and encoding",
        "binary data ends early, carries impossible lengths or trailing bytes")
    /// A path or query parameter is out of range or malformed.
    public static let invalidParameter = ErrorCode(
        "invalid_parameter", .invalid, area: "Requests and encoding", "a path or query parameter is out of range or malformed")
    /// A body, transaction or field exceeds its size limit.
    public static let tooLarge = ErrorCode(
        "too_large", .tooLarge, area: "Requests and encoding", "a body, transaction or field exceeds its size limit")
    /// The route exists, but not for this HTTP method.
    public static let methodNotAllowed = ErrorCode(
        "method_not_allowed", .methodNotAllowed, area: "Requests and encoding", "the route exists, but not for this HTTP method")
    /// No such route, block, transaction or record.
    public static let notFound = ErrorCode(
        "not_found", .notFound, area: "Requests and encoding", "no such route, block, transaction or record")
    // MARK: Transactions and admission

    /// The transaction, block or peer belongs to another chain.
    public static let wrongChain = ErrorCode(
        "wrong_chain", .invalid, area: "Transactions and admission", "the transaction, block or peer belongs to another chain")
    /// The transaction's timestamp is too far from the node's clock.
    public static let staleTimestamp = ErrorCode(
        "stale_timestamp", .invalid, area: "Transactions and admission",
        "the transaction's timestamp is too far from the node's clock")
    /// No contract of that name runs on this chain.
    public static let unknownContract = ErrorCode(
        "unknown_contract", .invalid, area: "Transactions and admission", "no contract of that name runs on this chain")
    /// The contract has no such method.
    public static let unknownMethod = ErrorCode(
        "unknown_method", .invalid, area: "Transactions and admission", "the contract has no such method")
    /// A contract call's arguments are missing, unknown or out of range.
    public static let badArgs = ErrorCode(
        "bad_args", .invalid, area: "Transactions and admission",
        "a contract call's arguments are missing, unknown or out of range")
    /// The transaction is already pending or committed.
    public static let duplicateTx = ErrorCode(
        "duplicate_tx", .conflict, area: "Transactions and admission", "the transaction is already pending or committed")
    /// The transaction waited past the timestamp tolerance and was dropped without being committed.
    public static let txExpired = ErrorCode(
        "tx_expired", .gone, area: "Transactions and admission",
        "the transaction waited past the timestamp tolerance and was dropped without being committed; sign it again with a new timestamp"
    )
    /// The node's mempool is full; retry after the Retry-After delay.
    public static let mempoolFull = ErrorCode(
        "mempool_full", .unavailable, area: "Transactions and admission",
        "the node's mempool is full; retry after the Retry-After delay")
    /// An observer found no validator to take the transaction.
    public static let upstreamUnavailable = ErrorCode(
        "upstream_unavailable", .unavailable, area: "Transactions and admission",
        "an observer found no validator to take the transaction")
    /// A contract failed with an error that is not one of its documented codes.
    public static let contractError = ErrorCode(
        "contract_error", .fault, area: "Transactions and admission",
        "a contract failed with an error that is not one of its documented codes")
    /// A contract wrote a state key holding a NUL character (U+0000), which no key may hold.
    public static let badStateKey = ErrorCode(
        "bad_state_key", .rejected, area: "Transactions and admission",
        "a contract wrote a state key holding a NUL character (U+0000), which no key may hold")
    // MARK: Identity and signatures

    /// A signature does not verify with the signer's key.
    public static let badSignature = ErrorCode(
        "bad_signature", .unauthenticated, area: "Identity and signatures", "a signature does not verify with the signer's key")
    /// A certificate does not parse, or its subject, role or extensions are not acceptable.
    public static let badCertificate = ErrorCode(
        "bad_certificate", .unauthenticated, area: "Identity and signatures",
        "a certificate does not parse, or its subject, role or extensions are not acceptable")
    /// The certificate is not issued by the CA of any consortium organisation.
    public static let unknownCA = ErrorCode(
        "unknown_ca", .unauthenticated, area: "Identity and signatures",
        "the certificate is not issued by the CA of any consortium organisation")
    /// The certificate (or its CA's) validity has ended.
    public static let certificateExpired = ErrorCode(
        "certificate_expired", .unauthenticated, area: "Identity and signatures",
        "the certificate (or its CA's) validity has ended")
    /// The certificate is not valid yet.
    public static let certificateNotYetValid = ErrorCode(
        "certificate_not_yet_valid", .unauthenticated, area: "Identity and signatures", "the certificate is not valid yet")
    /// A key or signature of another crypto suite than the chain's.
    public static let wrongSuite = ErrorCode(
        "wrong_suite", .unauthenticated, area: "Identity and signatures",
        "a key or signature of another crypto suite than the chain's")
    /// A key file or key bytes do not parse as a key of the suite.
    public static let badKey = ErrorCode(
        "bad_key", .invalid, area: "Identity and signatures", "a key file or key bytes do not parse as a key of the suite")
    /// The bytes are not a signature of the chain's suite at all (SM2 and P-256: a DER SEQUENCE of two INTEGERs; Ed25519: 64 bytes).
    public static let malformedSignature = ErrorCode(
        "malformed_signature", .unauthenticated, area: "Identity and signatures",
        "the bytes are not a signature of the chain's suite at all (SM2 and P-256: a DER SEQUENCE of two INTEGERs; Ed25519: 64 bytes)"
    )
    /// A cryptographic library failed where it should not (OpenSSL: SM2, SM3, SM4, SM2
    /// certificates), or libsodium or the cofactored Ed25519 verifier answers the Ed25519
    /// self-test otherwise than the rules expect.
    public static let cryptoFailure = ErrorCode(
        "crypto_failure", .fault, area: "Identity and signatures",
        "a cryptographic library failed where it should not (OpenSSL: SM2, SM3, SM4, SM2 certificates), or libsodium or the cofactored Ed25519 verifier answers the Ed25519 self-test otherwise than the rules expect"
    )
    /// The signer's org may not hold its certificate's role (the chain's role policy).
    public static let roleNotPermitted = ErrorCode(
        "role_not_permitted", .forbidden, area: "Identity and signatures",
        "the signer's org may not hold its certificate's role (the chain's role policy)")
    /// The certificate, or the CA that issued it, is revoked.
    public static let certificateRevoked = ErrorCode(
        "certificate_revoked", .unauthenticated, area: "Identity and signatures",
        "the certificate, or the CA that issued it, is revoked")
    /// The signer's role may not call this method.
    public static let roleNotAllowed = ErrorCode(
        "role_not_allowed", .forbidden, area: "Identity and signatures", "the signer's role may not call this method")
    // MARK: Signed requests and console

    /// No valid session or signed-request headers.
    public static let unauthenticated = ErrorCode(
        "unauthenticated", .unauthenticated, area: "Signed requests and console", "no valid session or signed-request headers")
    /// A signed request's timestamp is outside the accepted window.
    public static let staleRequest = ErrorCode(
        "stale_request", .unauthenticated, area: "Signed requests and console",
        "a signed request's timestamp is outside the accepted window")
    /// A signed request whose nonce this node has already accepted (a replay).
    public static let replayedRequest = ErrorCode(
        "replayed_request", .unauthenticated, area: "Signed requests and console",
        "a signed request's nonce was already used with this node: sign each request anew")
    /// Wrong organisation, username or password.
    public static let badCredentials = ErrorCode(
        "bad_credentials", .unauthenticated, area: "Signed requests and console", "wrong organisation, username or password")
    /// The caller's role or org may not use this route.
    public static let forbidden = ErrorCode(
        "forbidden", .forbidden, area: "Signed requests and console", "the caller's role or org may not use this route")
    /// The console account is suspended.
    public static let accountSuspended = ErrorCode(
        "account_suspended", .forbidden, area: "Signed requests and console", "the console account is suspended")
    /// Too many requests from this client (failed sign-ins, lookups, submissions): retry after Retry-After.
    public static let tooManyRequests = ErrorCode(
        "too_many_requests", .rateLimited, area: "Signed requests and console",
        "too many requests from this client (failed sign-ins, lookups, submissions): retry after Retry-After")
    /// This node serves no console accounts.
    public static let accountsUnavailable = ErrorCode(
        "accounts_unavailable", .unavailable, area: "Signed requests and console", "this node serves no console accounts")
    /// The record (member, account, evidence, directory) already exists.
    public static let alreadyExists = ErrorCode(
        "already_exists", .conflict, area: "Signed requests and console",
        "the record (member, account, evidence, directory) already exists")
    /// An unexpected error inside the node (a bug: please report it).
    public static let internalError = ErrorCode(
        "internal_error", .fault, area: "Signed requests and console",
        "an unexpected error inside the node (a bug: please report it)")
    // MARK: Storage and chain

    /// The node's database cannot be opened or read now.
    public static let storageUnavailable = ErrorCode(
        "storage_unavailable", .unavailable, area: "Storage and chain", "the node's database cannot be opened or read now")
    /// Stored data does not decode: the node's database is damaged.
    public static let storageCorrupt = ErrorCode(
        "storage_corrupt", .fault, area: "Storage and chain", "stored data does not decode: the node's database is damaged")
    /// Data sealed at rest (account keys, personal data) does not open: altered, or the wrong key.
    public static let unsealFailed = ErrorCode(
        "unseal_failed", .fault, area: "Storage and chain",
        "data sealed at rest (account keys, personal data) does not open: altered, or the wrong key")
    /// The database belongs to another genesis.
    public static let genesisMismatch = ErrorCode(
        "genesis_mismatch", .fault, area: "Storage and chain", "the database belongs to another genesis")
    /// A height beyond what can be stored.
    public static let badHeight = ErrorCode(
        "bad_height", .invalid, area: "Storage and chain", "a height beyond what can be stored")
    /// A block does not extend the stored tip.
    public static let notNextBlock = ErrorCode(
        "not_next_block", .conflict, area: "Storage and chain", "a block does not extend the stored tip")
    /// A block's header, transactions or order are inconsistent.
    public static let badBlock = ErrorCode(
        "bad_block", .invalid, area: "Storage and chain", "a block's header, transactions or order are inconsistent")
    /// A block lacks a quorum of valid validator signatures.
    public static let noQuorum = ErrorCode(
        "no_quorum", .unauthenticated, area: "Storage and chain", "a block lacks a quorum of valid validator signatures")
    /// A quorum-certified block certifies another state than this node computed.
    public static let syncDiverged = ErrorCode(
        "sync_diverged", .fault, area: "Storage and chain",
        "a quorum-certified block certifies another state than this node computed")
    /// Block sync could not fetch from its source.
    public static let syncFailed = ErrorCode(
        "sync_failed", .peer, area: "Storage and chain", "block sync could not fetch from its source")
    /// The block's transaction bodies were pruned from this node (headers, results, state stay).
    public static let pruned = ErrorCode(
        "pruned", .gone, area: "Storage and chain",
        "the block's transaction bodies were pruned from this node (its header, results, proofs and the state stay)")
    /// A state snapshot's manifest or chunk does not match what its certificate covers.
    public static let snapshotMismatch = ErrorCode(
        "snapshot_mismatch", .peer, area: "Storage and chain",
        "a state snapshot's manifest or chunk does not match what its certificate covers (altered or garbage)")
    /// A snapshot chunk came out of order.
    public static let snapshotOutOfOrder = ErrorCode(
        "snapshot_out_of_order", .invalid, area: "Storage and chain", "a state snapshot chunk came out of order")
    /// A snapshot chunk exceeds the size a receiver takes.
    public static let snapshotChunkTooLarge = ErrorCode(
        "snapshot_chunk_too_large", .tooLarge, area: "Storage and chain", "a state snapshot chunk exceeds the size limit")
    /// A state snapshot's manifest is of the first version, which carries no committed ids.
    public static let snapshotOutdated = ErrorCode(
        "snapshot_outdated", .peer, area: "Storage and chain",
        "a state snapshot's manifest is of the first version (without the ids of recently committed transactions); take one written by a node of this version"
    )
    /// A snapshot can only be loaded into a node that holds no block yet.
    public static let storeNotEmpty = ErrorCode(
        "store_not_empty", .conflict, area: "Storage and chain",
        "a state snapshot can only be loaded into a node that holds no block yet")
    /// A transaction proof does not verify.
    public static let proofInvalid = ErrorCode(
        "proof_invalid", .invalid, area: "Storage and chain", "a transaction proof does not verify")
    // MARK: Configuration

    /// The genesis document is not valid.
    public static let badGenesis = ErrorCode("bad_genesis", .invalid, area: "Configuration", "the genesis document is not valid")
    /// A node setting is invalid.
    public static let badConfig = ErrorCode("bad_config", .invalid, area: "Configuration", "a node setting is invalid")
    /// The node is not in the validator set (and cannot observe).
    public static let notAValidator = ErrorCode(
        "not_a_validator", .invalid, area: "Configuration", "the node is not in the validator set (and cannot observe)")
    /// Validator ids are not unique, or one lacks a key.
    public static let badValidatorSet = ErrorCode(
        "bad_validator_set", .invalid, area: "Configuration", "validator ids are not unique, or one lacks a key")
    /// A validator entry is listed twice or its certificate is unusable.
    public static let badValidator = ErrorCode(
        "bad_validator", .invalid, area: "Configuration", "a validator entry is listed twice or its certificate is unusable")
    /// No usable CA certificates to trust.
    public static let badTrustRoots = ErrorCode(
        "bad_trust_roots", .invalid, area: "Configuration", "no usable CA certificates to trust")
    /// The TLS contexts cannot be built from the node's key and certificates.
    public static let tlsSetupFailed = ErrorCode(
        "tls_setup_failed", .fault, area: "Configuration", "the TLS contexts cannot be built from the node's key and certificates"
    )
    /// A file or directory could not be written.
    public static let writeFailed = ErrorCode(
        "write_failed", .fault, area: "Configuration", "a file or directory could not be written")
    // MARK: Peer network

    /// An address is not host:port.
    public static let badAddress = ErrorCode("bad_address", .invalid, area: "Peer network", "an address is not host:port")
    /// The p2p listener cannot bind its address.
    public static let bindFailed = ErrorCode(
        "bind_failed", .fault, area: "Peer network", "the p2p listener cannot bind its address")
    /// The p2p listener closed unexpectedly.
    public static let listenerFailed = ErrorCode(
        "listener_failed", .fault, area: "Peer network", "the p2p listener closed unexpectedly")
    /// The peer network was started twice.
    public static let alreadyRunning = ErrorCode(
        "already_running", .fault, area: "Peer network", "the peer network was started twice")
    /// The listener is closing.
    public static let shuttingDown = ErrorCode("shutting_down", .unavailable, area: "Peer network", "the listener is closing")
    /// A peer's first frame is not a valid hello.
    public static let badHello = ErrorCode("bad_hello", .peer, area: "Peer network", "a peer's first frame is not a valid hello")
    /// A peer speaks another protocol version.
    public static let unsupportedVersion = ErrorCode(
        "unsupported_version", .peer, area: "Peer network", "a peer speaks another protocol version")
    /// The TLS handshake with a peer failed.
    public static let handshakeFailed = ErrorCode(
        "handshake_failed", .peer, area: "Peer network", "the TLS handshake with a peer failed")
    /// A peer sent no verified hello in time.
    public static let handshakeTimeout = ErrorCode(
        "handshake_timeout", .peer, area: "Peer network", "a peer sent no verified hello in time")
    /// Too many inbound handshakes are in progress.
    public static let tooManyHandshakes = ErrorCode(
        "too_many_handshakes", .peer, area: "Peer network", "too many inbound handshakes are in progress")
    /// A peer's TLS certificate is not its validator certificate.
    public static let certificateMismatch = ErrorCode(
        "certificate_mismatch", .peer, area: "Peer network", "a peer's TLS certificate is not its validator certificate")
    /// A peer's hello names another node than its certificate.
    public static let nodeIDMismatch = ErrorCode(
        "node_id_mismatch", .peer, area: "Peer network", "a peer's hello names another node than its certificate")
    /// Another validator answered than the one dialed.
    public static let unexpectedPeer = ErrorCode(
        "unexpected_peer", .peer, area: "Peer network", "another validator answered than the one dialed")
    /// The peer is not another validator of the current set.
    public static let unknownPeer = ErrorCode(
        "unknown_peer", .peer, area: "Peer network", "the peer is not another validator of the current set")
    /// The node connected to itself.
    public static let selfConnection = ErrorCode("self_connection", .peer, area: "Peer network", "the node connected to itself")
    /// The higher node id dialed; the lower one dials.
    public static let wrongDialDirection = ErrorCode(
        "wrong_dial_direction", .peer, area: "Peer network", "the higher node id dialed; the lower one dials")
    /// A frame exceeds the frame size limit.
    public static let frameTooLarge = ErrorCode(
        "frame_too_large", .peer, area: "Peer network", "a frame exceeds the frame size limit")
    /// A message to send exceeds the frame size limit.
    public static let messageTooLarge = ErrorCode(
        "message_too_large", .invalid, area: "Peer network", "a message to send exceeds the frame size limit")
    /// A frame is empty or malformed.
    public static let malformedFrame = ErrorCode("malformed_frame", .peer, area: "Peer network", "a frame is empty or malformed")
    /// The stream ended inside a frame.
    public static let truncatedFrame = ErrorCode(
        "truncated_frame", .peer, area: "Peer network", "the stream ended inside a frame")
    /// The other side closed the connection mid-answer.
    public static let connectionClosed = ErrorCode(
        "connection_closed", .peer, area: "Peer network", "the other side closed the connection mid-answer")
    // MARK: Evidence

    /// Evidence metadata exceeds its size limit.
    public static let metaTooLarge = ErrorCode(
        "meta_too_large", .rejected, area: "Evidence", "evidence metadata exceeds its size limit")
    // MARK: Crab traceability

    /// Not a well-formed GS1 code, Digital Link URI or short code.
    public static let badCode = ErrorCode(
        "bad_code", .invalid, area: "Crab traceability", "not a well-formed GS1 code, Digital Link URI or short code")
    /// The secret presented with a code does not match.
    public static let badSecret = ErrorCode(
        "bad_secret", .rejected, area: "Crab traceability", "the secret presented with a code does not match")
    /// The org is not a registered member (or not of the required kind).
    public static let notAMember = ErrorCode(
        "not_a_member", .rejected, area: "Crab traceability", "the org is not a registered member (or not of the required kind)")
    /// The member is suspended by the regulator.
    public static let memberSuspended = ErrorCode(
        "member_suspended", .rejected, area: "Crab traceability", "the member is suspended by the regulator")
    /// The season has not been opened.
    public static let unknownSeason = ErrorCode(
        "unknown_season", .rejected, area: "Crab traceability", "the season has not been opened")
    /// The step lies outside the season.
    public static let outOfSeason = ErrorCode(
        "out_of_season", .rejected, area: "Crab traceability", "the step lies outside the season")
    /// The member has no quota in the season.
    public static let noQuota = ErrorCode(
        "no_quota", .rejected, area: "Crab traceability", "the member has no quota in the season")
    /// Rings beyond the member's quota (area × per-mu cap).
    public static let quotaExceeded = ErrorCode(
        "quota_exceeded", .rejected, area: "Crab traceability", "rings beyond the member's quota (area × per-mu cap)")
    /// Coupons would promise more crabs than the association's quota for the merchant.
    public static let paperCrabs = ErrorCode(
        "paper_crabs", .rejected, area: "Crab traceability",
        "coupons would promise more crabs than the association's quota for the merchant")
    /// The coupon's holder has not booked a redemption.
    public static let notBooked = ErrorCode(
        "not_booked", .rejected, area: "Crab traceability", "the coupon's holder has not booked a redemption")
    /// Coupons would promise more crabs than the inspected crabs the merchant holds (by size).
    public static let insufficientStock = ErrorCode(
        "insufficient_stock", .rejected, area: "Crab traceability",
        "coupons would promise more crabs than the inspected crabs the merchant holds, by size")
    /// Free text would put a phone or ID number on chain.
    public static let personalData = ErrorCode(
        "personal_data", .invalid, area: "Crab traceability",
        "free text holds what looks like a phone or ID number: personal data never goes on chain")
    /// The circuit breaker suspended the merchant's coupon issuance.
    public static let issuanceSuspended = ErrorCode(
        "issuance_suspended", .rejected, area: "Crab traceability", "the circuit breaker suspended the merchant's coupon issuance"
    )
    /// The ring was already commissioned.
    public static let ringReused = ErrorCode(
        "ring_reused", .rejected, area: "Crab traceability", "the ring was already commissioned")
    /// The ring is not allocated to the signer's org.
    public static let ringNotAllocated = ErrorCode(
        "ring_not_allocated", .rejected, area: "Crab traceability", "the ring is not allocated to the signer's org")
    /// The ring was never commissioned.
    public static let unknownRing = ErrorCode(
        "unknown_ring", .rejected, area: "Crab traceability", "the ring was never commissioned")
    /// The ring is not on a crab.
    public static let notTagged = ErrorCode("not_tagged", .rejected, area: "Crab traceability", "the ring is not on a crab")
    /// Tagging outside the farm's registered zone.
    public static let wrongZone = ErrorCode(
        "wrong_zone", .rejected, area: "Crab traceability", "tagging outside the farm's registered zone")
    /// The lot was already inspected; tag new crabs into a new lot.
    public static let lotClosed = ErrorCode(
        "lot_closed", .rejected, area: "Crab traceability", "the lot was already inspected; tag new crabs into a new lot")
    /// The lot already exists with other facts.
    public static let lotConflict = ErrorCode(
        "lot_conflict", .rejected, area: "Crab traceability", "the lot already exists with other facts")
    /// No crabs are tagged in that lot.
    public static let unknownLot = ErrorCode(
        "unknown_lot", .rejected, area: "Crab traceability", "no crabs are tagged in that lot")
    /// The lot has not been inspected.
    public static let notInspected = ErrorCode(
        "not_inspected", .rejected, area: "Crab traceability", "the lot has not been inspected")
    /// The lot failed inspection.
    public static let inspectionFailed = ErrorCode(
        "inspection_failed", .rejected, area: "Crab traceability", "the lot failed inspection")
    /// The lot is frozen by the regulator.
    public static let lotFrozen = ErrorCode(
        "lot_frozen", .rejected, area: "Crab traceability", "the lot is frozen by the regulator")
    /// The lot, ring or coupon is recalled.
    public static let recalled = ErrorCode(
        "recalled", .rejected, area: "Crab traceability", "the lot, ring or coupon is recalled")
    /// The box was never packed.
    public static let unknownBox = ErrorCode("unknown_box", .rejected, area: "Crab traceability", "the box was never packed")
    /// The SSCC was already used for a box.
    public static let boxExists = ErrorCode(
        "box_exists", .rejected, area: "Crab traceability", "the SSCC was already used for a box")
    /// The box was already delivered against a coupon.
    public static let boxUsed = ErrorCode(
        "box_used", .rejected, area: "Crab traceability", "the box was already delivered against a coupon")
    /// The signer's org does not hold the box.
    public static let notCustodian = ErrorCode(
        "not_custodian", .rejected, area: "Crab traceability", "the signer's org does not hold the box")
    /// The coupon was never issued.
    public static let unknownCoupon = ErrorCode(
        "unknown_coupon", .rejected, area: "Crab traceability", "the coupon was never issued")
    /// The coupon code was already issued.
    public static let couponReused = ErrorCode(
        "coupon_reused", .rejected, area: "Crab traceability", "the coupon code was already issued")
    /// The coupon has expired.
    public static let couponExpired = ErrorCode("coupon_expired", .rejected, area: "Crab traceability", "the coupon has expired")
    /// The coupon was refunded.
    public static let couponRefunded = ErrorCode(
        "coupon_refunded", .rejected, area: "Crab traceability", "the coupon was refunded")
    /// The coupon was already redeemed.
    public static let alreadyRedeemed = ErrorCode(
        "already_redeemed", .rejected, area: "Crab traceability", "the coupon was already redeemed")
    /// The coupon belongs to another merchant.
    public static let notOwner = ErrorCode(
        "not_owner", .rejected, area: "Crab traceability", "the coupon belongs to another merchant")
    /// The coupon has not expired yet.
    public static let notExpired = ErrorCode(
        "not_expired", .rejected, area: "Crab traceability", "the coupon has not expired yet")
    /// The object is not in a state that allows this step.
    public static let badState = ErrorCode(
        "bad_state", .rejected, area: "Crab traceability", "the object is not in a state that allows this step")
    /// A ring's crab is under the coupon's size.
    public static let wrongSize = ErrorCode(
        "wrong_size", .rejected, area: "Crab traceability", "a ring's crab is under the coupon's size")
    /// The box holds another number of crabs than the coupon.
    public static let wrongCount = ErrorCode(
        "wrong_count", .rejected, area: "Crab traceability", "the box holds another number of crabs than the coupon")
    /// No alert with that number.
    public static let unknownAlert = ErrorCode("unknown_alert", .rejected, area: "Crab traceability", "no alert with that number")
    /// No crab step was recorded by that transaction.
    public static let unknownTx = ErrorCode(
        "unknown_tx", .rejected, area: "Crab traceability", "no crab step was recorded by that transaction")
    /// The transaction already has an error declaration.
    public static let alreadyDeclared = ErrorCode(
        "already_declared", .rejected, area: "Crab traceability", "the transaction already has an error declaration")
    /// Only the step's signer (or the regulator) may declare it in error.
    public static let notSigner = ErrorCode(
        "not_signer", .rejected, area: "Crab traceability", "only the step's signer (or the regulator) may declare it in error")
    /// A stored crab record is not what the contract wrote.
    public static let corruptState = ErrorCode(
        "corrupt_state", .fault, area: "Crab traceability", "a stored crab record is not what the contract wrote")
    /// This node has no gateway identity to sign consumers' steps.
    public static let gatewayUnavailable = ErrorCode(
        "gateway_unavailable", .unavailable, area: "Crab traceability",
        "this node has no gateway identity to sign consumers' steps")
    /// This node has no gateway identity: the scan was not recorded.
    public static let noGateway = ErrorCode(
        "no_gateway", .unavailable, area: "Crab traceability", "this node has no gateway identity: the scan was not recorded")
    /// Not a mobile phone number the consumer flows accept.
    public static let badPhone = ErrorCode(
        "bad_phone", .invalid, area: "Crab traceability",
        "not a phone number: 11 digits of a mainland mobile (spaces, dashes, +86, full-width digits allowed) or + and 7–15 digits"
    )
    /// The one-time code is wrong; tries are left.
    public static let otpWrong = ErrorCode(
        "otp_wrong", .rejected, area: "Crab traceability", "the one-time code is wrong; a few more tries are left")
    /// No valid one-time code for this coupon and phone: expired, already used, or never sent.
    public static let otpExpired = ErrorCode(
        "otp_expired", .rejected, area: "Crab traceability",
        "no valid one-time code for this coupon and phone (expired, already used, or never sent): request a new one")
    /// Too many wrong one-time codes: the code is void.
    public static let otpExhausted = ErrorCode(
        "otp_exhausted", .rejected, area: "Crab traceability",
        "too many wrong one-time codes: the code is void, request a new one")
    /// The coupon was given to another phone: only its holder books or gives it.
    public static let notHolder = ErrorCode(
        "not_holder", .rejected, area: "Crab traceability",
        "the coupon was given to another phone: only its holder books or gives it")
    /// The SMS sender did not take the message.
    public static let smsFailed = ErrorCode(
        "sms_failed", .unavailable, area: "Crab traceability", "the SMS sender did not take the message; retry later")
    // MARK: EPCIS

    /// The EPCIS document or event is not valid against the schema or the CBV.
    public static let epcisInvalid = ErrorCode(
        "epcis_invalid", .invalid, area: "EPCIS", "the EPCIS document or event is not valid against the schema or the CBV")
    /// An event with that hash is already recorded.
    public static let epcisDuplicate = ErrorCode(
        "epcis_duplicate", .conflict, area: "EPCIS", "an event with that hash is already recorded")
    /// An EPCIS query parameter is unknown, repeated or malformed.
    public static let epcisBadQuery = ErrorCode(
        "epcis_bad_query", .invalid, area: "EPCIS", "an EPCIS query parameter is unknown, repeated or malformed")
    /// More captured events than one query may consider (EPCIS's QueryTooLargeException).
    public static let epcisQueryTooLarge = ErrorCode(
        "epcis_query_too_large", .tooLarge, area: "EPCIS",
        "more captured events than one query may consider: narrow it (for example with GE_recordTime)")
    /// The client asks for an EPCIS version this node does not speak (`GS1-EPCIS-Version`).
    public static let epcisUnsupportedVersion = ErrorCode(
        "epcis_unsupported_version", .notAcceptable, area: "EPCIS",
        "the request asks for an EPCIS version other than 2.0 (GS1-EPCIS-Version, -Min, -Max)")
    /// A capture body in a media type the route does not take.
    public static let unsupportedMediaType = ErrorCode(
        "unsupported_media_type", .unsupportedMediaType, area: "EPCIS",
        "the body is not in a media type the route takes (capture: application/json, application/ld+json, application/xml)")
    /// The node runs as many EPCIS queries as it allows.
    public static let epcisQueryBusy = ErrorCode(
        "epcis_query_busy", .unavailable, area: "EPCIS", "the node runs as many EPCIS queries as it allows; retry later")
    // MARK: Governance

    /// No proposal with that id.
    public static let proposalNotFound = ErrorCode(
        "proposal_not_found", .rejected, area: "Governance", "no proposal with that id")
    /// The proposal was already applied, rejected or failed.
    public static let proposalClosed = ErrorCode(
        "proposal_closed", .rejected, area: "Governance", "the proposal was already applied, rejected or failed")
    /// The proposal's time to collect votes has passed.
    public static let proposalExpired = ErrorCode(
        "proposal_expired", .rejected, area: "Governance", "the proposal's time to collect votes has passed")
    /// The org has already voted on the proposal.
    public static let alreadyVoted = ErrorCode(
        "already_voted", .rejected, area: "Governance", "the org has already voted on the proposal")
    /// A change does not apply to the configuration as it is (names, certificates, what must remain).
    public static let changeNotApplicable = ErrorCode(
        "change_not_applicable", .rejected, area: "Governance",
        "a change does not apply to the configuration as it is (names, certificates, what must remain)")

    // MARK: WebAssembly contracts

    /// A WebAssembly contract used up the transaction's fuel budget.
    public static let outOfFuel = ErrorCode(
        "out_of_fuel", .rejected, area: "WebAssembly contracts",
        "a WebAssembly contract used up the transaction's fuel budget")
    /// The block's WebAssembly fuel budget ran out before this transaction; submit it again.
    public static let blockFuelExhausted = ErrorCode(
        "block_fuel_exhausted", .unavailable, area: "WebAssembly contracts",
        "the block's WebAssembly fuel budget ran out before this transaction; submit it again")
    /// A WebAssembly contract trapped (unreachable, out-of-bounds access, division by zero, a bad pointer).
    public static let trap = ErrorCode(
        "trap", .rejected, area: "WebAssembly contracts",
        "a WebAssembly contract trapped (unreachable, out-of-bounds access, division by zero, a bad pointer)")
    /// A WebAssembly contract's memory or table went past its limit.
    public static let memoryLimit = ErrorCode(
        "memory_limit", .rejected, area: "WebAssembly contracts",
        "a WebAssembly contract's memory or table went past its limit")
    /// A WebAssembly contract's calls nested deeper than the interpreter stack allows.
    public static let callDepth = ErrorCode(
        "call_depth", .rejected, area: "WebAssembly contracts",
        "a WebAssembly contract's calls nested deeper than the interpreter stack allows")
    /// A WebAssembly host call broke a limit on keys, values, events, results or arguments.
    public static let limitExceeded = ErrorCode(
        "limit_exceeded", .rejected, area: "WebAssembly contracts",
        "a WebAssembly host call broke a limit on keys, values, events, results or arguments")
    /// A WebAssembly contract handed the host something malformed (a key that is not UTF-8, data that is not JSON).
    public static let badHostCall = ErrorCode(
        "bad_host_call", .rejected, area: "WebAssembly contracts",
        "a WebAssembly contract handed the host something malformed (a key that is not UTF-8, data that is not JSON)")
    /// A query of a WebAssembly contract tried to write state or emit an event.
    public static let readOnly = ErrorCode(
        "read_only", .rejected, area: "WebAssembly contracts",
        "a query of a WebAssembly contract tried to write state or emit an event")
    /// The contract is frozen by governance and takes no transactions.
    public static let contractFrozen = ErrorCode(
        "contract_frozen", .rejected, area: "WebAssembly contracts",
        "the contract is frozen by governance and takes no transactions")
    /// Not a valid WebAssembly module, or one the chain's rules refuse.
    public static let invalidModule = ErrorCode(
        "invalid_module", .invalid, area: "WebAssembly contracts",
        "not a valid WebAssembly module, or one the chain's rules refuse")
    /// The WebAssembly module is over the chain's size limit.
    public static let moduleTooLarge = ErrorCode(
        "module_too_large", .tooLarge, area: "WebAssembly contracts",
        "the WebAssembly module is over the chain's size limit")
    /// The module imports something other than the host functions of module xc.
    public static let forbiddenImport = ErrorCode(
        "forbidden_import", .invalid, area: "WebAssembly contracts",
        "the module imports something other than the host functions of module xc")
    /// The module uses floating-point types or instructions, which the chain refuses.
    public static let floatInstruction = ErrorCode(
        "float_instruction", .invalid, area: "WebAssembly contracts",
        "the module uses floating-point types or instructions, which the chain refuses")
    /// The module has a start function, which would run at instantiation.
    public static let startFunction = ErrorCode(
        "start_function", .invalid, area: "WebAssembly contracts",
        "the module has a start function, which would run at instantiation")
    /// The module lacks memory, xc_alloc or xc_call, or exports them with the wrong type.
    public static let badExport = ErrorCode(
        "bad_export", .invalid, area: "WebAssembly contracts",
        "the module lacks memory, xc_alloc or xc_call, or exports them with the wrong type")
    /// A table of the module starts larger than the chain's limit.
    public static let tableLimit = ErrorCode(
        "table_limit", .invalid, area: "WebAssembly contracts",
        "a table of the module starts larger than the chain's limit")
    /// No contract code with that hash is stored on chain.
    public static let codeNotFound = ErrorCode(
        "code_not_found", .notFound, area: "WebAssembly contracts",
        "no contract code with that hash is stored on chain")
    /// The chain configuration does not let the signer's org and role deploy contracts.
    public static let notDeployer = ErrorCode(
        "not_deployer", .forbidden, area: "WebAssembly contracts",
        "the chain configuration does not let the signer's org and role deploy contracts")
    /// A WebAssembly contract of that name exists already.
    public static let contractExists = ErrorCode(
        "contract_exists", .conflict, area: "WebAssembly contracts",
        "a WebAssembly contract of that name exists already; upgrade it instead")
    /// The uploaded parts of a module do not hash to the SHA-256 they were uploaded under.
    public static let codeMismatch = ErrorCode(
        "code_mismatch", .invalid, area: "WebAssembly contracts",
        "the uploaded parts of a module do not hash to the SHA-256 they were uploaded under")
    /// The node runs as many contract queries as it allows; retry later.
    public static let queryBusy = ErrorCode(
        "query_busy", .unavailable, area: "WebAssembly contracts",
        "the node runs as many contract queries as it allows; retry later")

    /// A WebAssembly contract asked a native contract for a query the chain does not offer to contracts.
    public static let queryNotAllowed = ErrorCode(
        "query_not_allowed", .rejected, area: "WebAssembly contracts",
        "a WebAssembly contract asked a native contract for a query the chain does not offer to contracts")

    // MARK: Labels and QR codes

    /// A QR Code needs at least one byte.
    public static let qrTextEmpty = ErrorCode(
        "qr_text_empty", .invalid, area: "Labels and QR codes", "a QR Code needs at least one byte")
    /// The text does not fit in a QR Code.
    public static let qrTextTooLong = ErrorCode(
        "qr_text_too_long", .invalid, area: "Labels and QR codes", "the text does not fit in a QR Code")
    /// The code does not fit its label at a readable module size.
    public static let qrTooDense = ErrorCode(
        "qr_too_dense", .invalid, area: "Labels and QR codes", "the code does not fit its label at a readable module size")
    /// The module size is out of range.
    public static let qrBadRenderSize = ErrorCode(
        "qr_bad_render_size", .invalid, area: "Labels and QR codes", "the module size is out of range")
    /// Libqrencode could not encode the text.
    public static let qrEncodeFailed = ErrorCode(
        "qr_encode_failed", .fault, area: "Labels and QR codes", "libqrencode could not encode the text")
    /// The label sheet's grid is out of range.
    public static let badSheetLayout = ErrorCode(
        "bad_sheet_layout", .invalid, area: "Labels and QR codes", "the label sheet's grid is out of range")
    /// More labels than the sheet holds.
    public static let sheetOverflow = ErrorCode(
        "sheet_overflow", .invalid, area: "Labels and QR codes", "more labels than the sheet holds")
    // MARK: Tools

    /// The CLI cannot reach the node's API.
    public static let nodeUnavailable = ErrorCode(
        "node_unavailable", .unavailable, area: "Tools", "the CLI cannot reach the node's API")
    /// A node process exited while starting.
    public static let nodeExited = ErrorCode("node_exited", .fault, area: "Tools", "a node process exited while starting")
    /// A node process did not become ready in time.
    public static let nodeTimeout = ErrorCode(
        "node_timeout", .unavailable, area: "Tools", "a node process did not become ready in time")
    /// A demo step did not end as the story expects.
    public static let demoFailed = ErrorCode("demo_failed", .fault, area: "Tools", "a demo step did not end as the story expects")
    /// The demo needs more orgs than the network has.
    public static let demoNeedsOrgs = ErrorCode(
        "demo_needs_orgs", .invalid, area: "Tools", "the demo needs more orgs than the network has")
    /// The benchmark could not run.
    public static let benchFailed = ErrorCode("bench_failed", .fault, area: "Tools", "the benchmark could not run")
    /// The benchmark's setup transactions were refused.
    public static let benchSetupFailed = ErrorCode(
        "bench_setup_failed", .fault, area: "Tools", "the benchmark's setup transactions were refused")

    /// A contract's sources did not compile or link to WebAssembly.
    public static let buildFailed = ErrorCode(
        "build_failed", .invalid, area: "Tools", "a contract's sources did not compile or link to WebAssembly")

    /// Every code of the catalogue, in the order of `docs/errors.md`.
    public static let catalogue: [ErrorCode] = [
        .malformed, .malformedJSON, .malformedBody, .badBase64, .decodingFailed, .invalidParameter, .tooLarge, .methodNotAllowed,
        .notFound, .wrongChain, .staleTimestamp, .unknownContract, .unknownMethod, .badArgs, .duplicateTx, .txExpired,
        .mempoolFull,
        .upstreamUnavailable, .contractError, .badStateKey, .badSignature, .badCertificate, .unknownCA, .certificateExpired,
        .certificateNotYetValid, .wrongSuite, .badKey, .malformedSignature, .cryptoFailure, .roleNotPermitted,
        .certificateRevoked, .roleNotAllowed, .unauthenticated,
        .staleRequest, .replayedRequest, .badCredentials,
        .forbidden, .accountSuspended, .tooManyRequests, .accountsUnavailable, .alreadyExists, .internalError,
        .storageUnavailable,
        .storageCorrupt, .unsealFailed, .genesisMismatch, .badHeight, .notNextBlock, .badBlock, .noQuorum, .syncDiverged,
        .syncFailed, .pruned, .snapshotMismatch, .snapshotOutOfOrder, .snapshotChunkTooLarge, .snapshotOutdated, .storeNotEmpty,
        .proofInvalid, .badGenesis, .badConfig, .notAValidator, .badValidatorSet, .badValidator, .badTrustRoots, .tlsSetupFailed,
        .writeFailed, .badAddress, .bindFailed, .listenerFailed, .alreadyRunning, .shuttingDown, .badHello, .unsupportedVersion,
        .handshakeFailed, .handshakeTimeout, .tooManyHandshakes, .certificateMismatch, .nodeIDMismatch, .unexpectedPeer,
        .unknownPeer, .selfConnection, .wrongDialDirection, .frameTooLarge, .messageTooLarge, .malformedFrame, .truncatedFrame,
        .connectionClosed, .metaTooLarge, .badCode, .badSecret, .notAMember, .memberSuspended, .unknownSeason, .outOfSeason,
        .noQuota, .quotaExceeded, .paperCrabs, .insufficientStock, .notBooked, .personalData, .issuanceSuspended, .ringReused,
        .ringNotAllocated, .unknownRing,
        .notTagged,
        .wrongZone, .lotClosed, .lotConflict, .unknownLot, .notInspected, .inspectionFailed, .lotFrozen, .recalled, .unknownBox,
        .boxExists, .boxUsed, .notCustodian, .unknownCoupon, .couponReused, .couponExpired, .couponRefunded, .alreadyRedeemed,
        .notOwner, .notExpired, .badState, .wrongSize, .wrongCount, .unknownAlert, .unknownTx, .alreadyDeclared, .notSigner,
        .corruptState, .gatewayUnavailable, .noGateway, .badPhone, .otpWrong, .otpExpired, .otpExhausted, .notHolder,
        .smsFailed, .epcisInvalid, .epcisDuplicate, .epcisBadQuery, .epcisQueryTooLarge,
        .epcisQueryBusy, .epcisUnsupportedVersion, .unsupportedMediaType,
        .proposalNotFound,
        .proposalClosed, .proposalExpired, .alreadyVoted, .changeNotApplicable, .outOfFuel, .blockFuelExhausted, .trap,
        .memoryLimit, .callDepth, .limitExceeded, .badHostCall, .readOnly, .contractFrozen, .invalidModule, .moduleTooLarge,
        .forbiddenImport, .floatInstruction, .startFunction, .badExport, .tableLimit, .codeNotFound, .notDeployer,
        .contractExists, .codeMismatch, .queryBusy, .queryNotAllowed, .qrTextEmpty,
        .qrTextTooLong, .qrTooDense, .qrBadRenderSize, .qrEncodeFailed, .badSheetLayout, .sheetOverflow, .nodeUnavailable,
        .nodeExited, .nodeTimeout, .demoFailed, .demoNeedsOrgs, .benchFailed, .benchSetupFailed, .buildFailed,
    ]
}
