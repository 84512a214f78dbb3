import Foundation
import Testing
import TestSupport
@testable import Convert

/// Protobuf wire-format encoding, just enough to build ModelProto bytes by hand.
enum Proto {
    static func varint(_ value: UInt64) -> [UInt8] {
        var v = value, out: [UInt8] = []
        while v >= 0x80 { out.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
        return out + [UInt8(v)]
    }
    static func int(_ field: Int, _ value: Int) -> [UInt8] {
        varint(UInt64(field << 3)) + varint(UInt64(bitPattern: Int64(value)))
    }
    static func bytes(_ field: Int, _ payload: [UInt8]) -> [UInt8] {
        varint(UInt64(field << 3 | 2)) + varint(UInt64(payload.count)) + payload
    }
    static func float(_ field: Int, _ value: Float) -> [UInt8] {
        let bits = value.bitPattern
        return varint(UInt64(field << 3 | 5)) + (0..<4).map { UInt8(truncatingIfNeeded: bits >> (8 * $0)) }
    }
    static func piece(_ text: String, _ score: Float, _ type: Int?) -> [UInt8] {
        bytes(1, bytes(1, Array(text.utf8)) + float(2, score) + (type.map { int(3, $0) } ?? []))
    }
}

@Suite("SentencePieceModelProto")
struct SentencePieceModelProtoTests {
    static let small: [UInt8] =
        Proto.piece("<unk>", 0, 2) + Proto.piece("<s>", 0, 3) + Proto.piece("</s>", 0, 3)
        + Proto.piece("<0x41>", 0, 6) + Proto.piece("\u{2581}hé", -1.5, nil) + Proto.piece("<pad>", 0, 5)
        + Proto.piece("<mask>", 0, 4)
        // TrainerSpec: an unknown string field, model_type BPE, byte_fallback, ids (pad -1 is a 10-byte varint).
        + Proto.bytes(2, Proto.bytes(1, Array("corpus.txt".utf8)) + Proto.int(3, 2) + Proto.int(35, 1)
                      + Proto.int(40, 0) + Proto.int(41, 1) + Proto.int(42, 2) + Proto.int(43, -1))
        // NormalizerSpec: name, then add_dummy_prefix false; then an unknown fixed64 field.
        + Proto.bytes(3, Proto.bytes(1, Array("identity".utf8)) + Proto.int(3, 0))
        + Proto.varint(9 << 3 | 1) + [1, 2, 3, 4, 5, 6, 7, 8]

    @Test("decodes pieces, trainer ids and the normalizer flag, skipping unknown fields")
    func decodesHandBuiltModel() throws {
        let model = try SentencePieceModelProto(bytes: Self.small, file: "tokenizer.model")
        #expect(model.pieces.map(\.piece) == ["<unk>", "<s>", "</s>", "<0x41>", "\u{2581}hé", "<pad>", "<mask>"])
        #expect(model.pieces.map(\.type) == [.unknown, .control, .control, .byte, .normal, .unused, .userDefined])
        #expect(model.pieces[4].score == -1.5)
        #expect(model.modelType == 2 && model.byteFallback)
        #expect(model.unkID == 0 && model.bosID == 1 && model.eosID == 2 && model.padID == -1)
        #expect(!model.addDummyPrefix)
    }

    @Test("every truncation of a valid model throws an error naming the file and offset, never crashes")
    func truncations() {
        for length in 0..<Self.small.count {
            do {
                let model = try SentencePieceModelProto(bytes: Array(Self.small[..<length]), file: "t.model")
                // Cutting exactly between top-level fields leaves a valid, shorter model.
                #expect(!model.pieces.isEmpty)
            } catch {
                guard case .malformedProtobuf(let file, let offset, _) = error else {
                    Issue.record("length \(length): \(error)"); continue
                }
                #expect(file == "t.model" && offset <= length)
            }
        }
    }

    @Test("a length running past the end, a bad piece type, bad UTF-8 and groups are reported with their offset")
    func malformed() {
        func failure(_ bytes: [UInt8]) -> (Int, String)? {
            do { _ = try SentencePieceModelProto(bytes: bytes, file: "m"); return nil } catch {
                guard case .malformedProtobuf(_, let offset, let reason) = error else { return nil }
                return (offset, reason)
            }
        }
        let pastEnd = failure(Proto.piece("a", 0, 1) + [0x0A, 0xFF, 0xFF, 0x03, 0x00])
        #expect(pastEnd?.0 == 13 && pastEnd?.1.contains("past the end") == true)
        #expect(failure(Proto.piece("a", 0, 9))?.1.contains("piece type 9") == true)
        #expect(failure(Proto.bytes(1, Proto.bytes(1, [0xC3, 0x28])))?.1.contains("UTF-8") == true)
        #expect(failure([0x0B])?.1.contains("wire type 3") == true)
        #expect(failure(Proto.bytes(2, Proto.int(40, 0)))?.1.contains("no pieces") == true)
        #expect(failure([0x08] + [UInt8](repeating: 0xFF, count: 11))?.1.contains("varint") == true)
    }

    // Oracle: sentencepiece 0.2.3 (PyPI) in the asset venv:
    //   sp = SentencePieceProcessor(model_file=<mistral-tokenizer.model.v1>)
    //   sp.IdToPiece(i), sp.GetScore(i), sp.IsUnknown/IsControl/IsByte/IsUnused(i), sp.bos_id() ...
    // The digest is FNV-1a 64 over, for each id in order, the piece's UTF-8, "\n" and its
    // GGUF token type byte (normal 1, unknown 2, control 3, unused 5, byte 6); the score sum
    // adds Double(score) in id order.
    @Test("decodes Mistral's tokenizer.model exactly as sentencepiece does",
          .enabled(if: TestAssets.has(TestAssets.mistralSentencePiece)))
    func matchesSentencePiece() throws {
        let model = try SentencePieceModelProto(contentsOf: TestAssets.mistralSentencePiece.path)
        #expect(model.pieces.count == 32000)
        #expect(model.unkID == 0 && model.bosID == 1 && model.eosID == 2 && model.padID == -1)
        #expect(model.addDummyPrefix && model.byteFallback)
        let expected: [(Int, String, Float, SentencePieceModelProto.PieceType)] = [
            (0, "<unk>", 0, .unknown), (1, "<s>", 0, .control), (2, "</s>", 0, .control),
            (3, "<0x00>", 0, .byte), (13, "<0x0A>", 0, .byte), (259, "\u{2581}\u{2581}", -1e9, .normal),
            (1000, "ла", -741, .normal), (28705, "\u{2581}", -1e9, .normal), (31759, "\u{FEFF}", -31500, .normal), (31999, "梦", -31740, .normal),
        ]
        for (id, piece, score, type) in expected {
            #expect(model.pieces[id] == .init(piece: piece, score: score, type: type), "id \(id)")
        }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        var scoreSum = 0.0
        for piece in model.pieces {
            let ggufType: UInt8 = switch piece.type {
            case .unknown: 2
            case .control: 3
            case .byte: 6
            case .unused: 5
            default: 1
            }
            for byte in Array(piece.piece.utf8) + [0x0A, ggufType] {
                hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3
            }
            scoreSum += Double(piece.score)
        }
        #expect(hash == 0x7487_eaa8_9c30_6019)
        #expect(scoreSum == -15_503_671_917)
    }
}
