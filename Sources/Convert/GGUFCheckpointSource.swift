import Kernels
import ModelFiles

/// Re-quantization: any GGUF the engine reads, dequantized row by row. Its
/// tensors are already in llama.cpp's layout, so names and order pass through.
public struct GGUFCheckpointSource: CheckpointSource {
    public let file: GGUFFile
    public var description: String { file.path }

    public init(path: String) throws {
        file = try GGUFFile(path: path)
        guard !file.tensors.isEmpty else {
            throw ConversionError.input("\(path): a vocabulary-only GGUF has no weights to convert")
        }
    }

    /// Keys that describe the old encoding, not the model: the writer sets them anew.
    static let droppedKeys: Set<String> = ["general.file_type", "general.alignment", "general.quantization_version"]

    public var metadata: [(String, GGUFValue)] {
        file.metadata.keys.filter { !Self.droppedKeys.contains($0) }.map { ($0, file.metadata[$0]!) }
    }

    public var tensors: [SourceTensor] {
        let file = self.file
        return file.tensors.map { info in
            let rowLength = info.shape[0]
            let rowBytes = info.type.byteCount(elements: rowLength)!
            return SourceTensor(
                name: info.name, shape: info.shape,
                readRows: { row, count, destination in
                    let base = file.data(for: info).baseAddress!
                    for i in 0..<count {
                        Dequantize.row(info.type, base + (row + i) * rowBytes, destination + i * rowLength, count: rowLength)
                    }
                },
                release: { PageRelease.release(file.data(for: info)) }
            )
        }
    }
}
