import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Free TCP ports on 127.0.0.1 for local networks (devnet, bench, tests).
///
/// A port that is free when it is chosen must still be free when the node binds it a moment
/// later. Ports inside the kernel's ephemeral range (`net.ipv4.ip_local_port_range`, 32768–60999
/// by default) are not: every outgoing connection — the nodes dialling one another while the
/// network starts, clients, other tests — takes one of them at random and holds it, and a node
/// whose listening port was taken that way exits at start. So bases are drawn from below the
/// ephemeral range (or above it, where it leaves no room below).
public enum LocalPorts {
    /// A base port P such that P..P+count−1 and P+1000..P+1000+count−1 are free now (the layout
    /// `init --base-port` uses for API and p2p ports) and outside the ephemeral range.
    public static func freeBlock(count: Int) -> Int {
        let bases = candidateBases(count: count, ephemeral: ephemeralRange())
        for _ in 0..<200 {
            let base = Int.random(in: bases)
            if (0..<count).flatMap({ [base + $0, base + 1000 + $0] }).allSatisfy(isFree) { return base }
        }
        return bases.lowerBound
    }

    /// The bases whose block (P..P+1000+count−1) lies outside `ephemeral`: below it when at least
    /// 2,000 bases fit between port 10,000 and it, otherwise above it; if neither fits (a range
    /// set to span almost everything), anywhere from 10,000.
    static func candidateBases(count: Int, ephemeral: ClosedRange<Int>) -> ClosedRange<Int> {
        let span = 1000 + max(count, 1)  // the block covers base ... base + span − 1
        let floor = 10_000
        let belowTop = ephemeral.lowerBound - span
        if belowTop - floor >= 2000 { return floor...belowTop }
        let aboveBottom = max(ephemeral.upperBound + 1, floor)
        let aboveTop = 65_535 - span + 1
        if aboveTop - aboveBottom >= 2000 { return aboveBottom...aboveTop }
        return floor...max(floor, aboveTop)
    }

    /// The kernel's ephemeral port range, or Linux's default where it cannot be read.
    static func ephemeralRange(file: String = "/proc/sys/net/ipv4/ip_local_port_range") -> ClosedRange<Int> {
        let fallback = 32_768...60_999
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return fallback }
        return parseRange(text) ?? fallback
    }

    /// `"32768\t60999\n"` → 32768...60999; nil for anything else.
    static func parseRange(_ text: String) -> ClosedRange<Int>? {
        let parts = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" })
        guard parts.count == 2, let low = Int(parts[0]), let high = Int(parts[1]), 0 < low, low <= high, high <= 65_535
        else { return nil }
        return low...high
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
