import Kernels

/// The precisions `convert --type` offers, named as the seed study names them,
/// each mapped onto a standard ggml block layout so llama.cpp reads our files.
public enum QuantizationType: String, CaseIterable, Sendable {
    case f32
    case f16
    case bf16
    /// Q8_0: blocks of 32, fp16 scale, int8 values.
    case int8
    /// Q4_0: blocks of 32, fp16 scale, values q - 8.
    case int4Sym = "int4-sym"
    /// Q4_1: blocks of 32, fp16 scale and fp16 minimum.
    case int4Asym = "int4-asym"

    public var weightType: GGMLType {
        switch self {
        case .f32: return .f32
        case .f16: return .f16
        case .bf16: return .bf16
        case .int8: return .q8_0
        case .int4Sym: return .q4_0
        case .int4Asym: return .q4_1
        }
    }

    /// llama.cpp's `general.file_type` (LLAMA_FTYPE_*) for a file mostly of this type.
    public var fileType: UInt32 {
        switch self {
        case .f32: return 0
        case .f16: return 1
        case .int4Sym: return 2
        case .int4Asym: return 3
        case .int8: return 7
        case .bf16: return 32
        }
    }

    /// The type of each tensor: norms and other vectors stay F32; like NNCF's
    /// default (`all_layers=False`) the token embedding and output head keep 8
    /// bits under 4-bit types unless `allLayers`; rows that are not whole blocks
    /// fall back to F16, as llama.cpp's quantizer does.
    public func tensorType(name: String, shape: [Int], allLayers: Bool) -> GGMLType {
        guard shape.count >= 2 else { return .f32 }
        var type = weightType
        let isEmbeddingOrHead = name == "token_embd.weight" || name == "output.weight"
        if isEmbeddingOrHead && !allLayers && (self == .int4Sym || self == .int4Asym) {
            type = .q8_0
        }
        if shape[0] % type.blockSize != 0 { type = .f16 }
        return type
    }
}
