import ModelFiles

/// The KV cache a model grows to, from its GGUF header: the engine keeps keys and values
/// of every position of every layer in F16 (2 bytes; the runtime's fast precision), for a context of
/// min(context_length, 4096) unless LAMBDA_LLM_CONTEXT says otherwise. Used where no study
/// measured the peak, and to say how memory grows with context where one did.
public struct KVCacheEstimate: Sendable, Equatable {
    /// The engine's default context when the runtime is not told one (Generation.LoadedModel).
    public static let defaultContextCap = 4096
    /// F16 keys and values, as the runtime keeps them (Engine's KVCache.Element.f16).
    public static let bytesPerValue = 2

    public var layers: Int
    /// Positions the cache holds.
    public var contextLength: Int
    /// The model's own context_length (2048 when the file does not say, as the engine assumes).
    public var modelContextLength: Int
    /// Key plus value floats per position per layer: kv_heads x (key_length + value_length).
    public var valuesPerPosition: Int

    /// Bytes one position adds across all layers.
    public var bytesPerPosition: Int64 { Int64(layers) * Int64(valuesPerPosition) * Int64(Self.bytesPerValue) }
    /// Bytes at the full `contextLength`.
    public var bytes: Int64 { bytesPerPosition * Int64(contextLength) }

    public init(layers: Int, contextLength: Int, modelContextLength: Int, valuesPerPosition: Int) {
        self.layers = layers
        self.contextLength = contextLength
        self.modelContextLength = modelContextLength
        self.valuesPerPosition = valuesPerPosition
    }

    public enum Failure: Error, CustomStringConvertible, Equatable, Sendable {
        case missing(key: String, file: String)
        case outOfRange(key: String, value: Int, range: ClosedRange<Int>, file: String)

        public var description: String {
            switch self {
            case .missing(let key, let file):
                "\(file): GGUF metadata '\(key)' is missing, so the KV cache cannot be estimated (is this a Llama-family model?)"
            case .outOfRange(let key, let value, let range, let file):
                "\(file): GGUF metadata '\(key)' = \(value) is outside \(range.lowerBound)...\(range.upperBound)"
            }
        }
    }

    /// Reads `ARCH.block_count`, `ARCH.embedding_length`, `ARCH.attention.head_count(_kv)`,
    /// optional `ARCH.attention.key_length`/`value_length` and `ARCH.context_length`.
    /// `context` replaces the default cap (the LAMBDA_LLM_CONTEXT the template will set).
    public init(metadata: GGUFMetadata, context: Int? = nil) throws(Failure) {
        let file = metadata.file
        guard let arch = metadata.string("general.architecture") else {
            throw .missing(key: "general.architecture", file: file)
        }
        func required(_ suffix: String, _ range: ClosedRange<Int>) throws(Failure) -> Int {
            let key = "\(arch).\(suffix)"
            guard let value = metadata.int(key) else { throw .missing(key: key, file: file) }
            guard range.contains(value) else { throw .outOfRange(key: key, value: value, range: range, file: file) }
            return value
        }
        func optional(_ suffix: String, _ range: ClosedRange<Int>) throws(Failure) -> Int? {
            let key = "\(arch).\(suffix)"
            guard let value = metadata.int(key) else { return nil }
            guard range.contains(value) else { throw .outOfRange(key: key, value: value, range: range, file: file) }
            return value
        }
        // Ranges as wide as any real model and small enough that the products below cannot overflow.
        let layers = try required("block_count", 1...10_000)
        let embedding = try required("embedding_length", 1...1_048_576)
        let heads = try required("attention.head_count", 1...65_536)
        let kvHeads = try optional("attention.head_count_kv", 1...65_536) ?? heads
        let headDimension = max(1, embedding / heads)
        let keyLength = try optional("attention.key_length", 1...65_536) ?? headDimension
        let valueLength = try optional("attention.value_length", 1...65_536) ?? headDimension
        let modelContext = try optional("context_length", 1...16_777_216) ?? 2048
        self.init(layers: layers, contextLength: context ?? min(modelContext, Self.defaultContextCap),
                  modelContextLength: modelContext, valuesPerPosition: kvHeads * (keyLength + valueLength))
    }

    /// e.g. "30 layers x 4,096 positions x 384 F16 values".
    public var shapeDescription: String {
        "\(layers) layers x \(Format.grouped(contextLength)) positions x \(Format.grouped(valuesPerPosition)) F16 values"
    }
}
