/// The subject or issuer name attributes that XiangChain uses: country (C), organisation (O),
/// role as organisational unit (OU) and name (CN).
public struct SM2DistinguishedName: Sendable, Hashable, CustomStringConvertible {
    /// Country (C), two letters, for example `CN`.
    public var country: String?
    /// Organisation (O): the consortium member.
    public var organization: String?
    /// Organisational unit (OU): the role.
    public var organizationalUnit: String?
    /// Common name (CN): the account or node name.
    public var commonName: String?

    /// A name from its attributes; absent ones are left out.
    public init(
        country: String? = nil, organization: String? = nil, organizationalUnit: String? = nil,
        commonName: String? = nil
    ) {
        self.country = country
        self.organization = organization
        self.organizationalUnit = organizationalUnit
        self.commonName = commonName
    }

    /// `CN=…,OU=…,O=…,C=…` (most specific first, as in RFC 4514).
    public var description: String {
        [("CN", commonName), ("OU", organizationalUnit), ("O", organization), ("C", country)]
            .compactMap { key, value in value.map { "\(key)=\($0)" } }
            .joined(separator: ",")
    }

    /// The attributes in the order they are written into a certificate (C, O, OU, CN).
    var attributes: [(field: String, value: String)] {
        [("C", country), ("O", organization), ("OU", organizationalUnit), ("CN", commonName)]
            .compactMap { field, value in value.map { (field, $0) } }
    }
}
