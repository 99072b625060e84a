import ChainCore
import ChainTesting
import CrabTraceContract
import Identity
import Testing

/// A farm's ponds pointing to their lease contracts in the 三资 WebAssembly contract (issue 14):
/// the consumer's story of a crab from a leased pond names the lease; malformed ponds are refused.
@Suite struct PondLeaseTests {
    static let lease: JSONValue = .object([
        "contract": .string("sanzi"), "village": .string("org9"), "id": .string("lease-pond-12"),
    ])

    @Test func theStoryOfACrabFromALeasedPondNamesItsLease() throws {
        let h = try CrabHarness()
        _ = try h.setUpRedeemable()
        let ring = h.printed(h.ringKey(1))
        #expect(try h.queries.verify(code: ring).details["pondLease"] == nil)
        // The lot's pond is P7: pointing another pond to a lease changes nothing.
        try h.ok(
            .association, "assoc",
            CrabCall.updateMember(org: "farmA", ponds: [CrabCall.Pond(pond: "P9", lease: ("sanzi", "org9", "lease-9"))]))
        #expect(try h.queries.verify(code: ring).details["pondLease"] == nil)
        try h.ok(
            .association, "assoc",
            CrabCall.updateMember(
                org: "farmA",
                ponds: [CrabCall.Pond(pond: "P7", lease: ("sanzi", "org9", "lease-pond-12")), CrabCall.Pond(pond: "P8")]))
        let verdict = try h.queries.verify(code: ring)
        #expect(verdict.status == .genuine)
        #expect(verdict.details["pondLease"] == Self.lease, "\(verdict.json.canonicalString)")
    }

    @Test func malformedPondsAreRefusedAndWriteNothing() throws {
        let h = try CrabHarness()
        try h.setUpMembersAndSeason()
        func update(_ ponds: JSONValue, org: String = "farmA") throws {
            try h.refused(
                "bad_args", .association, "assoc", "update_member", .object(["org": .string(org), "ponds": ponds]))
        }
        let pond: (String) -> JSONValue = { .object(["pond": .string($0)]) }
        try update(.string("P7"))
        try update(.array((0...32).map { pond("P\($0)") }))
        try update(.array([pond("P7"), pond("P7")]))
        try update(.array([pond("")]))
        try update(.array([pond(String(repeating: "塘", count: 65))]))
        try update(.array([.object(["pond": .string("P7"), "extra": .string("x")])]))
        try update(.array([.object(["pond": .string("P7"), "lease": .string("lease-1")])]))
        try update(
            .array([
                .object(["pond": .string("P7"), "lease": .object(["contract": .string("sanzi"), "village": .string("org9")])])
            ]))
        try update(
            .array([
                .object([
                    "pond": .string("P7"),
                    "lease": .object(["contract": .string("sanzi"), "village": .string("org 9"), "id": .string("l")]),
                ])
            ]))
        try update(
            .array([
                .object([
                    "pond": .string("P7"),
                    "lease": .object([
                        "contract": .string("sanzi"), "village": .string("org9"),
                        "id": .string(String(repeating: "a", count: 65)),
                    ]),
                ])
            ]))
        // Only farms have ponds.
        try update(.array([pond("P7")]), org: "merch")
        // 32 ponds are fine.
        try h.ok(
            .association, "assoc", CrabCall.updateMember(org: "farmA", ponds: (0..<32).map { CrabCall.Pond(pond: "P\($0)") }))
    }
}
