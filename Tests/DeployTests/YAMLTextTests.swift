import Deploy
import Testing

@Suite struct YAMLTextTests {
    @Test("plain strings are double-quoted as they are")
    func plain() {
        #expect(YAMLText.quoted("RESPONSE_STREAM") == "\"RESPONSE_STREAM\"")
        #expect(YAMLText.quoted("") == "\"\"")
        // Words YAML would otherwise read as booleans, null or numbers stay strings.
        #expect(YAMLText.quoted("yes") == "\"yes\"")
        #expect(YAMLText.quoted("null") == "\"null\"")
        #expect(YAMLText.quoted("0x10") == "\"0x10\"")
    }

    @Test("quotes, backslashes, breaks and control characters are escaped")
    func escapes() {
        #expect(YAMLText.quoted("a \"b\" c") == #""a \"b\" c""#)
        #expect(YAMLText.quoted(#"C:\models"#) == #""C:\\models""#)
        #expect(YAMLText.quoted("one\ntwo\r\tthree") == #""one\ntwo\r\tthree""#)
        #expect(YAMLText.quoted("bell\u{7}del\u{7F}") == #""bell\x07del\x7F""#)
        #expect(YAMLText.quoted("nel\u{85}ls\u{2028}ps\u{2029}") == #""nel\Nls\Lps\P""#)
    }

    @Test("YAML's syntax characters inside a quoted scalar need nothing more")
    func syntaxCharacters() {
        let odd = "#1: {model} [x] & *ref !tag | > % @ `"
        #expect(YAMLText.quoted(odd) == "\"" + odd + "\"")
        #expect(YAMLText.quoted("modèle ü 模型") == "\"modèle ü 模型\"")
    }

    @Test("comments stay on their lines: breaks become spaces, long text wraps")
    func comments() {
        #expect(YAMLText.comment("a\nb: c") == ["# a b: c"])
        let long = Array(repeating: "word", count: 50).joined(separator: " ")
        let lines = YAMLText.comment(long, indent: 4, width: 40)
        #expect(lines.count > 1)
        #expect(lines.allSatisfy { $0.hasPrefix("    # ") && $0.count <= 40 })
    }
}
