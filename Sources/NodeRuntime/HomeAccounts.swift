import Accounts
import ChainCore
import Foundation
import Identity
import Node

/// Console accounts made offline in a node home (the node stopped): `xiangchain account create`
/// and the demo's cast.
public enum HomeAccounts {
    /// Creates an account of `org` (default: the node's own org) in a node home, with a
    /// certificate from that org's CA as listed in the node's config.
    public static func create(home: URL, org: String?, _ new: NewAccount) throws -> Account {
        let nodeHome = try NodeHome(home)
        let dirs = (nodeHome.config.accountCA.map { [$0] } ?? []) + nodeHome.config.hostedAccountCAs
        let cas = try dirs.map { try CertificateAuthority(directory: URL(fileURLWithPath: $0)) }
        guard let ca = org.map({ o in cas.first { $0.org == o } }) ?? cas.first else {
            throw ChainError(
                .badConfig,
                "\(home.path)/config.json lists no account CA\(org.map { " of org \($0)" } ?? "") (accountCA, hostedAccountCAs)")
        }
        let store = try AccountStore(home: home, suite: nodeHome.genesis.suite)
        return try store.create(new, ca: ca, suite: nodeHome.genesis.suite).0
    }
}
