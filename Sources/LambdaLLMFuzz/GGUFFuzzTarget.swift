import Engine
import Kernels
import ModelFiles
import Tokenizer

/// A GGUF file from a stranger: header, metadata, tensor table; then, for what
/// parses, the tokenizer and the model built from it and one forward pass when the
/// model is small enough to keep an execution well under the 1 s timeout.
struct GGUFFuzzTarget: FuzzTarget {
    static let name = "gguf"
    static let summary = "GGUF reader, tokenizer and model loading, one forward pass"

    /// Above this many multiply-adds per token the forward pass is skipped: a fuzzed
    /// file may legitimately describe a large model in few bytes (tensors can alias).
    static let forwardPassBudget = 4 << 20

    private let pool = ThreadPool(threads: 1)

    init() {}

    func run(_ bytes: [UInt8]) {
        guard let file = try? GGUFFile(bytes: bytes, name: "fuzz.gguf") else { return }
        // Every view the parser vouched for must be readable end to end.
        var checksum: UInt8 = 0
        for tensor in file.tensors {
            let data = file.data(for: tensor)
            if let last = data.last { checksum &+= last }
        }
        _ = checksum
        _ = file.metadata.strings("tokenizer.ggml.tokens")?.count
        if let tokenizer = try? TokenizerLoader.load(from: file) {
            let ids = tokenizer.encode("Hello, world! <|im_start|> ü 日本", addSpecial: true, parseSpecial: true)
            _ = tokenizer.decode(ids, skipSpecial: false)
        }
        guard let model = try? LlamaModel(file: file) else { return }
        let c = model.configuration
        let perToken = c.layerCount * (c.embeddingLength * (c.embeddingLength + 2 * c.kvDimension + c.embeddingLength)
            + 3 * c.embeddingLength * c.feedForwardLength) + c.vocabularySize * c.embeddingLength
        guard perToken <= Self.forwardPassBudget, c.contextLength >= 1 else { return }
        guard let session = try? InferenceSession(
            model: model, contextLength: min(4, c.contextLength), pool: pool, batchCapacity: 2
        ) else { return }
        let tokens: [Int32] = [0, Int32(c.vocabularySize - 1)]
        _ = try? session.evaluate(tokens)
    }
}
