import Foundation

/// The parts of SentencePiece's `ModelProto` (src/sentencepiece_model.proto) a
/// GGUF needs, read with a minimal protobuf wire-format decoder so the converter
/// needs no protobuf library. Unknown fields are skipped, as protobuf requires.
public struct SentencePieceModelProto: Sendable, Equatable {
    /// `SentencePiece.Type`; raw values are the proto's (BYTE is 6, UNUSED 5).
    public enum PieceType: Int, Sendable {
        case normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
    }

    public struct Piece: Sendable, Equatable {
        public var piece: String
        public var score: Float
        public var type: PieceType
    }

    public var pieces: [Piece] = []
    /// TrainerSpec.model_type: 1 UNIGRAM, 2 BPE, 3 WORD, 4 CHAR.
    public var modelType = 1
    public var unkID = 0
    public var bosID = 1
    public var eosID = 2
    /// -1 when the model has no padding piece.
    public var padID = -1
    public var byteFallback = false
    /// NormalizerSpec.add_dummy_prefix: whether text gets a leading space.
    public var addDummyPrefix = true

    /// Decodes `tokenizer.model` bytes; `file` names them in errors.
    public init(bytes: [UInt8], file: String) throws(CheckpointFileError) {
        try bytes.withUnsafeBufferPointer { (buffer) throws(CheckpointFileError) in
            var reader = WireReader(bytes: buffer, start: 0, end: buffer.count, file: file)
            while let (field, wire) = try reader.nextTag() {
                switch (field, wire) {
                case (1, 2):
                    pieces.append(try Self.piece(reader.subReader()))
                case (2, 2):
                    try readTrainerSpec(reader.subReader())
                case (3, 2):
                    try readNormalizerSpec(reader.subReader())
                default:
                    try reader.skip(wire)
                }
            }
        }
        guard !pieces.isEmpty else {
            throw .malformedProtobuf(file: file, offset: bytes.count, reason: "no pieces (field 1) found")
        }
    }

    public init(contentsOf path: String) throws(CheckpointFileError) {
        let data = try HFConfiguration.readFile(path)
        try self.init(bytes: [UInt8](data), file: path)
    }

    private static func piece(_ reader: WireReader) throws(CheckpointFileError) -> Piece {
        var reader = reader
        let start = reader.offset
        var text: String?
        var score: Float = 0
        var type = PieceType.normal
        while let (field, wire) = try reader.nextTag() {
            switch (field, wire) {
            case (1, 2): text = try reader.string()
            case (2, 5): score = Float(bitPattern: try reader.fixed32())
            case (3, 0):
                let at = reader.offset
                let raw = try reader.varint()
                guard let known = PieceType(rawValue: Int(truncatingIfNeeded: raw)) else {
                    throw reader.error("piece type \(raw) is not one of 1...6", at: at)
                }
                type = known
            default: try reader.skip(wire)
            }
        }
        guard let text else { throw reader.error("piece without its text (field 1)", at: start) }
        return Piece(piece: text, score: score, type: type)
    }

    private mutating func readTrainerSpec(_ reader: WireReader) throws(CheckpointFileError) {
        var reader = reader
        while let (field, wire) = try reader.nextTag() {
            switch (field, wire) {
            case (3, 0): modelType = try reader.int32()
            case (35, 0): byteFallback = try reader.varint() != 0
            case (40, 0): unkID = try reader.int32()
            case (41, 0): bosID = try reader.int32()
            case (42, 0): eosID = try reader.int32()
            case (43, 0): padID = try reader.int32()
            default: try reader.skip(wire)
            }
        }
    }

    private mutating func readNormalizerSpec(_ reader: WireReader) throws(CheckpointFileError) {
        var reader = reader
        while let (field, wire) = try reader.nextTag() {
            if field == 3, wire == 0 {
                addDummyPrefix = try reader.varint() != 0
            } else {
                try reader.skip(wire)
            }
        }
    }
}

/// Reads protobuf wire format from a bounded window of a buffer; every length is
/// checked against the window before it is used.
private struct WireReader {
    let bytes: UnsafeBufferPointer<UInt8>
    private(set) var offset: Int
    let end: Int
    let file: String

    init(bytes: UnsafeBufferPointer<UInt8>, start: Int, end: Int, file: String) {
        self.bytes = bytes
        self.offset = start
        self.end = end
        self.file = file
    }

    func error(_ reason: String, at position: Int? = nil) -> CheckpointFileError {
        .malformedProtobuf(file: file, offset: position ?? offset, reason: reason)
    }

    /// The next (field number, wire type), or nil at the end of the window.
    mutating func nextTag() throws(CheckpointFileError) -> (Int, Int)? {
        guard offset < end else { return nil }
        let at = offset
        let tag = try varint()
        let field = tag >> 3
        guard field > 0, field <= 0x1FFF_FFFF else { throw error("invalid field number \(field)", at: at) }
        return (Int(field), Int(tag & 7))
    }

    mutating func varint() throws(CheckpointFileError) -> UInt64 {
        let start = offset
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < end else { throw error("truncated varint", at: start) }
            let byte = bytes[offset]
            offset += 1
            guard shift < 64 else { throw error("varint longer than 10 bytes", at: start) }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    /// proto int32: negatives are sign-extended to 64 bits on the wire.
    mutating func int32() throws(CheckpointFileError) -> Int {
        Int(Int32(truncatingIfNeeded: Int64(bitPattern: try varint())))
    }

    mutating func fixed32() throws(CheckpointFileError) -> UInt32 {
        guard end - offset >= 4 else { throw error("truncated fixed32") }
        var value: UInt32 = 0
        for i in 0..<4 { value |= UInt32(bytes[offset + i]) << (8 * UInt32(i)) }
        offset += 4
        return value
    }

    /// Bounds of a length-delimited field's payload, advancing past it.
    mutating func lengthDelimited() throws(CheckpointFileError) -> Range<Int> {
        let at = offset
        let length = try varint()
        guard length <= UInt64(end - offset) else {
            throw error("length \(length) runs past the end of its message (\(end - offset) bytes left)", at: at)
        }
        let range = offset..<(offset + Int(length))
        offset = range.upperBound
        return range
    }

    mutating func subReader() throws(CheckpointFileError) -> WireReader {
        let range = try lengthDelimited()
        return WireReader(bytes: bytes, start: range.lowerBound, end: range.upperBound, file: file)
    }

    mutating func string() throws(CheckpointFileError) -> String {
        let range = try lengthDelimited()
        // Not Foundation's String(bytes:encoding:): it drops a leading U+FEFF, which is a real piece.
        // Decoding repairs invalid UTF-8 with U+FFFD, so a changed round trip means invalid input.
        let raw = UnsafeBufferPointer(rebasing: bytes[range])
        let text = String(decoding: raw, as: UTF8.self)
        guard text.utf8.elementsEqual(raw) else { throw error("string is not valid UTF-8", at: range.lowerBound) }
        return text
    }

    mutating func skip(_ wire: Int) throws(CheckpointFileError) {
        let at = offset
        switch wire {
        case 0: _ = try varint()
        case 1:
            guard end - offset >= 8 else { throw error("truncated fixed64") }
            offset += 8
        case 2: _ = try lengthDelimited()
        case 5: _ = try fixed32()
        default: throw error("unsupported wire type \(wire)", at: at)
        }
    }
}
