/// Finds contact and identity numbers (mobile and landline phones, ID card numbers) in free text,
/// whatever their spelling: ASCII or full-width digits, Chinese numerals (〇零一二三四五六七八九幺两),
/// separated by spaces, dashes, dots, slashes or brackets, with or without `+86`. Deterministic and
/// locale-free, so the contract can refuse such text (`personal_data`): nothing personal reaches the chain.
///
/// A run of at least `minDigits` digits counts (a landline has 7–8, a mobile 11, an ID 18 with a
/// possible final `X`); a run directly after a Latin letter is a code's serial (`YC2600011`), and a
/// date written `2026-10-05` (groups 4-2-2 starting 19 or 20) is a date, not a number of a person.
public enum PersonalData {
    /// Shortest digit run taken for a phone or ID number.
    public static let minDigits = 7

    /// The digit value of a scalar in any of the accepted spellings.
    static func digit(_ u: Unicode.Scalar) -> Int? {
        switch u.value {
        case 0x30...0x39: return Int(u.value - 0x30)
        case 0xFF10...0xFF19: return Int(u.value - 0xFF10)
        default: break
        }
        switch u {
        case "〇", "零", "○", "Ｏ": return 0
        case "一", "幺", "壹": return 1
        case "二", "两", "贰": return 2
        case "三", "叁": return 3
        case "四", "肆": return 4
        case "五", "伍": return 5
        case "六", "陆": return 6
        case "七", "柒": return 7
        case "八", "捌": return 8
        case "九", "玖": return 9
        default: return nil
        }
    }

    /// Characters that may sit between the digits of one number.
    static func isSeparator(_ u: Unicode.Scalar) -> Bool {
        switch u {
        case " ", "\u{3000}", "\u{A0}", "-", "\u{2010}", "\u{2011}", "\u{2012}", "\u{2013}", "\u{2014}", "\u{FF0D}", ".",
            "\u{FF0E}",
            "·", "/", "(", ")", "\u{FF08}", "\u{FF09}", "+", "\u{FF0B}", "_", "\t":
            return true
        default: return false
        }
    }

    static func isLatinLetter(_ u: Unicode.Scalar) -> Bool {
        (0x41...0x5A).contains(u.value) || (0x61...0x7A).contains(u.value)
    }

    /// The digit runs of `text` long enough to be a phone or ID number, as ASCII digits.
    public static func numbers(in text: String) -> [String] {
        var out: [String] = []
        var run = ""
        var attached = false  // the run started right after a Latin letter
        var previous: Unicode.Scalar?
        var pendingSeparators = 0
        var groups: [Int] = []  // digits per separator-delimited group
        func isDate() -> Bool {
            groups.count == 3 && groups[0] == 4 && (1...2).contains(groups[1]) && (1...2).contains(groups[2])
                && (run.hasPrefix("19") || run.hasPrefix("20"))
        }
        func finish() {
            if run.count >= minDigits, !attached, !isDate() { out.append(run) }
            run = ""
            attached = false
            pendingSeparators = 0
            groups = []
        }
        for u in text.unicodeScalars {
            if let d = digit(u) {
                if run.isEmpty { attached = previous.map(isLatinLetter) ?? false }
                if groups.isEmpty || pendingSeparators > 0 { groups.append(0) }
                groups[groups.count - 1] += 1
                run.append(Character(String(d)))
                pendingSeparators = 0
            } else if !run.isEmpty, (u == "X" || u == "x"), run.count == 17 {
                run.append("X")
                finish()
            } else if !run.isEmpty, isSeparator(u), pendingSeparators < 2 {
                pendingSeparators += 1
            } else {
                finish()
            }
            previous = u
        }
        finish()
        return out
    }

    /// True when `text` holds what looks like a phone or ID number.
    public static func contains(in text: String) -> Bool { !numbers(in: text).isEmpty }
}
