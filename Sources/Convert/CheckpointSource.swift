import Foundation
import ModelFiles

/// One tensor a source can hand to the converter, already in GGUF's naming and
/// layout (`shape[0]` = row length), read a row block at a time so that no
/// tensor is ever held whole in memory.
public struct SourceTensor: @unchecked Sendable {
    public let name: String
    public let shape: [Int]
    /// Fills `count` rows starting at `row` (each `shape[0]` floats) into `destination`.
    public let readRows: @Sendable (_ row: Int, _ count: Int, _ destination: UnsafeMutablePointer<Float>) throws -> Void
    /// Hands the source's pages back to the OS once the tensor is written, so a
    /// 13 GB checkpoint streams through without piling up in our resident set.
    public let release: @Sendable () -> Void

    public init(
        name: String, shape: [Int],
        readRows: @escaping @Sendable (Int, Int, UnsafeMutablePointer<Float>) throws -> Void,
        release: @escaping @Sendable () -> Void
    ) {
        self.name = name
        self.shape = shape
        self.readRows = readRows
        self.release = release
    }

    public var rowLength: Int { shape[0] }
    public var rowCount: Int { shape.dropFirst().reduce(1, *) }
}

/// Where a conversion reads from: a Hugging Face directory or a GGUF file.
public protocol CheckpointSource: Sendable {
    /// Human-readable origin, for messages.
    var description: String { get }
    /// Every GGUF key except the file type, in the order to write them.
    var metadata: [(String, GGUFValue)] { get }
    var tensors: [SourceTensor] { get }
}

public enum CheckpointSources {
    /// A `.gguf` file or a directory with config.json: whichever `path` is.
    public static func open(_ path: String) throws -> any CheckpointSource {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ConversionError.input("\(path): no such file or directory")
        }
        if isDirectory.boolValue { return try HFCheckpointSource(directory: path) }
        return try GGUFCheckpointSource(path: path)
    }
}
