#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Kernels

/// Builds a GGUF v3 file: ordered metadata, then tensor infos, then each
/// tensor's data padded to the alignment (`general.alignment`, default 32).
/// Tensor bytes come from a pluggable source so a converter can produce them
/// one tensor at a time while the file is written.
public struct GGUFWriter {
    public enum TensorData {
        case bytes([UInt8])
        /// Called once while the file is written; must write exactly the tensor's byte count.
        case stream((GGUFDataSink) throws -> Void)
    }

    public struct Tensor {
        public let name: String
        public let shape: [Int]
        public let type: GGMLType
        public let byteCount: Int
        public let data: TensorData
    }

    public private(set) var metadata: [(key: String, value: GGUFValue)] = []
    public private(set) var tensors: [Tensor] = []
    private var keyIndex: [String: Int] = [:]
    private var tensorNames: Set<String> = []

    public init() {}

    /// Starts from an existing file's metadata, in its order.
    public init(metadata: GGUFMetadata) {
        for key in metadata.keys { set(key, metadata[key]!) }
    }

    /// Sets a key, keeping its position if it already exists and appending it otherwise.
    public mutating func set(_ key: String, _ value: GGUFValue) {
        if let index = keyIndex[key] {
            metadata[index].value = value
        } else {
            keyIndex[key] = metadata.count
            metadata.append((key, value))
        }
    }

    public mutating func removeValue(forKey key: String) {
        guard let index = keyIndex.removeValue(forKey: key) else { return }
        metadata.remove(at: index)
        for i in index..<metadata.count { keyIndex[metadata[i].key] = i }
    }

    public subscript(key: String) -> GGUFValue? { keyIndex[key].map { metadata[$0].value } }

    public mutating func addTensor(name: String, shape: [Int], type: GGMLType, bytes: [UInt8]) throws(GGUFWriterError) {
        let byteCount = try checkTensor(name: name, shape: shape, type: type)
        guard bytes.count == byteCount else {
            throw .byteCountMismatch(name: name, expected: byteCount, written: bytes.count)
        }
        tensorNames.insert(name)
        tensors.append(Tensor(name: name, shape: shape, type: type, byteCount: byteCount, data: .bytes(bytes)))
    }

    /// Adds a tensor whose bytes `write` produces when the file is written.
    public mutating func addTensor(name: String, shape: [Int], type: GGMLType,
                                   write: @escaping (GGUFDataSink) throws -> Void) throws(GGUFWriterError) {
        let byteCount = try checkTensor(name: name, shape: shape, type: type)
        tensorNames.insert(name)
        tensors.append(Tensor(name: name, shape: shape, type: type, byteCount: byteCount, data: .stream(write)))
    }

    /// The alignment the file will use, from `general.alignment` or the default.
    public func alignment() throws(GGUFWriterError) -> Int {
        let key = "general.alignment"
        guard let value = self[key] else { return GGUFLimits.defaultAlignment }
        guard case .uint32(let a) = value, a > 0, a & (a - 1) == 0, a <= GGUFLimits.maxAlignment else {
            throw .badAlignment(key: key, found: "\(value)")
        }
        return Int(a)
    }

    /// The whole file in memory. Throws `GGUFWriterError`, or whatever a tensor's source throws.
    public func serialized() throws -> [UInt8] {
        let header = try headerBytes()
        let sink = GGUFDataSink(memoryCapacity: header.bytes.count + header.dataSize)
        try emit(into: sink, header: header.bytes)
        return sink.takeMemory()
    }

    /// Writes atomically: a temporary file in the same directory, fsync, then rename,
    /// so readers never see a half-written model. Throws `GGUFWriterError`, or whatever
    /// a tensor's source throws (the temporary file is removed then).
    public func write(to path: String) throws {
        let header = try headerBytes()
        try AtomicFileWrite.write(to: path) { sink in try emit(into: sink, header: header.bytes) }
    }

    // MARK: - Layout

    private func checkTensor(name: String, shape: [Int], type: GGMLType) throws(GGUFWriterError) -> Int {
        guard name.utf8.count <= GGUFLimits.maxTensorNameLength else { throw .tensorNameTooLong(name) }
        guard !tensorNames.contains(name) else { throw .duplicateTensorName(name) }
        guard (1...GGUFLimits.maxDimensions).contains(shape.count) else {
            throw .badShape(name: name, shape: shape, reason: "needs 1 to \(GGUFLimits.maxDimensions) dimensions")
        }
        guard shape.allSatisfy({ $0 >= 1 }) else {
            throw .badShape(name: name, shape: shape, reason: "every dimension must be at least 1")
        }
        guard shape[0] % type.blockSize == 0 else {
            throw .badShape(name: name, shape: shape, reason: "\(type) rows must be a multiple of \(type.blockSize)")
        }
        var elements = 1
        for dim in shape {
            let (product, overflow) = elements.multipliedReportingOverflow(by: dim)
            guard !overflow else { throw .badShape(name: name, shape: shape, reason: "too many elements") }
            elements = product
        }
        guard let byteCount = type.byteCount(elements: elements) else {
            throw .badShape(name: name, shape: shape, reason: "too many bytes")
        }
        return byteCount
    }

    private func headerBytes() throws(GGUFWriterError) -> (bytes: [UInt8], dataSize: Int) {
        let alignment = try alignment()
        var out: [UInt8] = []
        out.append(contentsOf: Array("GGUF".utf8))
        out.appendLE(UInt32(3))
        out.appendLE(UInt64(tensors.count))
        out.appendLE(UInt64(metadata.count))
        for (key, value) in metadata {
            guard key.utf8.count <= GGUFLimits.maxKeyLength else { throw .keyTooLong(key) }
            out.appendString(key)
            out.appendLE(value.type.rawValue)
            try Self.append(value, key: key, depth: 0, to: &out)
        }
        var offset = 0
        for tensor in tensors {
            out.appendString(tensor.name)
            out.appendLE(UInt32(tensor.shape.count))
            for dim in tensor.shape { out.appendLE(UInt64(dim)) }
            out.appendLE(tensor.type.rawValue)
            out.appendLE(UInt64(offset))
            offset += Self.padded(tensor.byteCount, to: alignment)
        }
        out.append(contentsOf: repeatElement(0, count: Self.padded(out.count, to: alignment) - out.count))
        return (out, offset)
    }

    private func emit(into sink: GGUFDataSink, header: [UInt8]) throws {
        let alignment = try alignment()
        try sink.write(header)
        for tensor in tensors {
            let start = sink.bytesWritten
            switch tensor.data {
            case .bytes(let bytes): try sink.write(bytes)
            case .stream(let produce): try produce(sink)
            }
            let written = sink.bytesWritten - start
            guard written == tensor.byteCount else {
                throw GGUFWriterError.byteCountMismatch(name: tensor.name, expected: tensor.byteCount, written: written)
            }
            try sink.writeZeros(Self.padded(written, to: alignment) - written)
        }
    }

    private static func append(_ value: GGUFValue, key: String, depth: Int, to out: inout [UInt8]) throws(GGUFWriterError) {
        switch value {
        case .uint8(let v): out.append(v)
        case .int8(let v): out.append(UInt8(bitPattern: v))
        case .uint16(let v): out.appendLE(v)
        case .int16(let v): out.appendLE(v)
        case .uint32(let v): out.appendLE(v)
        case .int32(let v): out.appendLE(v)
        case .uint64(let v): out.appendLE(v)
        case .int64(let v): out.appendLE(v)
        case .float32(let v): out.appendLE(v.bitPattern)
        case .float64(let v): out.appendLE(v.bitPattern)
        case .bool(let v): out.append(v ? 1 : 0)
        case .string(let v): out.appendString(v)
        case .array(let elements):
            guard depth < GGUFLimits.maxArrayNesting else { throw .nestingTooDeep(key: key) }
            // An empty array's element type is not recoverable from the value; uint8 is as good as any.
            let elementType = elements.first?.type ?? .uint8
            guard elements.allSatisfy({ $0.type == elementType }) else { throw .mixedArray(key: key) }
            out.appendLE(elementType.rawValue)
            out.appendLE(UInt64(elements.count))
            for element in elements { try append(element, key: key, depth: depth + 1, to: &out) }
        }
    }

    private static func padded(_ n: Int, to alignment: Int) -> Int {
        (n + alignment - 1) / alignment * alignment
    }

}

extension [UInt8] {
    mutating func appendLE<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    mutating func appendString(_ s: String) {
        appendLE(UInt64(s.utf8.count))
        append(contentsOf: s.utf8)
    }
}
