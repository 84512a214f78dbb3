/// Tokenizer: text <-> token ids for SentencePiece (llama) and byte-level BPE (gpt2)
/// vocabularies read from GGUF metadata, matching llama.cpp's `llama_tokenize` /
/// `llama_detokenize` id for id. Knows nothing about weights or generation.

/// Text to ids and back for one vocabulary. Implementations are immutable
/// values, safe to share across threads.
public protocol Tokenizer: Sendable {
    var vocabularySize: Int { get }
    /// `tokenizer.ggml.bos_token_id` (llama/SPM vocabularies default to 1 as in llama.cpp).
    var bosToken: Int32? { get }
    /// `tokenizer.ggml.eos_token_id` (llama/SPM vocabularies default to 2 as in llama.cpp).
    var eosToken: Int32? { get }
    /// `tokenizer.ggml.add_bos_token`; when absent: true for SPM and Llama-3 style BPE, false otherwise.
    var addsBOS: Bool { get }

    /// `addSpecial` prepends BOS when `addsBOS` (and appends EOS when the file asks for it);
    /// `parseSpecial` turns control tokens written in the text (e.g. "<|im_start|>") into
    /// single ids. User-defined tokens are always matched, as llama.cpp does.
    func encode(_ text: String, addSpecial: Bool, parseSpecial: Bool) -> [Int32]

    /// The bytes this token contributes to decoded text; control and unknown tokens give
    /// their literal text (decode with `skipSpecial` drops them). Out-of-range ids give [].
    func tokenBytes(_ id: Int32) -> [UInt8]

    /// llama.cpp's detokenize: the first token loses one leading space when the
    /// vocabulary adds a space prefix, `skipSpecial` drops control/unknown tokens, and
    /// BPE vocabularies with `clean_spaces` tidy " ?", " 's" and friends.
    func decode(_ ids: [Int32], skipSpecial: Bool) -> String

    /// EOS, EOT, EOM and the end-of-turn tokens llama.cpp recognises by their text.
    func isEndOfGeneration(_ id: Int32) -> Bool

    /// Every id `isEndOfGeneration` accepts, ascending (generation with EOS ignored masks them).
    var endOfGenerationTokens: [Int32] { get }
}

public extension Tokenizer {
    func encode(_ text: String) -> [Int32] { encode(text, addSpecial: true, parseSpecial: false) }
    func decode(_ ids: [Int32]) -> String { decode(ids, skipSpecial: true) }
}
