import CSMShim
import Synchronization

/// An SM2 public key (a point on the SM2 curve of GB/T 32918.5), parsed once and kept as an
/// OpenSSL key for fast repeated verification.
///
/// Keep one `SM2PublicKey` per signer and reuse it (`CryptoSuite.sm2` does, in a bounded cache):
/// parsing validates the point, and the first verification with a user id computes that id's Z
/// value once for all later ones.
public struct SM2PublicKey: Sendable, Hashable {
    package let storage: SM2PublicKeyStorage

    /// A public key from the 65-byte uncompressed point `04 || x || y`; throws `bad_key` unless
    /// the point lies on the SM2 curve.
    public init(rawRepresentation: [UInt8]) throws(ChainError) {
        var status: Int32 = 0
        guard let key = gm_sm2_public_from_point(rawRepresentation, rawRepresentation.count, &status) else {
            throw SM2KeyStorage.error(status, "an SM2 public key is a 65-byte point 04||x||y on the SM2 curve")
        }
        storage = SM2PublicKeyStorage(SM2KeyStorage(key), point: rawRepresentation)
    }

    /// A public key from a DER SubjectPublicKeyInfo (id-ecPublicKey on curve 1.2.156.10197.1.301).
    public init(derRepresentation: [UInt8]) throws(ChainError) {
        var status: Int32 = 0
        guard let key = gm_sm2_public_from_der(derRepresentation, derRepresentation.count, &status) else {
            throw SM2KeyStorage.error(status, "SM2 SubjectPublicKeyInfo")
        }
        let box = SM2KeyStorage(key)
        storage = SM2PublicKeyStorage(box, point: try box.publicPoint())
    }

    /// A public key from PEM ("PUBLIC KEY", a SubjectPublicKeyInfo).
    public init(pemRepresentation: String) throws(ChainError) {
        var status: Int32 = 0
        let utf8 = Array(pemRepresentation.utf8)
        guard let key = gm_sm2_public_from_pem(utf8.map { CChar(bitPattern: $0) }, utf8.count, &status) else {
            throw SM2KeyStorage.error(status, "SM2 public key PEM")
        }
        let box = SM2KeyStorage(key)
        storage = SM2PublicKeyStorage(box, point: try box.publicPoint())
    }

    /// The 65-byte uncompressed point `04 || x || y`.
    public var rawRepresentation: [UInt8] { storage.point }

    /// The DER SubjectPublicKeyInfo.
    public var derRepresentation: [UInt8] {
        var out: UnsafeMutablePointer<UInt8>?
        var count = 0
        guard gm_sm2_public_to_der(storage.box.key, &out, &count) == GM_OK else {
            preconditionFailure("encoding an SM2 public key failed: \(OpenSSL.lastError())")
        }
        return OpenSSL.take(out, count: count)
    }

    /// The PEM SubjectPublicKeyInfo ("PUBLIC KEY").
    public var pemRepresentation: String {
        var out: UnsafeMutablePointer<CChar>?
        var count = 0
        guard gm_sm2_public_to_pem(storage.box.key, &out, &count) == GM_OK else {
            preconditionFailure("encoding an SM2 public key failed: \(OpenSSL.lastError())")
        }
        return OpenSSL.takeString(out, count: count)
    }

    /// Whether `signature` (DER `SEQUENCE { r, s }`) is a valid SM2 signature over `message` with
    /// SM3 and the Z value of `userID`. False for anything malformed: bad or non-minimal DER,
    /// trailing bytes, r or s outside [1, n-1], an over-long user id.
    public func verify(signature: [UInt8], message: [UInt8], userID: [UInt8] = SM2.defaultUserID) -> Bool {
        guard (8...SM2.maxSignatureByteCount).contains(signature.count), userID.count <= SM2.maxUserIDByteCount else {
            return false
        }
        return storage.verify(signature: signature, message: message, userID: userID)
    }

    /// Verification without the per-key cache: a fresh OpenSSL context and Z value every call.
    /// For measurements and tests; ``verify(signature:message:userID:)`` gives the same answers.
    package func verifyUncached(signature: [UInt8], message: [UInt8], userID: [UInt8] = SM2.defaultUserID) -> Bool {
        gm_sm2_verify(storage.box.key, userID, userID.count, message, message.count, signature, signature.count) == 1
    }

    /// Keys are equal when their points are.
    public static func == (lhs: SM2PublicKey, rhs: SM2PublicKey) -> Bool {
        lhs.storage.point == rhs.storage.point
    }

    /// Hashes the point.
    public func hash(into hasher: inout Hasher) { hasher.combine(storage.point) }
}

/// The OpenSSL key of a public key, its point, and its verification cache.
package final class SM2PublicKeyStorage: Sendable {
    /// The OpenSSL key.
    package let box: SM2KeyStorage
    let point: [UInt8]
    private let cache = Mutex(SM2VerifyCache())

    init(_ box: SM2KeyStorage, point: [UInt8]) {
        self.box = box
        self.point = point
    }

    func verify(signature: [UInt8], message: [UInt8], userID: [UInt8]) -> Bool {
        // Under the lock: make sure the prototype is for this user id, and copy it into a work
        // context (a fraction of a microsecond). Outside: the SM3 of the message and the
        // point arithmetic, which is where the time goes.
        let work: DigestContextHandle? = cache.withLock { state in
            if state.prototype == nil || state.userID != userID {
                guard let fresh = gm_sm2_verify_prototype(box.key, userID, userID.count) else {
                    gm_clear_errors()
                    return nil
                }
                if let old = state.prototype { gm_md_free(old.pointer) }
                state.prototype = DigestContextHandle(pointer: fresh)
                state.userID = userID
            }
            guard let prototype = state.prototype,
                let context = state.spare.popLast()?.pointer ?? gm_md_ctx_new()
            else { return nil }
            guard gm_md_copy_into(context, prototype.pointer) == GM_OK else {
                gm_md_free(context)
                gm_clear_errors()
                return nil
            }
            return DigestContextHandle(pointer: context)
        }
        guard let work else {
            // Out of memory or a broken OpenSSL: fall back to the plain path, which fails closed.
            return gm_sm2_verify(box.key, userID, userID.count, message, message.count, signature, signature.count) == 1
        }
        let valid = gm_sm2_verify_continue(work.pointer, message, message.count, signature, signature.count) == 1
        let kept: Bool = cache.withLock { state in
            guard state.spare.count < SM2VerifyCache.maxSpare else { return false }
            state.spare.append(work)
            return true
        }
        if !kept { gm_md_free(work.pointer) }
        return valid
    }
}
