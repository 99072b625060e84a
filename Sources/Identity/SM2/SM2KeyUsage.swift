/// The X.509 key usage bits (RFC 5280 4.2.1.3), with OpenSSL's bit values.
public struct SM2KeyUsage: OptionSet, Sendable, Hashable {
    /// The bits as OpenSSL reports them (`KU_*`).
    public let rawValue: UInt32

    /// Creates a set from OpenSSL's `KU_*` bits.
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Signatures other than on certificates and CRLs (transactions, TLS handshakes).
    public static let digitalSignature = SM2KeyUsage(rawValue: 0x0080)
    /// Non-repudiation (content commitment).
    public static let nonRepudiation = SM2KeyUsage(rawValue: 0x0040)
    /// Key encipherment.
    public static let keyEncipherment = SM2KeyUsage(rawValue: 0x0020)
    /// Data encipherment.
    public static let dataEncipherment = SM2KeyUsage(rawValue: 0x0010)
    /// Key agreement.
    public static let keyAgreement = SM2KeyUsage(rawValue: 0x0008)
    /// Signing certificates: CA certificates only.
    public static let keyCertSign = SM2KeyUsage(rawValue: 0x0004)
    /// Signing revocation lists.
    public static let cRLSign = SM2KeyUsage(rawValue: 0x0002)

    /// The names OpenSSL's configuration syntax uses for the bits that are set.
    var configurationNames: [String] {
        let names: [(SM2KeyUsage, String)] = [
            (.digitalSignature, "digitalSignature"), (.nonRepudiation, "nonRepudiation"),
            (.keyEncipherment, "keyEncipherment"), (.dataEncipherment, "dataEncipherment"),
            (.keyAgreement, "keyAgreement"), (.keyCertSign, "keyCertSign"), (.cRLSign, "cRLSign"),
        ]
        return names.compactMap { contains($0.0) ? $0.1 : nil }
    }
}
