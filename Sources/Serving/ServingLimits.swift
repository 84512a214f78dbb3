/// The limits the front doors enforce on every request, in one place so the local
/// server and the Lambda runtime refuse the same things with the same messages.
public struct ServingLimits: Sendable, Equatable {
    /// Largest request body read, in bytes (1 MiB): bigger ones get 413 before parsing.
    public var maxBodyBytes = 1 << 20
    /// Largest `max_tokens` a request may ask for.
    public var maxTokensCap = 4096
    /// `max_tokens` when a request gives none; shrunk to what the context has left.
    public var defaultMaxTokens = 256
    /// As OpenAI: at most four stop strings.
    public var maxStopStrings = 4
    /// Longest stop string, in UTF-8 bytes.
    public var maxStopStringBytes = 256
    /// Most messages in one chat request.
    public var maxMessages = 512

    public init() {}

    /// OpenAI's range for `temperature` (the sampler itself accepts more).
    public static let maxTemperature: Double = 2
}
