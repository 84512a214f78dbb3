import Tokenizer

/// A fixed prompt of real English prose (Jane Austen, public domain) cut to an
/// exact token count, so every engine and run sees the same tokens.
enum BenchPrompt {
    static let text = """
    It is a truth universally acknowledged, that a single man in possession of a good fortune, \
    must be in want of a wife. However little known the feelings or views of such a man may be on his \
    first entering a neighbourhood, this truth is so well fixed in the minds of the surrounding families, \
    that he is considered the rightful property of some one or other of their daughters. "My dear Mr. Bennet," \
    said his lady to him one day, "have you heard that Netherfield Park is let at last?" Mr. Bennet replied \
    that he had not. "But it is," returned she; "for Mrs. Long has just been here, and she told me all about it." \
    Mr. Bennet made no answer. "Do you not want to know who has taken it?" cried his wife impatiently. \
    "You want to tell me, and I have no objection to hearing it." This was invitation enough. \
    "Why, my dear, you must know, Mrs. Long says that Netherfield is taken by a young man of large fortune \
    from the north of England; that he came down on Monday in a chaise and four to see the place, and was \
    so much delighted with it, that he agreed with Mr. Morris immediately; that he is to take possession \
    before Michaelmas, and some of his servants are to be in the house by the end of next week."
    """

    static func tokens(count: Int, tokenizer: any Tokenizer) -> [Int32] {
        var tokens = tokenizer.encode(text, addSpecial: true, parseSpecial: false)
        let body = tokenizer.encode(" " + text, addSpecial: false, parseSpecial: false)
        while tokens.count < count { tokens += body }
        return Array(tokens.prefix(count))
    }
}
