import ChainCore

/// What a certificate holder may do; carried in the certificate's subject OU.
public enum Role: String, Sendable, Codable, CaseIterable {
    /// An organisation's administrator (governance, accounts).
    case admin
    /// A node's own identity (p2p, block signatures).
    case node
    /// The crab industry association.
    case association
    /// A farm (养殖户).
    case farm
    /// A merchant (经销商).
    case merchant
    /// A testing lab.
    case lab
    /// A logistics firm.
    case logistics
    /// The market regulator.
    case regulator
    /// A consumer (identified when redeeming or complaining).
    case consumer
    /// A village collective's clerk (村集体经济组织报账员), in the 三资 contract (`contracts/sanzi`).
    case village
    /// A township's rural economic station (镇农经站), the 三资 contract's reviewer.
    case township
}

/// Who signed a transaction, as established from a verified certificate.
public struct SignerIdentity: Sendable, Hashable {
    /// Organisation (subject O), equal to the issuing CA's org.
    public let org: String
    /// Role (subject OU).
    public let role: Role
    /// Account name (subject CN).
    public let subject: String
    /// SHA-256 of the certificate's DER bytes: what storage files the certificate under.
    public let certificateHash: Hash256
    /// `certificateHash` in lowercase hex: how contracts, records and the API name the certificate.
    public let certificateFingerprint: String

    /// Creates an identity.
    public init(org: String, role: Role, subject: String, certificateHash: Hash256) {
        self.org = org
        self.role = role
        self.subject = subject
        self.certificateHash = certificateHash
        certificateFingerprint = certificateHash.hex
    }
}
