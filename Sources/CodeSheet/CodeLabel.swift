/// One printed label: a QR Code of `uri`, the `shortCode` under it for people, and a caption.
public struct CodeLabel: Sendable, Hashable {
    /// What the QR Code encodes, typically a GS1 Digital Link URI with a verification key.
    public var uri: String
    /// A short human-readable code printed under the symbol, for typing in when scanning fails.
    public var shortCode: String
    /// A line describing the product, such as `阳澄湖大闸蟹 · 2026 · ring 000123`.
    public var caption: String

    /// Creates a label.
    public init(uri: String, shortCode: String, caption: String) {
        self.uri = uri
        self.shortCode = shortCode
        self.caption = caption
    }
}
