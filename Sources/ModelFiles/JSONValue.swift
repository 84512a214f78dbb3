/// A parsed JSON document. Our own strict parser instead of JSONSerialization
/// because checkpoint headers are untrusted: it refuses duplicate keys (which
/// JSONSerialization silently collapses, letting two readers disagree about a
/// file), keeps integers exact (no Bool/NSNumber bridging, no Double rounding
/// of offsets) and bounds nesting so a hostile header cannot blow the stack.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// A number written without fraction or exponent that fits in `Int`.
    case integer(Int)
    /// Any other number.
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// Parses one JSON value; only whitespace may follow it.
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(JSONParseError) -> JSONValue {
        var parser = JSONParser(bytes)
        return try parser.parseDocument()
    }

    public static func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSONValue {
        // withUnsafeBytes only rethrows untyped errors, so carry the typed one out in a Result.
        let result = bytes.withUnsafeBytes { raw in Result { () throws(JSONParseError) in try parse(raw) } }
        return try result.get()
    }

    /// What kind of value this is, for error messages ("expected an array, found a string").
    public var kindDescription: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .integer: return "an integer"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    public var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
    public var intValue: Int? { if case .integer(let i) = self { return i } else { return nil } }
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { return a } else { return nil } }
    public var objectValue: JSONObject? { if case .object(let o) = self { return o } else { return nil } }
}

/// A JSON object with its keys in document order; keys are unique (the parser refuses duplicates).
public struct JSONObject: Sendable, Equatable {
    public private(set) var keys: [String] = []
    private var values: [String: JSONValue] = [:]

    public init() {}

    public subscript(key: String) -> JSONValue? { values[key] }
    public var count: Int { keys.count }

    /// Adds `value` under `key`; false (and no change) when the key is already present.
    @discardableResult
    public mutating func insert(_ key: String, _ value: JSONValue) -> Bool {
        guard values.updateValue(value, forKey: key) == nil else { return false }
        keys.append(key)
        return true
    }
}

/// Where and why a JSON document failed to parse; `offset` is a byte offset into the input.
public struct JSONParseError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Reason: Equatable, Sendable {
        case unexpectedEnd
        case unexpectedByte(UInt8)
        case invalidUTF8
        case invalidEscape
        case invalidNumber
        case duplicateKey(String)
        case tooDeep(limit: Int)
        case trailingData
    }

    public let offset: Int
    public let reason: Reason

    public var description: String {
        switch reason {
        case .unexpectedEnd: return "JSON ends early at byte \(offset)"
        case .unexpectedByte(let b):
            let shown = (32..<127).contains(b) ? "'\(Character(UnicodeScalar(b)))'" : "0x" + String(b, radix: 16)
            return "unexpected \(shown) in JSON at byte \(offset)"
        case .invalidUTF8: return "invalid UTF-8 in JSON string at byte \(offset)"
        case .invalidEscape: return "invalid escape sequence in JSON string at byte \(offset)"
        case .invalidNumber: return "malformed JSON number at byte \(offset)"
        case .duplicateKey(let key): return "JSON key \"\(key)\" appears twice in one object (byte \(offset))"
        case .tooDeep(let limit): return "JSON nests deeper than \(limit) levels at byte \(offset)"
        case .trailingData: return "unexpected data after the JSON value at byte \(offset)"
        }
    }
}

/// Recursive descent over bytes (RFC 8259), every read bounds-checked.
struct JSONParser {
    static let maxDepth = 128

    private let bytes: UnsafeRawBufferPointer
    private var offset = 0
    private var depth = 0
    /// Reused for strings with escapes, so long documents do not allocate per string.
    private var scratch: [UInt8] = []

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    mutating func parseDocument() throws(JSONParseError) -> JSONValue {
        let value = try parseValue()
        skipWhitespace()
        guard offset == bytes.count else { throw fail(.trailingData) }
        return value
    }

    private func fail(_ reason: JSONParseError.Reason, at position: Int? = nil) -> JSONParseError {
        JSONParseError(offset: position ?? offset, reason: reason)
    }

    private func peek() throws(JSONParseError) -> UInt8 {
        guard offset < bytes.count else { throw fail(.unexpectedEnd) }
        return bytes[offset]
    }

    private mutating func skipWhitespace() {
        while offset < bytes.count {
            switch bytes[offset] {
            case 0x20, 0x09, 0x0A, 0x0D: offset += 1
            default: return
            }
        }
    }

    private mutating func expect(_ literal: StaticString) throws(JSONParseError) {
        let text = UnsafeRawBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount)
        for byte in text {
            let found = try peek()
            guard found == byte else { throw fail(.unexpectedByte(found)) }
            offset += 1
        }
    }

    private mutating func parseValue() throws(JSONParseError) -> JSONValue {
        skipWhitespace()
        let byte = try peek()
        switch byte {
        case UInt8(ascii: "{"): return .object(try parseObject())
        case UInt8(ascii: "["): return .array(try parseArray())
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expect("true"); return .bool(true)
        case UInt8(ascii: "f"): try expect("false"); return .bool(false)
        case UInt8(ascii: "n"): try expect("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw fail(.unexpectedByte(byte))
        }
    }

    private mutating func enter() throws(JSONParseError) {
        depth += 1
        guard depth <= Self.maxDepth else { throw fail(.tooDeep(limit: Self.maxDepth)) }
    }

    private mutating func parseObject() throws(JSONParseError) -> JSONObject {
        try enter()
        defer { depth -= 1 }
        offset += 1
        var object = JSONObject()
        skipWhitespace()
        if try peek() == UInt8(ascii: "}") { offset += 1; return object }
        while true {
            skipWhitespace()
            let keyStart = offset
            let byte = try peek()
            guard byte == UInt8(ascii: "\"") else { throw fail(.unexpectedByte(byte)) }
            let key = try parseString()
            skipWhitespace()
            try expect(":")
            let value = try parseValue()
            guard object.insert(key, value) else { throw fail(.duplicateKey(key), at: keyStart) }
            skipWhitespace()
            let next = try peek()
            offset += 1
            if next == UInt8(ascii: "}") { return object }
            guard next == UInt8(ascii: ",") else { throw fail(.unexpectedByte(next), at: offset - 1) }
        }
    }

    private mutating func parseArray() throws(JSONParseError) -> [JSONValue] {
        try enter()
        defer { depth -= 1 }
        offset += 1
        var array: [JSONValue] = []
        skipWhitespace()
        if try peek() == UInt8(ascii: "]") { offset += 1; return array }
        while true {
            array.append(try parseValue())
            skipWhitespace()
            let next = try peek()
            offset += 1
            if next == UInt8(ascii: "]") { return array }
            guard next == UInt8(ascii: ",") else { throw fail(.unexpectedByte(next), at: offset - 1) }
        }
    }

    private mutating func parseString() throws(JSONParseError) -> String {
        offset += 1
        let start = offset
        // Fast path: no escapes, so the string is the raw bytes, validated once.
        while true {
            let byte = try peek()
            if byte == UInt8(ascii: "\"") {
                let raw = UnsafeRawBufferPointer(rebasing: bytes[start..<offset])
                offset += 1
                guard let string = String(validating: raw, as: UTF8.self) else { throw fail(.invalidUTF8, at: start) }
                return string
            }
            if byte == UInt8(ascii: "\\") { break }
            guard byte >= 0x20 else { throw fail(.unexpectedByte(byte)) }
            offset += 1
        }
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[start..<offset]))
        while true {
            let byte = try peek()
            offset += 1
            switch byte {
            case UInt8(ascii: "\""):
                guard let string = String(validating: scratch, as: UTF8.self) else { throw fail(.invalidUTF8, at: start) }
                return string
            case UInt8(ascii: "\\"):
                try parseEscape()
            case 0..<0x20:
                throw fail(.unexpectedByte(byte), at: offset - 1)
            default:
                scratch.append(byte)
            }
        }
    }

    private mutating func parseEscape() throws(JSONParseError) {
        let escapeStart = offset - 1
        let byte = try peek()
        offset += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scratch.append(byte)
        case UInt8(ascii: "b"): scratch.append(0x08)
        case UInt8(ascii: "f"): scratch.append(0x0C)
        case UInt8(ascii: "n"): scratch.append(0x0A)
        case UInt8(ascii: "r"): scratch.append(0x0D)
        case UInt8(ascii: "t"): scratch.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = UInt32(try parseHex4())
            if (0xD800..<0xDC00).contains(scalar) {
                // A high surrogate must be followed by an escaped low one.
                guard offset + 1 < bytes.count, bytes[offset] == UInt8(ascii: "\\"), bytes[offset + 1] == UInt8(ascii: "u") else {
                    throw fail(.invalidEscape, at: escapeStart)
                }
                offset += 2
                let low = UInt32(try parseHex4())
                guard (0xDC00..<0xE000).contains(low) else { throw fail(.invalidEscape, at: escapeStart) }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            }
            guard let unicode = Unicode.Scalar(scalar) else { throw fail(.invalidEscape, at: escapeStart) }
            scratch.append(contentsOf: String(Character(unicode)).utf8)
        default:
            throw fail(.invalidEscape, at: escapeStart)
        }
    }

    private mutating func parseHex4() throws(JSONParseError) -> UInt16 {
        var value: UInt16 = 0
        for _ in 0..<4 {
            let byte = try peek()
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw fail(.invalidEscape)
            }
            value = value << 4 | UInt16(digit)
            offset += 1
        }
        return value
    }

    private mutating func parseNumber() throws(JSONParseError) -> JSONValue {
        let start = offset
        var isInteger = true
        func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
        func digits() -> Int {
            let from = offset
            while offset < bytes.count, isDigit(bytes[offset]) { offset += 1 }
            return offset - from
        }
        if bytes[offset] == UInt8(ascii: "-") { offset += 1 }
        let intStart = offset
        let intDigits = digits()
        guard intDigits > 0 else { throw fail(.invalidNumber, at: start) }
        guard intDigits == 1 || bytes[intStart] != UInt8(ascii: "0") else { throw fail(.invalidNumber, at: start) }
        if offset < bytes.count, bytes[offset] == UInt8(ascii: ".") {
            isInteger = false
            offset += 1
            guard digits() > 0 else { throw fail(.invalidNumber, at: start) }
        }
        if offset < bytes.count, bytes[offset] == UInt8(ascii: "e") || bytes[offset] == UInt8(ascii: "E") {
            isInteger = false
            offset += 1
            if offset < bytes.count, bytes[offset] == UInt8(ascii: "+") || bytes[offset] == UInt8(ascii: "-") { offset += 1 }
            guard digits() > 0 else { throw fail(.invalidNumber, at: start) }
        }
        // The grammar above admits only ASCII, so this decode cannot repair anything.
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<offset]), as: UTF8.self)
        if isInteger, let value = Int(text) { return .integer(value) }
        guard let value = Double(text) else { throw fail(.invalidNumber, at: start) }
        return .number(value)
    }
}
