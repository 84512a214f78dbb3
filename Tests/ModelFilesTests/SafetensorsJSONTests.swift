import ModelFiles
import Testing

@Suite("Strict JSON parser for checkpoint headers")
struct SafetensorsJSONTests {
    func parse(_ text: String) throws(JSONParseError) -> JSONValue { try JSONValue.parse(Array(text.utf8)) }

    func reason(_ text: String) -> JSONParseError.Reason? {
        do { _ = try parse(text); return nil } catch { return error.reason }
    }

    @Test("values, escapes and surrogate pairs decode exactly")
    func values() throws {
        let value = try parse(#" {"a": [1, -2, 3.5, 1e2, true, false, null], "s": "x\"\\\/\n\u00e9\ud83d\ude00"} "#)
        let object = try #require(value.objectValue)
        #expect(object.keys == ["a", "s"])
        #expect(object["a"] == .array([.integer(1), .integer(-2), .number(3.5), .number(100), .bool(true), .bool(false), .null]))
        #expect(object["s"] == .string("x\"\\/\né😀"))
        #expect(try parse("9223372036854775807") == .integer(Int.max))
        #expect(try parse("9223372036854775808") == .number(9223372036854775808))
    }

    @Test("duplicate keys, bad syntax, bad UTF-8 and deep nesting are errors with a position")
    func errors() throws {
        #expect(reason(#"{"k":1,"k":2}"#) == .duplicateKey("k"))
        #expect(reason(#"{"a":1,}"#) == .unexpectedByte(UInt8(ascii: "}")))
        #expect(reason("[1 2]") == .unexpectedByte(UInt8(ascii: "2")))
        #expect(reason("01") == .invalidNumber)
        #expect(reason("1.") == .invalidNumber)
        #expect(reason("-") == .invalidNumber)
        #expect(reason(#""\x""#) == .invalidEscape)
        #expect(reason(#""\ud800""#) == .invalidEscape)
        #expect(reason(#""\udc00""#) == .invalidEscape)
        #expect(reason("\"a\nb\"") == .unexpectedByte(0x0A))
        #expect(reason("[") == .unexpectedEnd)
        #expect(reason("tru") == .unexpectedEnd)
        #expect(reason("{} {}") == .trailingData)
        #expect(reason(String(repeating: "[", count: 200) + String(repeating: "]", count: 200)) == .tooDeep(limit: 128))
        do {
            _ = try JSONValue.parse([0x22, 0xC3, 0x28, 0x22])
            Issue.record("invalid UTF-8 accepted")
        } catch {
            #expect(error.reason == .invalidUTF8 && error.offset == 1)
        }
    }
}
