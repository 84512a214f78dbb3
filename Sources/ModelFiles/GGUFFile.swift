import Foundation
import Kernels

/// A parsed, fully validated GGUF file (v2 or v3, little-endian). Tensor data
/// is not copied: `data(for:)` returns views into the mapping, valid as long
/// as this object lives. Parsing checks every count, size and offset, so a
/// file that loads can be read anywhere its tensors claim without faults.
public final class GGUFFile: @unchecked Sendable {
    /// The path it was read from, or the name given to in-memory bytes.
    public let path: String
    public let version: UInt32
    public let metadata: GGUFMetadata
    /// Tensors in file order.
    public let tensors: [GGUFTensorInfo]
    public let alignment: Int
    /// Where the data section starts; tensor offsets are relative to it.
    public let dataOffset: Int
    /// The whole file. Immutable, hence the `@unchecked Sendable`.
    public let bytes: UnsafeRawBufferPointer
    private let storage: AnyObject
    private let indexByName: [String: Int]

    public var fileSize: Int { bytes.count }
    public var architecture: String? { metadata.string("general.architecture") }

    /// Maps the file read-only and validates it.
    public convenience init(path: String) throws(GGUFError) {
        let mapped: MappedFile
        do {
            mapped = try MappedFile(path: path)
        } catch {
            throw GGUFError(file: path, problem: .io(path: path, message: error.reasonDescription))
        }
        try self.init(storage: mapped, bytes: mapped.bytes, name: path)
    }

    /// Parses a copy of `bytes`; `name` stands in for the path in messages.
    public convenience init(bytes: [UInt8], name: String) throws(GGUFError) {
        let owned = OwnedBytes(count: bytes.count)
        bytes.withUnsafeBytes { if $0.count > 0 { owned.buffer.copyMemory(from: $0) } }
        try self.init(storage: owned, bytes: UnsafeRawBufferPointer(owned.buffer), name: name)
    }

    public convenience init(data: Data, name: String) throws(GGUFError) {
        let owned = OwnedBytes(count: data.count)
        data.withUnsafeBytes { if $0.count > 0 { owned.buffer.copyMemory(from: $0) } }
        try self.init(storage: owned, bytes: UnsafeRawBufferPointer(owned.buffer), name: name)
    }

    private init(storage: AnyObject, bytes: UnsafeRawBufferPointer, name: String) throws(GGUFError) {
        let parsed = try GGUFParser.parse(bytes, file: name)
        self.storage = storage
        self.bytes = bytes
        path = name
        version = parsed.version
        metadata = parsed.metadata
        tensors = parsed.tensors
        alignment = parsed.alignment
        dataOffset = parsed.dataOffset
        var index: [String: Int] = [:]
        index.reserveCapacity(tensors.count)
        for (i, tensor) in tensors.enumerated() { index[tensor.name] = i }
        indexByName = index
    }

    /// The same mapping and tensors with other metadata (e.g.
    /// `metadata.removingArrays(longerThan:)` for a file held while serving).
    public func replacingMetadata(_ metadata: GGUFMetadata) -> GGUFFile {
        GGUFFile(copying: self, metadata: metadata)
    }

    private init(copying other: GGUFFile, metadata: GGUFMetadata) {
        storage = other.storage
        bytes = other.bytes
        path = other.path
        version = other.version
        self.metadata = metadata
        tensors = other.tensors
        alignment = other.alignment
        dataOffset = other.dataOffset
        indexByName = other.indexByName
    }

    public func tensor(named name: String) -> GGUFTensorInfo? {
        indexByName[name].map { tensors[$0] }
    }

    /// The tensor's bytes, in place. `tensor` must come from this file.
    public func data(for tensor: GGUFTensorInfo) -> UnsafeRawBufferPointer {
        let start = dataOffset + tensor.offset
        precondition(tensor.offset >= 0 && tensor.byteCount >= 0 && tensor.byteCount <= bytes.count - start,
                     "tensor '\(tensor.name)' is not from \(path)")
        return UnsafeRawBufferPointer(rebasing: bytes[start..<(start + tensor.byteCount)])
    }

    /// The named tensor's info and bytes, or nil when the file has no such tensor.
    public func tensorData(named name: String) -> (info: GGUFTensorInfo, bytes: UnsafeRawBufferPointer)? {
        guard let info = tensor(named: name) else { return nil }
        return (info, data(for: info))
    }
}

/// Heap copy for in-memory files, aligned like a page so tensor data keeps the
/// same alignment it would have in a mapping.
private final class OwnedBytes {
    private let base: UnsafeMutableRawPointer
    let buffer: UnsafeMutableRawBufferPointer

    init(count: Int) {
        base = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 4096)
        buffer = UnsafeMutableRawBufferPointer(start: base, count: count)
    }

    deinit { base.deallocate() }
}
