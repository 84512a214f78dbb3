/// Encodes a SentencePiece `ModelProto` (src/sentencepiece_model.proto) in
/// protobuf wire format: the pieces, a trainer spec and a normalizer spec,
/// enough for Google's sentencepiece and `SentencePieceModelProto` to load it
/// as a Llama-2-style BPE tokenizer with byte fallback.
public struct SentencePieceModelWriter: Sendable {
    public var pieces: [SentencePieceModelProto.Piece]
    /// TrainerSpec.model_type: 1 UNIGRAM, 2 BPE, 3 WORD, 4 CHAR.
    public var modelType = 2
    public var unkID = 0
    public var bosID = 1
    public var eosID = 2
    /// -1 when there is no padding piece.
    public var padID = -1
    public var byteFallback = true
    public var normalizerName = "identity"
    public var addDummyPrefix = true
    public var removeExtraWhitespaces = false

    public init(pieces: [SentencePieceModelProto.Piece]) {
        self.pieces = pieces
    }

    public func serialized() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(pieces.count * 16 + 64)
        var piece: [UInt8] = []
        for p in pieces {
            piece.removeAll(keepingCapacity: true)
            Self.appendString(1, p.piece, to: &piece)
            Self.appendTag(2, wire: 5, to: &piece)
            withUnsafeBytes(of: p.score.bitPattern.littleEndian) { piece.append(contentsOf: $0) }
            // NORMAL is the proto default, which Google's serializer omits too.
            if p.type != .normal { Self.appendVarintField(3, UInt64(p.type.rawValue), to: &piece) }
            Self.appendMessage(1, piece, to: &out)
        }

        var trainer: [UInt8] = []
        Self.appendVarintField(3, UInt64(modelType), to: &trainer)
        Self.appendVarintField(4, UInt64(pieces.count), to: &trainer)
        Self.appendVarintField(35, byteFallback ? 1 : 0, to: &trainer)
        for (field, id) in [(40, unkID), (41, bosID), (42, eosID), (43, padID)] {
            // proto int32: negatives travel as their 64-bit two's complement.
            Self.appendVarintField(field, UInt64(bitPattern: Int64(id)), to: &trainer)
        }
        Self.appendMessage(2, trainer, to: &out)

        var normalizer: [UInt8] = []
        Self.appendString(1, normalizerName, to: &normalizer)
        Self.appendVarintField(3, addDummyPrefix ? 1 : 0, to: &normalizer)
        Self.appendVarintField(4, removeExtraWhitespaces ? 1 : 0, to: &normalizer)
        Self.appendVarintField(5, 1, to: &normalizer)  // escape_whitespaces: spaces become U+2581
        Self.appendMessage(3, normalizer, to: &out)
        return out
    }

    private static func appendVarint(_ value: UInt64, to out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    private static func appendTag(_ field: Int, wire: Int, to out: inout [UInt8]) {
        appendVarint(UInt64(field << 3 | wire), to: &out)
    }

    private static func appendVarintField(_ field: Int, _ value: UInt64, to out: inout [UInt8]) {
        appendTag(field, wire: 0, to: &out)
        appendVarint(value, to: &out)
    }

    private static func appendMessage(_ field: Int, _ payload: [UInt8], to out: inout [UInt8]) {
        appendTag(field, wire: 2, to: &out)
        appendVarint(UInt64(payload.count), to: &out)
        out.append(contentsOf: payload)
    }

    private static func appendString(_ field: Int, _ text: String, to out: inout [UInt8]) {
        appendTag(field, wire: 2, to: &out)
        appendVarint(UInt64(text.utf8.count), to: &out)
        out.append(contentsOf: text.utf8)
    }
}
