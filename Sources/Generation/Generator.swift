import Engine
import Foundation
import Tokenizer

/// Why generation ended, in OpenAI's vocabulary.
public enum FinishReason: String, Sendable, Codable {
    /// End-of-generation token or a stop string.
    case stop
    /// max tokens, the context or the deadline ran out.
    case length
}

/// What one generation asks for.
public struct GenerationRequest: Sendable {
    public var promptTokens: [Int32]
    public var maxTokens: Int
    public var sampling: SamplingParameters
    public var stopStrings: [String]
    /// Benchmarks generate a fixed number of tokens whatever the model says.
    public var ignoreEndOfGeneration: Bool
    /// Generation stops (finish reason `length`, `deadlineReached`) once this passes.
    public var deadline: ContinuousClock.Instant?

    public init(
        promptTokens: [Int32], maxTokens: Int, sampling: SamplingParameters = SamplingParameters(),
        stopStrings: [String] = [], ignoreEndOfGeneration: Bool = false, deadline: ContinuousClock.Instant? = nil
    ) {
        self.promptTokens = promptTokens
        self.maxTokens = maxTokens
        self.sampling = sampling
        self.stopStrings = stopStrings
        self.ignoreEndOfGeneration = ignoreEndOfGeneration
        self.deadline = deadline
    }
}

/// Durations of one generation, in seconds.
public struct GenerationTimings: Sendable, Codable, Equatable {
    public var promptTokens: Int = 0
    /// Prompt tokens actually evaluated (the rest came from the reused cache).
    public var promptTokensEvaluated: Int = 0
    public var generatedTokens: Int = 0
    public var prefillSeconds: Double = 0
    public var timeToFirstTokenSeconds: Double = 0
    public var decodeSeconds: Double = 0
    public var totalSeconds: Double = 0

    public var prefillTokensPerSecond: Double {
        prefillSeconds > 0 ? Double(promptTokensEvaluated) / prefillSeconds : 0
    }
    /// Tokens after the first over the time spent producing them.
    public var decodeTokensPerSecond: Double {
        generatedTokens > 1 && decodeSeconds > 0 ? Double(generatedTokens - 1) / decodeSeconds : 0
    }
}

public struct GenerationResult: Sendable {
    public var text: String
    public var tokens: [Int32]
    public var finishReason: FinishReason
    public var deadlineReached: Bool
    public var timings: GenerationTimings
}

public enum GenerationError: Error, CustomStringConvertible {
    case emptyPrompt
    case invalidMaxTokens(Int)
    case promptTooLong(tokens: Int, context: Int)
    case invalidSampling(SamplingError)
    case engine(EngineError)

    public var description: String {
        switch self {
        case .emptyPrompt: return "the prompt is empty: give at least one token"
        case .invalidMaxTokens(let n): return "max tokens must be at least 1 (got \(n))"
        case .promptTooLong(let tokens, let context):
            return "the prompt has \(tokens) tokens but the context holds \(context): shorten it or raise --context"
        case .invalidSampling(let error): return "\(error)"
        case .engine(let error): return "\(error)"
        }
    }
}

/// Runs the sample -> evaluate loop of one model session, streaming text out
/// through a callback. Reuses the cached prefix shared with the previous
/// prompt, so a chat's next turn only evaluates what is new.
public final class Generator: @unchecked Sendable {
    public let session: InferenceSession
    public let tokenizer: any Tokenizer
    /// Tokens whose keys and values sit in the session's cache, in order.
    private var cachedTokens: [Int32] = []

    public init(session: InferenceSession, tokenizer: any Tokenizer) {
        self.session = session
        self.tokenizer = tokenizer
    }

    /// Generates until a stop condition. `onText` receives each new piece of
    /// text as soon as it is complete UTF-8 and not part of a possible stop
    /// string; returning false cancels (finish reason `stop`).
    public func generate(
        _ request: GenerationRequest, onText: (String) -> Bool = { _ in true }
    ) throws(GenerationError) -> GenerationResult {
        let clock = ContinuousClock()
        let started = clock.now
        let prompt = request.promptTokens
        guard !prompt.isEmpty else { throw .emptyPrompt }
        guard request.maxTokens >= 1 else { throw .invalidMaxTokens(request.maxTokens) }
        do { try request.sampling.validate() } catch { throw .invalidSampling(error) }
        guard prompt.count < session.contextLength else {
            throw .promptTooLong(tokens: prompt.count, context: session.contextLength)
        }

        // Keep the longest cached prefix, but always evaluate at least one token
        // so there are fresh logits to sample from.
        var reuse = 0
        let limit = min(cachedTokens.count, prompt.count - 1)
        while reuse < limit && cachedTokens[reuse] == prompt[reuse] { reuse += 1 }
        session.truncate(to: reuse)
        cachedTokens.removeSubrange(reuse...)

        var timings = GenerationTimings()
        timings.promptTokens = prompt.count
        timings.promptTokensEvaluated = prompt.count - reuse
        var logits: UnsafeBufferPointer<Float>
        do {
            logits = try session.evaluate(Array(prompt[reuse...]))
        } catch {
            cachedTokens.removeAll()
            session.reset()
            throw .engine(error)
        }
        cachedTokens.append(contentsOf: prompt[reuse...])
        timings.prefillSeconds = (clock.now - started) / .seconds(1)

        var sampler = Sampler(parameters: request.sampling, vocabularySize: session.model.configuration.vocabularySize)
        for token in prompt.suffix(request.sampling.repetitionWindow) { sampler.accept(token) }
        var decoder = StreamingDecoder(tokenizer: tokenizer)
        var stops = StopSequenceMatcher(stopStrings: request.stopStrings)
        var text = ""
        var generated: [Int32] = []
        var finish = FinishReason.length
        var deadlineReached = false
        var firstTokenAt: ContinuousClock.Instant?
        var stopped = false, cancelled = false

        // Ignoring end-of-generation means never choosing it (as llama.cpp's --ignore-eos
        // does): the model goes on with ordinary text instead of emitting control tokens.
        let masked = request.ignoreEndOfGeneration ? tokenizer.endOfGenerationTokens.filter { Int($0) < logits.count } : []
        while true {
            let scores = UnsafeMutableBufferPointer(mutating: logits)
            for id in masked { scores[Int(id)] = -.infinity }
            let token = sampler.sample(logits: scores)
            if firstTokenAt == nil {
                firstTokenAt = clock.now
                timings.timeToFirstTokenSeconds = (clock.now - started) / .seconds(1)
            }
            if !request.ignoreEndOfGeneration && tokenizer.isEndOfGeneration(token) {
                finish = .stop
                break
            }
            sampler.accept(token)
            generated.append(token)
            let piece = stops.feed(decoder.append(token))
            if !piece.emit.isEmpty {
                text += piece.emit
                if !onText(piece.emit) { finish = .stop; cancelled = true; break }
            }
            if piece.stopped { finish = .stop; stopped = true; break }
            if generated.count >= request.maxTokens { break }
            if session.position >= session.contextLength { break }
            if let deadline = request.deadline, clock.now >= deadline {
                deadlineReached = true
                break
            }
            do {
                logits = try session.evaluate([token])
            } catch {
                throw .engine(error)
            }
            cachedTokens.append(token)
        }
        // Text held back as a possible stop-string prefix (or a partial UTF-8
        // sequence) belongs to the answer unless a stop string or the caller ended it.
        if !stopped && !cancelled {
            let rest = stops.feed(decoder.flush()).emit + stops.finish()
            if !rest.isEmpty {
                text += rest
                _ = onText(rest)
            }
        }
        let finished = clock.now
        timings.generatedTokens = generated.count
        if let firstTokenAt { timings.decodeSeconds = (finished - firstTokenAt) / .seconds(1) }
        timings.totalSeconds = (finished - started) / .seconds(1)
        return GenerationResult(
            text: text, tokens: generated, finishReason: finish,
            deadlineReached: deadlineReached, timings: timings
        )
    }

    /// Drops the cached conversation (e.g. after an error).
    public func reset() {
        cachedTokens.removeAll()
        session.reset()
    }
}
