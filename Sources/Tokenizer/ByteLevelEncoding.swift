/// GPT-2's reversible map between bytes and printable code points: BPE vocabularies
/// store token text in this alphabet, so "Ġthe" is the bytes " the".
enum ByteLevelEncoding {
    /// Code point that stands for each byte.
    static let scalarForByte: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            let printable = (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte)
            if printable {
                table[byte] = UInt32(byte)
            } else {
                table[byte] = next
                next += 1
            }
        }
        return table
    }()

    /// Inverse of `scalarForByte`; nil for code points outside the alphabet.
    static func byte(for scalar: Unicode.Scalar) -> UInt8? {
        let v = scalar.value
        if v < 256 {
            let printable = (0x21...0x7E).contains(v) || (0xA1...0xAC).contains(v) || (0xAE...0xFF).contains(v)
            return printable ? UInt8(v) : nil
        }
        return lookupHigh(v)
    }

    private static let inverseHigh: [Int16] = {
        var table = [Int16](repeating: -1, count: 256)
        for byte in 0..<256 where scalarForByte[byte] >= 256 {
            table[Int(scalarForByte[byte] - 256)] = Int16(byte)
        }
        return table
    }()

    private static func lookupHigh(_ v: UInt32) -> UInt8? {
        let index = Int(v - 256)
        guard index < inverseHigh.count, inverseHigh[index] >= 0 else { return nil }
        return UInt8(inverseHigh[index])
    }

    /// Raw bytes of a token written in the GPT-2 alphabet; nil if any character is outside it.
    static func decode(_ text: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            guard let byte = byte(for: scalar) else { return nil }
            bytes.append(byte)
        }
        return bytes
    }
}
