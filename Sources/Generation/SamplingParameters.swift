/// How the next token is chosen from the model's logits.
///
/// Defaults follow llama.cpp's (`--temp 0.8 --top-k 40 --top-p 0.95 --min-p 0.05
/// --repeat-penalty 1.0 --repeat-last-n 64`). A temperature of 0 means greedy
/// decoding: the other filters and the seed are then irrelevant.
public struct SamplingParameters: Sendable, Equatable, Codable {
    /// Divides the logits; 0 selects greedy decoding. Valid range 0...10.
    public var temperature: Float
    /// Keep only the `topK` most likely tokens; 0 disables the filter.
    public var topK: Int
    /// Keep the smallest set of most likely tokens whose probability mass reaches
    /// `topP`; 1 disables the filter. Valid range (0, 1].
    public var topP: Float
    /// Drop tokens whose probability is below `minP` times the most likely token's;
    /// 0 disables the filter. Valid range [0, 1].
    public var minP: Float
    /// llama.cpp's `penalty_repeat`: a logit of a token seen in the last
    /// `repetitionWindow` tokens is divided by this when positive and multiplied
    /// when negative. 1 disables it; must be > 0.
    public var repetitionPenalty: Float
    /// How many of the most recent tokens the repetition penalty looks at (0 disables it).
    public var repetitionWindow: Int
    /// Fixes the random stream so the same prompt and parameters give the same
    /// output; nil draws a fresh seed from the system generator.
    public var seed: UInt64?

    public static let maximumTemperature: Float = 10
    public static let maximumRepetitionWindow = 4096

    public init(
        temperature: Float = 0.8,
        topK: Int = 40,
        topP: Float = 0.95,
        minP: Float = 0.05,
        repetitionPenalty: Float = 1.0,
        repetitionWindow: Int = 64,
        seed: UInt64? = nil
    ) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
        self.repetitionPenalty = repetitionPenalty
        self.repetitionWindow = repetitionWindow
        self.seed = seed
    }

    /// Always picks the most likely token.
    public static let greedy = SamplingParameters(temperature: 0)

    /// Throws the first out-of-range value, named as in the request (so a caller
    /// can show the message to whoever sent it).
    public func validate() throws(SamplingError) {
        // Written as `!(in range)` so that NaN is rejected too.
        if !(temperature >= 0 && temperature <= Self.maximumTemperature) {
            throw .temperatureOutOfRange(temperature)
        }
        if topK < 0 { throw .topKNegative(topK) }
        if !(topP > 0 && topP <= 1) { throw .topPOutOfRange(topP) }
        if !(minP >= 0 && minP <= 1) { throw .minPOutOfRange(minP) }
        if !(repetitionPenalty > 0 && repetitionPenalty.isFinite) {
            throw .repetitionPenaltyOutOfRange(repetitionPenalty)
        }
        if !(0...Self.maximumRepetitionWindow).contains(repetitionWindow) {
            throw .repetitionWindowOutOfRange(repetitionWindow)
        }
    }

    private enum CodingKeys: String, CodingKey {
        case temperature, topK, topP, minP, repetitionPenalty, repetitionWindow, seed
    }

    /// Missing keys take their defaults, so a request may name only what it changes.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = SamplingParameters()
        self.init(
            temperature: try c.decodeIfPresent(Float.self, forKey: .temperature) ?? d.temperature,
            topK: try c.decodeIfPresent(Int.self, forKey: .topK) ?? d.topK,
            topP: try c.decodeIfPresent(Float.self, forKey: .topP) ?? d.topP,
            minP: try c.decodeIfPresent(Float.self, forKey: .minP) ?? d.minP,
            repetitionPenalty: try c.decodeIfPresent(Float.self, forKey: .repetitionPenalty) ?? d.repetitionPenalty,
            repetitionWindow: try c.decodeIfPresent(Int.self, forKey: .repetitionWindow) ?? d.repetitionWindow,
            seed: try c.decodeIfPresent(UInt64.self, forKey: .seed)
        )
    }
}

/// An out-of-range sampling parameter; the message names the field and its valid range.
public enum SamplingError: Error, Equatable, CustomStringConvertible {
    case temperatureOutOfRange(Float)
    case topKNegative(Int)
    case topPOutOfRange(Float)
    case minPOutOfRange(Float)
    case repetitionPenaltyOutOfRange(Float)
    case repetitionWindowOutOfRange(Int)

    public var description: String {
        switch self {
        case .temperatureOutOfRange(let v):
            "temperature must be between 0 and \(Int(SamplingParameters.maximumTemperature)) (0 = greedy), got \(v)"
        case .topKNegative(let v):
            "top_k must be 0 (disabled) or positive, got \(v)"
        case .topPOutOfRange(let v):
            "top_p must be greater than 0 and at most 1 (1 = disabled), got \(v)"
        case .minPOutOfRange(let v):
            "min_p must be between 0 (disabled) and 1, got \(v)"
        case .repetitionPenaltyOutOfRange(let v):
            "repetition_penalty must be a finite number greater than 0 (1 = disabled), got \(v)"
        case .repetitionWindowOutOfRange(let v):
            "repetition window (repeat_last_n) must be between 0 and \(SamplingParameters.maximumRepetitionWindow), got \(v)"
        }
    }
}
