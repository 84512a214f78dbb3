import ArgumentParser
import Foundation
import Generation

struct SamplingOptions: ParsableArguments {
    @Option(help: "Sampling temperature; 0 = greedy.")
    var temperature: Float?
    @Option(name: .customLong("top-k"), help: "Keep the K most likely tokens (0 = off).")
    var topK: Int?
    @Option(name: .customLong("top-p"), help: "Nucleus sampling mass.")
    var topP: Float?
    @Option(name: .customLong("min-p"), help: "Drop tokens below this fraction of the top probability.")
    var minP: Float?
    @Option(name: .customLong("repeat-penalty"), help: "Penalty for recently generated tokens (1 = off).")
    var repeatPenalty: Float?
    @Option(help: "Random seed, for reproducible sampling.")
    var seed: UInt64?

    var parameters: SamplingParameters {
        var p = SamplingParameters()
        if let temperature { p.temperature = temperature }
        if let topK { p.topK = topK }
        if let topP { p.topP = topP }
        if let minP { p.minP = minP }
        if let repeatPenalty { p.repetitionPenalty = repeatPenalty }
        p.seed = seed
        return p
    }
}

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate text from a prompt, streaming it to standard output."
    )

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var sampling: SamplingOptions

    @Option(help: "Raw prompt text, given to the model as is.")
    var prompt: String?
    @Option(help: "A user message, wrapped in the model's chat template.")
    var chat: String?
    @Option(help: "System message for --chat.")
    var system: String?
    @Option(name: .customLong("max-tokens"), help: "Most tokens to generate.")
    var maxTokens: Int = 256
    @Option(help: "Stop when this text appears (repeatable).")
    var stop: [String] = []
    @Flag(name: .customLong("ignore-eos"), help: "Keep generating past end-of-generation tokens.")
    var ignoreEOS = false
    @Flag(name: .long, help: "Print timings to standard error when done.")
    var verbose = false

    func validate() throws {
        if (prompt == nil) == (chat == nil) {
            throw ValidationError("give exactly one of --prompt TEXT or --chat TEXT")
        }
        if maxTokens < 1 { throw ValidationError("--max-tokens must be at least 1 (got \(maxTokens))") }
    }

    func run() throws {
        let loaded = try modelOptions.load()
        let generator = try modelOptions.makeGenerator(loaded)
        let tokens: [Int32]
        if let chat {
            var messages: [ChatMessage] = []
            if let system { messages.append(ChatMessage(role: "system", content: system)) }
            messages.append(ChatMessage(role: "user", content: chat))
            tokens = loaded.tokens(forChat: messages)
        } else {
            tokens = loaded.tokens(forPrompt: prompt ?? "")
        }
        let request = GenerationRequest(
            promptTokens: tokens, maxTokens: maxTokens, sampling: sampling.parameters,
            stopStrings: stop, ignoreEndOfGeneration: ignoreEOS
        )
        let output = FileHandle.standardOutput
        let result = try generator.generate(request) { piece in
            output.write(Data(piece.utf8))
            return true
        }
        output.write(Data("\n".utf8))
        if verbose {
            let t = result.timings
            let line = String(
                format: "%@ kernels, %d threads | load %.2fs | prompt %d tok, %.1f tok/s | ttft %.3fs | %d tok, %.1f tok/s | finish %@\n",
                loaded.kernels, loaded.pool.threadCount, loaded.loadSeconds, t.promptTokens, t.prefillTokensPerSecond, t.timeToFirstTokenSeconds,
                t.generatedTokens, t.decodeTokensPerSecond, result.finishReason.rawValue
            )
            FileHandle.standardError.write(Data(line.utf8))
        }
    }
}
