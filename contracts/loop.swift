// Writes a key, then loops forever: must fail with out_of_fuel and keep nothing.
func dispatch(_ call: Call) throws(XCError) -> JSON {
    XC.putJSON("before-loop", .bool(true))
    var x: UInt32 = 1
    while true {
        x = x &* 1_103_515_245 &+ 12_345
        if x == 7 { XC.log("seven") }
    }
}
