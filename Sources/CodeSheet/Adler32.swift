/// The Adler-32 checksum (RFC 1950) that closes a zlib stream.
struct Adler32 {
    private var a: UInt32 = 1
    private var b: UInt32 = 0

    /// Adds bytes to the checksum.
    mutating func update(_ bytes: some Sequence<UInt8>) {
        // 5552 is the largest run for which the sums cannot overflow 32 bits before the modulo.
        var pending = 0
        for byte in bytes {
            a += UInt32(byte)
            b += a
            pending += 1
            if pending == 5552 {
                a %= 65521
                b %= 65521
                pending = 0
            }
        }
        a %= 65521
        b %= 65521
    }

    /// The checksum of everything added so far.
    var value: UInt32 { b << 16 | a }

    /// The checksum of `bytes`.
    static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
        var adler = Adler32()
        adler.update(bytes)
        return adler.value
    }
}
