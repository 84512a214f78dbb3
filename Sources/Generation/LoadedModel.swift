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
    /// The mapped file; its metadata lack the long arrays (the tokenizer's tokens,
    /// merges, scores and types), which `tokenizer` holds in compact form.
    public let file: GGUFFile
    public let model: LlamaModel
    public let tokenizer: any Tokenizer
    /// nil when the file has no template we recognise: prompts go in raw.
    public let chatTemplate: ChatTemplate?
    public let pool: ThreadPool
    /// Wall time from open to ready, in seconds.
    public let loadSeconds: Double
    /// The kernel level picked at start-up (or forced by LAMBDA_LLM_CPU): every entry
    /// point logs it, so a slow or crashing host can be matched to its code path.
    public var kernels: String { KernelISA.active.rawValue }

    public init(path: String, threads: Int) throws {
        let clock = ContinuousClock()
        let started = clock.now
        self.path = path
        let opened = try GGUFFile(path: path)
        // The tokenizer reads its arrays once; kept as parsed values they would
        // cost a few MB of peak memory for as long as the model is loaded.
        self.file = opened.replacingMetadata(opened.metadata.removingArrays(longerThan: 1024))
        self.model = try LlamaModel(file: file)
        self.tokenizer = try TokenizerLoader.load(from: opened)
        self.chatTemplate = ChatTemplate.detect(fromTemplate: file.metadata.string("tokenizer.chat_template"))
        self.pool = ThreadPool(threads: max(1, threads))
        self.loadSeconds = (clock.now - started) / .seconds(1)
    }

    /// A fresh session and generator with its own KV cache of `context` tokens
    /// (nil: the smaller of the model's trained context and 4096), kept as
    /// `cacheElement` (nil: what `precision` keeps).
    public func makeGenerator(
        context: Int? = nil, precision: InferenceSession.Precision = .quantizedActivations,
        cacheElement: KVCache.Element? = nil
    ) throws -> Generator {
        let length = context ?? min(model.configuration.contextLength, 4096)
        let session = try InferenceSession(
            model: model, contextLength: length, pool: pool, precision: precision, cacheElement: cacheElement)
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
        var tokens: [Int32]
        if messages.contains(where: { writesSpecialTokens($0.content) }) {
            tokens = tokensKeepingContentLiteral(messages, template: chatTemplate, bosText: bosText)
        } else {
            let text = chatTemplate.render(messages, addGenerationPrompt: true, bosText: bosText)
            tokens = tokenizer.encode(text, addSpecial: false, parseSpecial: true)
        }
        if tokenizer.addsBOS, let bos, tokens.first != bos { tokens.insert(bos, at: 0) }
        return tokens
    }

    /// Whether `text` spells a special token (e.g. "<|im_end|>"), which would end a turn
    /// or open a system one if the template's tokenization read it as special.
    private func writesSpecialTokens(_ text: String) -> Bool {
        tokenizer.encode(text, addSpecial: false, parseSpecial: true)
            != tokenizer.encode(text, addSpecial: false, parseSpecial: false)
    }

    /// Message text is data, not markup: where a message spells a special token, the
    /// template is rendered around placeholders and only its own text is read for
    /// special tokens, so a user cannot close their turn or forge a system message.
    /// (Only then: splitting the encode can tokenize turn boundaries slightly differently.)
    private func tokensKeepingContentLiteral(_ messages: [ChatMessage], template: ChatTemplate, bosText: String?) -> [Int32] {
        let open = "\u{F8F0}", close = "\u{F8F1}"  // private-use code points no template writes
        let masked = messages.enumerated().map { ChatMessage(role: $0.element.role, content: "\(open)\($0.offset)\(close)") }
        let text = template.render(masked, addGenerationPrompt: true, bosText: bosText)
        var tokens: [Int32] = []
        var rest = Substring(text)
        while let start = rest.range(of: open), let end = rest[start.upperBound...].range(of: close),
              let index = Int(rest[start.upperBound..<end.lowerBound]), messages.indices.contains(index) {
            tokens += tokenizer.encode(String(rest[..<start.lowerBound]), addSpecial: false, parseSpecial: true)
            tokens += tokenizer.encode(messages[index].content, addSpecial: false, parseSpecial: false)
            rest = rest[end.upperBound...]
        }
        tokens += tokenizer.encode(String(rest), addSpecial: false, parseSpecial: true)
        return tokens
    }
}
