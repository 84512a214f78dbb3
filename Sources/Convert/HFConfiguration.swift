import Foundation
import ModelFiles

/// A Hugging Face `config.json` for the Llama family, keeping the checkpoint's
/// own key names so the file and this type read side by side.
public struct HFConfiguration: Decodable, Sendable, Equatable {
    public static let supportedArchitectures = ["LlamaForCausalLM", "MistralForCausalLM"]

    /// `rope_scaling`: Hugging Face spells the kind `rope_type` (newer) or `type` (older).
    public struct RopeScaling: Decodable, Sendable, Equatable {
        public static let supportedTypes = ["linear"]
        public var type: String
        public var factor: Double?

        enum CodingKeys: String, CodingKey { case ropeType = "rope_type", type, factor }

        public init(type: String, factor: Double?) {
            self.type = type
            self.factor = factor
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            guard let kind = try c.decodeIfPresent(String.self, forKey: .ropeType)
                ?? c.decodeIfPresent(String.self, forKey: .type) else {
                throw DecodingError.keyNotFound(CodingKeys.ropeType, .init(
                    codingPath: c.codingPath, debugDescription: "rope_scaling has neither rope_type nor type"))
            }
            type = kind
            factor = try c.decodeIfPresent(Double.self, forKey: .factor)
        }
    }

    public var architectures: [String]
    public var hiddenSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    public var numKeyValueHeads: Int
    public var intermediateSize: Int
    public var vocabSize: Int
    public var maxPositionEmbeddings: Int
    public var rmsNormEps: Double
    public var ropeTheta: Double
    public var tieWordEmbeddings: Bool
    public var torchDtype: String?
    /// Explicit per-head size; nil means hidden_size / num_attention_heads.
    public var headDim: Int?
    public var bosTokenID: Int?
    /// Hugging Face allows one id or several; the first is the primary end token.
    public var eosTokenIDs: [Int]
    public var ropeScaling: RopeScaling?

    enum CodingKeys: String, CodingKey {
        case architectures
        case hiddenSize = "hidden_size"
        case numHiddenLayers = "num_hidden_layers"
        case numAttentionHeads = "num_attention_heads"
        case numKeyValueHeads = "num_key_value_heads"
        case intermediateSize = "intermediate_size"
        case vocabSize = "vocab_size"
        case maxPositionEmbeddings = "max_position_embeddings"
        case rmsNormEps = "rms_norm_eps"
        case ropeTheta = "rope_theta"
        case tieWordEmbeddings = "tie_word_embeddings"
        case torchDtype = "torch_dtype"
        case headDim = "head_dim"
        case bosTokenID = "bos_token_id"
        case eosTokenID = "eos_token_id"
        case ropeScaling = "rope_scaling"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        architectures = try c.decodeIfPresent([String].self, forKey: .architectures) ?? []
        hiddenSize = try c.decode(Int.self, forKey: .hiddenSize)
        numHiddenLayers = try c.decode(Int.self, forKey: .numHiddenLayers)
        numAttentionHeads = try c.decode(Int.self, forKey: .numAttentionHeads)
        numKeyValueHeads = try c.decodeIfPresent(Int.self, forKey: .numKeyValueHeads) ?? numAttentionHeads
        intermediateSize = try c.decode(Int.self, forKey: .intermediateSize)
        vocabSize = try c.decode(Int.self, forKey: .vocabSize)
        maxPositionEmbeddings = try c.decode(Int.self, forKey: .maxPositionEmbeddings)
        rmsNormEps = try c.decode(Double.self, forKey: .rmsNormEps)
        ropeTheta = try c.decodeIfPresent(Double.self, forKey: .ropeTheta) ?? 10000
        tieWordEmbeddings = try c.decodeIfPresent(Bool.self, forKey: .tieWordEmbeddings) ?? false
        torchDtype = try c.decodeIfPresent(String.self, forKey: .torchDtype)
        headDim = try c.decodeIfPresent(Int.self, forKey: .headDim)
        bosTokenID = try c.decodeIfPresent(Int.self, forKey: .bosTokenID)
        if let single = try? c.decodeIfPresent(Int.self, forKey: .eosTokenID) {
            eosTokenIDs = [single]
        } else {
            eosTokenIDs = try c.decodeIfPresent([Int].self, forKey: .eosTokenID) ?? []
        }
        ropeScaling = try c.decodeIfPresent(RopeScaling.self, forKey: .ropeScaling)
    }

    /// Reads and validates `directory/config.json`.
    public static func load(directory: String) throws(CheckpointFileError) -> HFConfiguration {
        let path = (directory as NSString).appendingPathComponent("config.json")
        let data = try readFile(path)
        return try decode(data, file: path)
    }

    /// Decodes and validates config.json's bytes; `file` names them in errors.
    public static func decode(_ data: Data, file: String = "config.json") throws(CheckpointFileError) -> HFConfiguration {
        let configuration: HFConfiguration
        do {
            configuration = try JSONDecoder().decode(HFConfiguration.self, from: data)
        } catch let error as DecodingError {
            throw .invalidJSON(file: file, reason: describe(error))
        } catch {
            throw .invalidJSON(file: file, reason: "\(error)")
        }
        try configuration.validate(file: file)
        return configuration
    }

    public var headDimension: Int { headDim ?? hiddenSize / numAttentionHeads }

    func validate(file: String) throws(CheckpointFileError) {
        guard architectures.contains(where: Self.supportedArchitectures.contains) else {
            throw .unsupportedArchitecture(file: file, found: architectures, supported: Self.supportedArchitectures)
        }
        // GGUF stores these as uint32; anything larger is a corrupt file, not a model.
        let limit = Int(UInt32.max)
        func positive(_ value: Int, _ field: String) throws(CheckpointFileError) {
            guard value > 0, value <= limit else {
                throw .invalidField(file: file, field: field, reason: "is \(value); must be between 1 and \(limit)")
            }
        }
        try positive(hiddenSize, "hidden_size")
        try positive(numHiddenLayers, "num_hidden_layers")
        try positive(numAttentionHeads, "num_attention_heads")
        try positive(numKeyValueHeads, "num_key_value_heads")
        try positive(intermediateSize, "intermediate_size")
        try positive(vocabSize, "vocab_size")
        try positive(maxPositionEmbeddings, "max_position_embeddings")
        if let headDim {
            try positive(headDim, "head_dim")
            guard headDim % 2 == 0 else {
                throw .invalidField(file: file, field: "head_dim", reason: "is \(headDim); RoPE needs an even size")
            }
        } else {
            guard hiddenSize % numAttentionHeads == 0, (hiddenSize / numAttentionHeads) % 2 == 0 else {
                throw .invalidField(file: file, field: "hidden_size", reason:
                    "\(hiddenSize) must split into \(numAttentionHeads) heads of an even size (num_attention_heads)")
            }
        }
        guard numAttentionHeads % numKeyValueHeads == 0 else {
            throw .invalidField(file: file, field: "num_key_value_heads", reason:
                "\(numKeyValueHeads) must divide num_attention_heads \(numAttentionHeads)")
        }
        guard rmsNormEps.isFinite, rmsNormEps > 0, rmsNormEps < 1 else {
            throw .invalidField(file: file, field: "rms_norm_eps", reason: "is \(rmsNormEps); must be in (0, 1)")
        }
        guard ropeTheta.isFinite, ropeTheta > 1 else {
            throw .invalidField(file: file, field: "rope_theta", reason: "is \(ropeTheta); must be a finite number > 1")
        }
        for (field, id) in [("bos_token_id", bosTokenID)] + eosTokenIDs.map({ ("eos_token_id", $0) }) {
            if let id, id < 0 || id >= vocabSize {
                throw .invalidField(file: file, field: field, reason: "is \(id); must be below vocab_size \(vocabSize)")
            }
        }
        if let ropeScaling {
            guard RopeScaling.supportedTypes.contains(ropeScaling.type) else {
                throw .unsupportedRopeScaling(file: file, type: ropeScaling.type, supported: RopeScaling.supportedTypes)
            }
            guard let factor = ropeScaling.factor, factor.isFinite, factor >= 1 else {
                throw .invalidField(file: file, field: "rope_scaling.factor", reason:
                    "is \(ropeScaling.factor.map { "\($0)" } ?? "missing"); linear scaling needs a factor >= 1")
            }
        }
    }

    /// The `general.*` and `llama.*` keys llama.cpp's converter writes for this model.
    public func ggufMetadata(name: String) -> [(String, GGUFValue)] {
        var entries: [(String, GGUFValue)] = [
            ("general.architecture", .string("llama")),
            ("general.name", .string(name)),
            ("llama.block_count", .uint32(UInt32(numHiddenLayers))),
            ("llama.context_length", .uint32(UInt32(maxPositionEmbeddings))),
            ("llama.embedding_length", .uint32(UInt32(hiddenSize))),
            ("llama.feed_forward_length", .uint32(UInt32(intermediateSize))),
            ("llama.attention.head_count", .uint32(UInt32(numAttentionHeads))),
            ("llama.attention.head_count_kv", .uint32(UInt32(numKeyValueHeads))),
            ("llama.rope.freq_base", .float32(Float(ropeTheta))),
            ("llama.attention.layer_norm_rms_epsilon", .float32(Float(rmsNormEps))),
            ("llama.vocab_size", .uint32(UInt32(vocabSize))),
            ("llama.rope.dimension_count", .uint32(UInt32(headDimension))),
        ]
        if let headDim {
            entries.append(("llama.attention.key_length", .uint32(UInt32(headDim))))
            entries.append(("llama.attention.value_length", .uint32(UInt32(headDim))))
        }
        if let ropeScaling, let factor = ropeScaling.factor {
            entries.append(("llama.rope.scaling.type", .string(ropeScaling.type)))
            entries.append(("llama.rope.scaling.factor", .float32(Float(factor))))
        }
        return entries
    }

    static func readFile(_ path: String) throws(CheckpointFileError) -> Data {
        guard FileManager.default.fileExists(atPath: path) else { throw .missingFile(path) }
        // Foundation on Linux leaks its 4 KB read buffer for an empty file (fuzz/run's
        // LeakSanitizer found it: fuzz/regressions/checkpoint); there is nothing to read anyway.
        if let size = try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int, size == 0 { return Data() }
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw .unreadableFile(path, reason: error.localizedDescription)
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map(\.stringValue).joined(separator: ".")
            return keys.isEmpty ? "" : "field \"\(keys)\": "
        }
        switch error {
        case .keyNotFound(let key, let context):
            let parent = context.codingPath.map(\.stringValue) + [key.stringValue]
            return "missing field \"\(parent.joined(separator: "."))\""
        case .typeMismatch(let type, let context):
            return "\(path(context))expected \(type)"
        case .valueNotFound(let type, let context):
            return "\(path(context))expected \(type), found null"
        case .dataCorrupted(let context):
            return "\(path(context))\(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}
