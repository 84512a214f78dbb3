import Generation
import Testing

@Suite("Stop sequences")
struct StopSequenceMatcherTests {
    /// Feeds every piece and returns all emitted text, whether it stopped, and what finish() flushed.
    private func run(_ stops: [String], _ pieces: [String]) -> (text: String, stopped: Bool, flushed: String) {
        var matcher = StopSequenceMatcher(stopStrings: stops)
        var text = ""
        var stopped = false
        for piece in pieces {
            let (emit, didStop) = matcher.feed(piece)
            text += emit
            stopped = stopped || didStop
        }
        return (text, stopped, matcher.finish())
    }

    @Test("without stop strings every piece passes through at once")
    func noStops() {
        var matcher = StopSequenceMatcher(stopStrings: [])
        #expect(matcher.feed("Hello").emit == "Hello")
        #expect(matcher.feed(" <|im_end|>").emit == " <|im_end|>")
        #expect(matcher.finish() == "")
    }

    @Test("a stop split across pieces is never emitted, nor is anything after it")
    func splitAcrossPieces() {
        var matcher = StopSequenceMatcher(stopStrings: ["<|im_end|>"])
        #expect(matcher.feed("Hello <|im").emit == "Hello ")
        #expect(matcher.feed("_e").emit == "")
        let last = matcher.feed("nd|> trailing")
        #expect(last.emit == "")
        #expect(last.stopped)
        #expect(matcher.feed("more").emit == "")
        #expect(matcher.finish() == "")
    }

    @Test("text before a stop inside one piece is emitted and the rest dropped")
    func stopInsidePiece() {
        let r = run(["</s>"], ["one two</s>three"])
        #expect(r.text == "one two")
        #expect(r.stopped)
    }

    @Test("a held-back prefix that stops matching is released")
    func falsePartialMatch() {
        var matcher = StopSequenceMatcher(stopStrings: ["</s>"])
        #expect(matcher.feed("a </").emit == "a ")
        #expect(matcher.feed("b>").emit == "</b>")
        #expect(matcher.feed("<").emit == "")
        #expect(matcher.finish() == "<")
    }

    @Test("finish flushes held-back text when generation ends without a stop")
    func finishFlushes() {
        let r = run(["STOP"], ["end ST"])
        #expect(r.text == "end ")
        #expect(!r.stopped)
        #expect(r.flushed == "ST")
    }

    @Test("overlapping stops: the first one to complete wins")
    func overlappingPrefixes() {
        #expect(run(["abc", "ab"], ["x", "a", "b", "c"]).text == "x")
        #expect(run(["ab", "abc"], ["xabc"]).text == "x")
        let r = run(["bc", "abcd"], ["ab", "c", "d"])
        #expect(r.text == "a")
        #expect(r.stopped)
        // A longer stop's prefix is held while a shorter one could still match later.
        var matcher = StopSequenceMatcher(stopStrings: ["abc", "bd"])
        #expect(matcher.feed("ab").emit == "")
        let end = matcher.feed("d")
        #expect(end.emit == "a")
        #expect(end.stopped)
    }

    @Test("a stop at the very start emits nothing")
    func stopAtStart() {
        let r = run(["<|eot_id|>"], ["<|eot_id|>", "ignored"])
        #expect(r.text == "")
        #expect(r.stopped)
        #expect(r.flushed == "")
    }

    @Test("multi-byte characters: stops match whole scalars and emits are never split inside one")
    func multiByte() {
        #expect(run(["é!"], ["caf", "é", "!", " more"]).text == "caf")
        #expect(run(["😀"], ["a😀b"]).text == "a")
        // "è" and "é" share their UTF-8 lead byte; "è" must pass straight through.
        var matcher = StopSequenceMatcher(stopStrings: ["éa"])
        #expect(matcher.feed("è").emit == "è")
        #expect(matcher.feed("é").emit == "")
        #expect(matcher.feed("b").emit == "éb")
        let r = run(["\u{1F600}END"], ["日本\u{1F600}", "EN", "D"])
        #expect(r.text == "日本")
        #expect(r.stopped)
    }

    @Test("empty stop strings are ignored")
    func emptyStop() {
        let r = run(["", "</s>"], ["hi", "</s>"])
        #expect(r.text == "hi")
        #expect(r.stopped)
    }

    @Test("matching is by scalars, not canonical equivalence")
    func noNormalisation() {
        let r = run(["e\u{301}"], ["caf\u{e9}"])
        #expect(r.text == "caf\u{e9}")
        #expect(!r.stopped)
    }
}
