import Foundation
import Testing

@testable import Node

/// Ports for local networks are chosen where no outgoing connection can take them between the
/// choice and the node's bind (CI once saw a bench network "not come up").
struct LocalPortsTests {
    @Test func blocksAreDrawnFromOutsideTheEphemeralRange() {
        let ephemeral = LocalPorts.ephemeralRange()
        for count in [1, 4, 7] {
            for _ in 0..<300 {
                let base = LocalPorts.freeBlock(count: count)
                let ports = (0..<count).flatMap { [base + $0, base + 1000 + $0] }
                #expect(ports.allSatisfy { !ephemeral.contains($0) }, "base \(base) for \(count) nodes overlaps \(ephemeral)")
                #expect(ports.allSatisfy { (1...65_535).contains($0) })
            }
        }
    }

    @Test func candidateBasesLieBelowTheRangeOrAboveItWhenBelowHasNoRoom() {
        let below = LocalPorts.candidateBases(count: 4, ephemeral: 32_768...60_999)
        #expect(below == 10_000...(32_768 - 1004))
        #expect(below.upperBound + 1000 + 3 < 32_768)

        // A range starting low leaves room only above it.
        let above = LocalPorts.candidateBases(count: 4, ephemeral: 1024...40_000)
        #expect(above == 40_001...(65_535 - 1003))

        // A range spanning nearly everything: no block can avoid it, still a valid base.
        let none = LocalPorts.candidateBases(count: 4, ephemeral: 1024...65_000)
        #expect(none.lowerBound == 10_000 && none.upperBound + 1003 <= 65_535)
    }

    @Test func theRangeFileIsParsedStrictly() {
        #expect(LocalPorts.parseRange("32768\t60999\n") == 32_768...60_999)
        #expect(LocalPorts.parseRange("1024 65535") == 1024...65_535)
        for bad in ["", "32768", "a b", "60999\t32768", "0\t100", "1\t70000", "1 2 3", "-5\t10"] {
            #expect(LocalPorts.parseRange(bad) == nil, "\(bad.debugDescription)")
        }
        #expect(LocalPorts.ephemeralRange(file: "/nonexistent/ip_local_port_range") == 32_768...60_999)
    }
}
