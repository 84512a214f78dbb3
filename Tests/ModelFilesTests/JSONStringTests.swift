import Foundation
import ModelFiles
import Testing

@Suite struct JSONStringTests {
    @Test("quoted strings escape what JSON and server-sent events need, and parse back unchanged")
    func escapesAndRoundTrips() throws {
        let text = "a\"b\\c\nd\re\tf\u{01}g\u{2028}h\u{2029}i/é"
        let quoted = JSONString.quoted(text)
        #expect(quoted == "\"a\\\"b\\\\c\\nd\\re\\tf\\u0001g\\u2028h\\u2029i/é\"")
        #expect(!quoted.contains("\n") && !quoted.contains("\r") && !quoted.contains("\u{2028}"))
        let parsed = try JSONSerialization.jsonObject(with: Data("[\(quoted)]".utf8)) as? [String]
        #expect(parsed == [text])
    }
}
