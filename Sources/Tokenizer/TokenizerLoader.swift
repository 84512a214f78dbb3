import ModelFiles

/// Builds the tokenizer a GGUF file describes, keyed by `tokenizer.ggml.model`
/// the way llama.cpp's `llama_vocab::load` reads it. Works on vocab-only files.
public enum TokenizerLoader {
    public static let supportedModels = ["llama", "gpt2"]

    /// `tokenizer.ggml.pre` names we implement. A missing name falls back to
    /// llama.cpp's default pre-tokenizer, as llama.cpp does; an unknown name is an
    /// error (as in llama.cpp) rather than a silent, quality-degrading guess.
    public static var supportedPreTokenizers: [String] { preTokenizers.keys.sorted() }

    private struct PreTokenizerSpec {
        var kind: PreTokenizer
        var ignoresMerges = false
        var addsBOS = false
        var cleansSpaces = true
    }

    private static let preTokenizers: [String: PreTokenizerSpec] = {
        var table: [String: PreTokenizerSpec] = ["default": PreTokenizerSpec(kind: .fallback)]
        for name in ["llama3", "llama-v3", "llama-bpe", "falcon3", "pixtral"] {
            table[name] = PreTokenizerSpec(kind: .llama3, ignoresMerges: true, addsBOS: true)
        }
        for name in ["dbrx", "smaug-bpe"] { table[name] = PreTokenizerSpec(kind: .llama3) }
        for name in ["gpt-2", "gpt2", "phi-2", "mpt", "olmo"] { table[name] = PreTokenizerSpec(kind: .gpt2) }
        for name in ["starcoder", "refact", "codeshell"] { table[name] = PreTokenizerSpec(kind: .digitsThenGPT2) }
        for name in ["smollm", "command-r"] {
            table[name] = PreTokenizerSpec(kind: .digitsThenGPT2, cleansSpaces: false)
        }
        return table
    }()

    public static func load(from file: GGUFFile) throws(TokenizerError) -> any Tokenizer {
        try load(from: file.metadata)
    }

    public static func load(from metadata: GGUFMetadata) throws(TokenizerError) -> any Tokenizer {
        guard let model = metadata.string("tokenizer.ggml.model") else { throw .missingKey("tokenizer.ggml.model") }
        guard supportedModels.contains(model) else { throw .unsupportedModel(model, supported: supportedModels) }
        guard let tokens = metadata.strings("tokenizer.ggml.tokens") else { throw .missingKey("tokenizer.ggml.tokens") }
        guard !tokens.isEmpty else { throw .emptyVocabulary }
        let scores = try optionalArray(metadata, "tokenizer.ggml.scores", count: tokens.count) { $0.floats($1) }
        let types = try optionalArray(metadata, "tokenizer.ggml.token_type", count: tokens.count) { $0.ints($1) }

        var tokenIDs: [String: Int32] = [:]
        tokenIDs.reserveCapacity(tokens.count)
        for (id, text) in tokens.enumerated() { tokenIDs[text] = Int32(id) }

        func specialID(_ name: String, default fallback: Int32? = nil) -> Int32? {
            // Out-of-range ids are ignored, as llama.cpp does, rather than trusted.
            if let id = metadata.int("tokenizer.ggml.\(name)_token_id"), id >= 0, id < tokens.count { return Int32(id) }
            if let fallback, fallback < tokens.count { return fallback }
            return nil
        }

        let vocabulary: Vocabulary
        let tokenizer: any Tokenizer
        switch model {
        case "llama":
            var vocab = Vocabulary(
                kind: .sentencePiece, tokens: tokens, tokenTypes: types,
                addBOS: metadata.bool("tokenizer.ggml.add_bos_token") ?? true,
                addEOS: metadata.bool("tokenizer.ggml.add_eos_token") ?? false,
                addSpacePrefix: metadata.bool("tokenizer.ggml.add_space_prefix") ?? true,
                cleanSpaces: false)
            // llama.cpp's Llama defaults; our own files always carry the keys.
            vocab.bos = specialID("bos", default: 1)
            vocab.eos = specialID("eos", default: 2)
            vocabulary = try finish(vocab, metadata, tokenIDs, specialID)
            tokenizer = SentencePieceTokenizer(vocabulary: vocabulary, scores: scores)
        default:
            guard let merges = metadata.strings("tokenizer.ggml.merges") else { throw .missingKey("tokenizer.ggml.merges") }
            let preName = metadata.string("tokenizer.ggml.pre") ?? "default"
            guard let spec = preTokenizers[preName.isEmpty ? "default" : preName] else {
                throw .unsupportedPreTokenizer(preName, supported: supportedPreTokenizers)
            }
            var vocab = Vocabulary(
                kind: .bytePair, tokens: tokens, tokenTypes: types,
                addBOS: metadata.bool("tokenizer.ggml.add_bos_token") ?? spec.addsBOS,
                addEOS: metadata.bool("tokenizer.ggml.add_eos_token") ?? false,
                addSpacePrefix: metadata.bool("tokenizer.ggml.add_space_prefix") ?? false,
                cleanSpaces: spec.cleansSpaces)
            // llama.cpp defaults BPE's BOS/EOS to id 11 when the keys are missing, an
            // artefact of one model; without keys we report none instead.
            vocab.bos = specialID("bos")
            vocab.eos = specialID("eos")
            vocabulary = try finish(vocab, metadata, tokenIDs, specialID)
            tokenizer = try BytePairTokenizer(vocabulary: vocabulary, merges: merges, preTokenizer: spec.kind,
                                              ignoresMerges: spec.ignoresMerges)
        }
        return tokenizer
    }

    private static func finish(_ vocabulary: Vocabulary, _ metadata: GGUFMetadata, _ tokenIDs: [String: Int32],
                               _ specialID: (String, Int32?) -> Int32?) throws(TokenizerError) -> Vocabulary {
        var vocab = vocabulary
        vocab.eot = specialID("eot", nil)
        vocab.eom = specialID("eom", nil)
        func fim(_ key: String, _ texts: [String]) -> Int32? {
            specialID(key, nil) ?? texts.lazy.compactMap { tokenIDs[$0] }.first
        }
        let fimPad = fim("fim_pad", ["<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"])
        let fimRepo = fim("fim_rep", ["<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"])
        let fimSep = fim("fim_sep", ["<|file_sep|>"])
        for id in [fimPad, fimRepo, fimSep] { if let id { vocab.attributes[Int(id)].insert(.control) } }
        vocab.finish(tokenIDs: tokenIDs, modelName: metadata.string("general.name"),
                     fimPad: fimPad, fimRepo: fimRepo, fimSep: fimSep)
        return vocab
    }

    private static func optionalArray<T>(_ metadata: GGUFMetadata, _ key: String, count: Int,
                                         _ read: (GGUFMetadata, String) -> [T]?) throws(TokenizerError) -> [T]? {
        guard metadata.contains(key) else { return nil }
        guard let values = read(metadata, key) else { throw .missingKey(key) }
        guard values.count == count else { throw .lengthMismatch(key: key, expected: count, actual: values.count) }
        return values
    }
}
