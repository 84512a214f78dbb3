/// SigV4's UriEncode: every byte of the UTF-8 form except A-Z a-z 0-9 - . _ ~
/// becomes %XX (upper-case hex); '/' is kept in paths. `canonical` first decodes
/// existing escapes, so encoding is idempotent and an already-encoded path is never
/// encoded twice ("a%20b" and "a b" both give "a%20b").
enum AWSURIEncoding {
    static func encode(_ text: String, keepSlash: Bool) -> String {
        encode(bytes: Array(text.utf8), keepSlash: keepSlash)
    }

    static func canonical(_ text: String, keepSlash: Bool) -> String {
        encode(bytes: decode(text), keepSlash: keepSlash)
    }

    /// Percent-decodes to bytes; a '%' not followed by two hex digits stays a literal '%'.
    static func decode(_ text: String) -> [UInt8] {
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "%"), i + 2 < bytes.count,
               let high = hexValue(bytes[i + 1]), let low = hexValue(bytes[i + 2]) {
                out.append(high << 4 | low)
                i += 3
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return out
    }

    private static func encode(bytes: [UInt8], keepSlash: Bool) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 3)
        let hex = Array("0123456789ABCDEF".utf8)
        for byte in bytes {
            if isUnreserved(byte) || (keepSlash && byte == UInt8(ascii: "/")) {
                out.append(byte)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0xF)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
