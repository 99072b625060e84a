import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Free TCP ports on 127.0.0.1 for local networks (devnet, bench, tests).
public enum LocalPorts {
    /// A base port P such that P..P+count−1 and P+1000..P+1000+count−1 are free now (the layout
    /// `init --base-port` uses for API and p2p ports).
    public static func freeBlock(count: Int) -> Int {
        for _ in 0..<200 {
            let base = Int.random(in: 20_000...40_000)
            if (0..<count).flatMap({ [base + $0, base + 1000 + $0] }).allSatisfy(isFree) { return base }
        }
        return 45_000
    }

    /// Whether `port` can be bound on 127.0.0.1 now.
    public static func isFree(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        let len = socklen_t(MemoryLayout<sockaddr_in>.size)
        return withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } } == 0
    }
}
