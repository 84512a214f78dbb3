/// The few Unicode classes llama.cpp's pre-tokenizers test (\p{L}, \p{N}, \p{P}, \s),
/// from the standard library's Unicode data. `present` marks any in-range code
/// point, mirroring llama.cpp's "flags != 0" test that distinguishes a real
/// character from the end of a fragment.
struct CodepointFlags: OptionSet, Sendable {
    let rawValue: UInt8
    static let present = CodepointFlags(rawValue: 1)
    static let letter = CodepointFlags(rawValue: 2)
    static let number = CodepointFlags(rawValue: 4)
    static let whitespace = CodepointFlags(rawValue: 8)
    static let punctuation = CodepointFlags(rawValue: 16)

    /// Flags for every BMP code point, computed once: the splitters look up every
    /// character of the input, and the stdlib property lookup is slower than a load.
    private static let basicPlane: [UInt8] = (0..<0x10000).map { compute(UInt32($0)).rawValue }

    @inline(__always)
    static func of(_ scalar: UInt32) -> CodepointFlags {
        scalar < 0x10000 ? CodepointFlags(rawValue: basicPlane[Int(scalar)]) : compute(scalar)
    }

    /// llama.cpp's `unicode_set_whitespace`, which is not Unicode's White_Space property.
    private static func isWhitespace(_ v: UInt32) -> Bool {
        switch v {
        case 0x09...0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }

    private static func compute(_ value: UInt32) -> CodepointFlags {
        var flags: CodepointFlags = .present
        if isWhitespace(value) { flags.insert(.whitespace) }
        guard let scalar = Unicode.Scalar(value) else { return flags }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            flags.insert(.letter)
        case .decimalNumber, .letterNumber, .otherNumber:
            flags.insert(.number)
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            flags.insert(.punctuation)
        default:
            break
        }
        return flags
    }
}
