import ChainCore
import Identity

/// A staff account of an org (without its secrets).
public struct Account: Sendable, Equatable {
    /// The org (the CA's org).
    public var org: String
    /// Login name, unique in the org.
    public var username: String
    /// The role in the account's certificate.
    public var role: Role
    /// Real name (off chain).
    public var name: String
    /// active or suspended.
    public var status: String
    /// Creation time, unix ms.
    public var createdAt: Int64
    /// The account's certificate, PEM.
    public var certificatePEM: String
    /// The real-name evidence transaction, once submitted.
    public var realNameTxid: String?

    /// The public view `{org, username, role, name}`.
    public var json: JSONValue {
        .object([
            "org": .string(org), "username": .string(username), "role": .string(role.rawValue), "name": .string(name),
        ])
    }

    /// The admin view: the public view plus status and creation time.
    public var adminJSON: JSONValue {
        var o = json.objectValue ?? [:]
        o["status"] = .string(status)
        o["createdAt"] = .int(createdAt)
        return .object(o)
    }
}

/// What an admin gives to create an account.
public struct NewAccount: Sendable {
    /// Login name: `[a-z0-9_-]{3,32}`.
    public var username: String
    /// Real name.
    public var name: String
    /// ID number.
    public var idNumber: String
    /// Phone, 5–20 digits.
    public var phone: String
    /// One of `AccountStore.assignableRoles`.
    public var role: Role
    /// At least 10 characters.
    public var password: String

    /// Creates the request.
    public init(username: String, name: String, idNumber: String, phone: String, role: Role, password: String) {
        self.username = username
        self.name = name
        self.idNumber = idNumber
        self.phone = phone
        self.role = role
        self.password = password
    }
}

/// A signed-in session: the account and its decrypted identity, in memory only.
public struct Session: Sendable {
    /// The bearer token (returned once at sign-in; only its SHA-256 is stored).
    public let token: String
    /// The account.
    public let account: Account
    /// The decrypted key with the certificate.
    public let identity: SigningIdentity
    /// Sign-in time, unix ms.
    public let createdAt: Int64
    /// Last use, unix ms.
    public var lastSeenAt: Int64

    /// When the session ends unless used again: 8 h idle, 24 h at most.
    public var expiresAt: Int64 {
        min(lastSeenAt + SessionStore.idleMillis, createdAt + SessionStore.maxSessionMillis)
    }
}

/// Sign-in refused because the account is locked; `retryAfter` seconds remain.
public struct AccountLocked: Error, Sendable {
    /// Seconds until the lock ends.
    public let retryAfter: Int64
}
