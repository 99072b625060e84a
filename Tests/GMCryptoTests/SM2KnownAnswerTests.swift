import CSMTestSupport
import Identity
import Testing

@testable import ChainCore

/// The SM2 signature examples of the standards, computed with the standard's k. OpenSSL's EVP
/// API cannot take a chosen k, so the signature equation is evaluated here with OpenSSL's own
/// EC_GROUP, EC_POINT_mul and BN_mod_* (CSMTestSupport); nothing is hand-written but the
/// equation itself.
@Suite("SM2 known answers")
struct SM2KnownAnswerTests {
    struct Curve {
        let p, a, b, gx, gy, n: String
    }

    /// The 256-bit prime test curve of GB/T 32918.2-2016 Annex A (also draft-shen-sm2-ecdsa-02).
    static let testCurve = Curve(
        p: "8542D69E4C044F18E8B92435BF6FF7DE457283915C45517D722EDB8B08F1DFC3",
        a: "787968B4FA32C3FD2417842E73BBFEFF2F3C848B6831D7E0EC65228B3937E498",
        b: "63E4C6D3B23B0C849CF84241484BFE48F61D59A5B16BA06E6E12D1DA27C5249A",
        gx: "421DEBD61B62EAB6746434EBC3CC315E32220B3BADD50BDC4C4E6C147FEDD43D",
        gy: "0680512BCBB42C07D47349D2153B70C4E5D7FDFCBFA36EA1A85841B9E46E09A2",
        n: "8542D69E4C044F18E8B92435BF6FF7DD297720630485628D5AE74EE7C32E79B7")

    /// The recommended curve of GB/T 32918.5-2017 (the curve OpenSSL calls SM2).
    static let sm2Curve = Curve(
        p: "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF",
        a: "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC",
        b: "28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93",
        gx: "32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7",
        gy: "BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0",
        n: "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123")

    static func sign(curve: Curve, d: String, k: String, id: String, message: String) -> gm_test_sm2_result? {
        var result = gm_test_sm2_result()
        let idBytes = Array(id.utf8)
        let msg = Array(message.utf8)
        let ok = gm_test_sm2_sign_with_k(
            curve.p, curve.a, curve.b, curve.gx, curve.gy, curve.n, d, k, idBytes, idBytes.count, msg, msg.count,
            &result)
        return ok == 1 ? result : nil
    }

    static func bytes<T>(_ tuple: T) -> String {
        withUnsafeBytes(of: tuple) { TestHex.encode(Array($0)).uppercased() }
    }

    /// GB/T 32918.2-2016 Annex A: "message digest", ID ALICE123@YAHOO.COM, on the test curve.
    @Test func partTwoAnnexA() throws {
        let result = try #require(
            Self.sign(
                curve: Self.testCurve, d: "128B2FA8BD433C6C068C8D803DFF79792A519A55171B1B650C23661D15897263",
                k: "6CB28D99385C175C94F94E934817663FC176D925DD72B727260DBAAE1FB2F96F", id: "ALICE123@YAHOO.COM",
                message: "message digest"))
        #expect(
            Self.bytes(result.public_key)
                == "04" + "0AE4C7798AA0F119471BEE11825BE46202BB79E2A5844495E97C04FF4DF2548A"
                + "7C0240F88F1CD4E16352A73C17B7F16F07353E53A176D684A9FE0C6BB798E857")
        #expect(Self.bytes(result.z) == "F4A38489E32B45B6F876E3AC2168CA392362DC8F23459C1D1146FC3DBFB7BC9A")
        #expect(Self.bytes(result.e) == "B524F552CD82B8B028476E005C377FB19A87E6FC682D48BB5D42E3D9B9EFFE76")
        #expect(Self.bytes(result.x1) == "110FCDA57615705D5E7B9324AC4B856D23E6D9188B2AE47759514657CE25D112")
        #expect(Self.bytes(result.r) == "40F1EC59F793D9F49E09DCEF49130D4194F79FB1EED2CAA55BACDB49C4E755D1")
        #expect(Self.bytes(result.s) == "6FC6DAC32C5D5CF10C77DFB20F7C2EB667A457872FB09EC56327A67EC7DEEBE7")
    }

    /// GB/T 32918.5-2017 / GM/T 0003.5-2012 Annex A: "message digest" with the default id on the
    /// recommended curve. Being on the real SM2 curve, the standard's signature must also verify
    /// through the kit's production path (EVP), with the standard's public key.
    @Test func recommendedCurveExampleSignsAndVerifiesThroughEVP() throws {
        let d = "3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8"
        let expectedPublic =
            "04" + "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020"
            + "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13"
        let r = "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3"
        let s = "B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA"
        let result = try #require(
            Self.sign(
                curve: Self.sm2Curve, d: d, k: "59276E27D506861A16680F3AD9C02DCCEF3CC1FA3CDBE4CE6D54B80DEAC1BC21",
                id: "1234567812345678", message: "message digest"))
        #expect(Self.bytes(result.public_key) == expectedPublic)
        #expect(Self.bytes(result.z) == "B2E14C5C79C6DF5B85F4FE7ED8DB7A262B9DA7E07CCB0EA9F4747B8CCDA8A4F3")
        #expect(Self.bytes(result.e) == "F0B43E94BA45ACCAACE692ED534382EB17E6AB5A19CE7B31F4486FDFC0D28640")
        #expect(Self.bytes(result.r) == r)
        #expect(Self.bytes(result.s) == s)

        // The production path: key import, public point, EVP verification with the default id.
        let key = try SM2PrivateKey(rawRepresentation: TestHex.decode(d))
        #expect(TestHex.encode(key.publicKey.rawRepresentation).uppercased() == expectedPublic)
        let publicKey = try SM2PublicKey(rawRepresentation: TestHex.decode(expectedPublic))
        let signature = DER.signature(r: TestHex.decode(r), s: TestHex.decode(s))
        let message = Array("message digest".utf8)
        #expect(publicKey.verify(signature: signature, message: message))
        #expect(publicKey.verify(signature: signature, message: message, userID: SM2.defaultUserID))
        #expect(!publicKey.verify(signature: signature, message: message, userID: Array("1234567812345679".utf8)))
        #expect(!publicKey.verify(signature: signature, message: Array("message digesT".utf8)))
        // And a fresh signature by the kit with the standard's key verifies too.
        let fresh = try key.sign(message: message)
        #expect(publicKey.verify(signature: fresh, message: message))
    }
}
