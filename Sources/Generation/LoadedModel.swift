import Engine
import Foundation
import Kernels
import ModelFiles
import Tokenizer

/// A GGUF model ready to generate: weights bound, tokenizer and chat template
/// read from the same file. Every front door (CLI, server, Lambda) loads
/// models through this one type.
public final class LoadedModel: @unchecked Sendable {
    public let path: String
    public let file: GGUFFile
    public let model: LlamaModel
    public let tokenizer: any Tokenizer
    /// nil when the file has no template we recognise: prompts go in raw.
    public let chatTemplate: ChatTemplate?
    public let pool: ThreadPool
    /// Wall time from open to ready, in seconds.
    public let loadSeconds: Double

    public init(path: String, threads: Int) throws {
        let clock = ContinuousClock()
        let started = clock.now
        self.path = path
        self.file = try GGUFFile(path: path)
        self.model = try LlamaModel(file: file)
        self.tokenizer = try TokenizerLoader.load(from: file)
        self.chatTemplate = ChatTemplate.detect(fromTemplate: file.metadata.string("tokenizer.chat_template"))
        self.pool = ThreadPool(threads: max(1, threads))
        self.loadSeconds = (clock.now - started) / .seconds(1)
    }

    /// A fresh session and generator with its own KV cache of `context` tokens
    /// (nil: the smaller of the model's trained context and 4096).
    public func makeGenerator(
        context: Int? = nil, precision: InferenceSession.Precision = .quantizedActivations
    ) throws -> Generator {
        let length = context ?? min(model.configuration.contextLength, 4096)
        let session = try InferenceSession(model: model, contextLength: length, pool: pool, precision: precision)
        return Generator(session: session, tokenizer: tokenizer)
    }

    /// Tokens of a raw prompt: BOS as the model asks, special tokens written in
    /// the text recognised (as llama.cpp does).
    public func tokens(forPrompt text: String) -> [Int32] {
        tokenizer.encode(text, addSpecial: true, parseSpecial: true)
    }

    /// Tokens of a conversation rendered with the model's chat template, ending
    /// with the assistant's turn opened. Templates that write BOS themselves
    /// (Llama-2 before every turn, Llama-3 once) get the real BOS text; a model
    /// that wants BOS but whose template omits it gets one prepended. Without a
    /// template we know, plain "role: content" lines.
    public func tokens(forChat messages: [ChatMessage]) -> [Int32] {
        guard let chatTemplate else {
            let text = messages.map { "\($0.role): \($0.content)" }.joined(separator: "\n") + "\nassistant:"
            return tokenizer.encode(text, addSpecial: true, parseSpecial: false)
        }
        let bos = tokenizer.bosToken
        let bosText = bos.map { String(decoding: tokenizer.tokenBytes($0), as: UTF8.self) }
        let text = chatTemplate.render(messages, addGenerationPrompt: true, bosText: bosText)
        var tokens = tokenizer.encode(text, addSpecial: false, parseSpecial: true)
        if tokenizer.addsBOS, let bos, tokens.first != bos { tokens.insert(bos, at: 0) }
        return tokens
    }
}
