#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Builds a safetensors file: an 8-byte little-endian header length, a JSON
/// header (tensors in insertion order, padded with spaces so the data section
/// starts 8-byte aligned), then every tensor's bytes back to back with no gaps,
/// as the reference implementation requires. All shapes are known up front, so
/// the header goes first and each tensor's bytes can be produced while the file
/// is written: a 13 GB model never sits in memory.
///
/// Errors reuse `GGUFWriterError` (duplicate names, bad shapes, byte counts, I/O):
/// the data sink is shared with the GGUF writer and its cases say the same thing.
public struct SafetensorsWriter {
    public enum TensorData {
        case bytes([UInt8])
        /// Called once while the file is written; must write exactly the tensor's byte count.
        case stream((GGUFDataSink) throws -> Void)
    }

    public struct Tensor {
        public let name: String
        public let dtype: SafetensorsDType
        /// Row-major, PyTorch order: the last dimension varies fastest.
        public let shape: [Int]
        public let byteCount: Int
        public let data: TensorData
    }

    /// The header's `__metadata__` (string to string, as the format allows); omitted when empty.
    public var metadata: [(key: String, value: String)]
    public private(set) var tensors: [Tensor] = []
    private var tensorNames: Set<String> = []

    public init(metadata: [(key: String, value: String)] = []) {
        self.metadata = metadata
    }

    /// Total bytes of tensor data, which is the file size less the header.
    public var dataSize: Int { tensors.reduce(0) { $0 + $1.byteCount } }

    public mutating func addTensor(name: String, dtype: SafetensorsDType, shape: [Int], bytes: [UInt8]) throws(GGUFWriterError) {
        let byteCount = try checkTensor(name: name, dtype: dtype, shape: shape)
        guard bytes.count == byteCount else {
            throw .byteCountMismatch(name: name, expected: byteCount, written: bytes.count)
        }
        tensorNames.insert(name)
        tensors.append(Tensor(name: name, dtype: dtype, shape: shape, byteCount: byteCount, data: .bytes(bytes)))
    }

    /// Adds a tensor whose bytes `write` produces, in row-major order, when the file is written.
    public mutating func addTensor(name: String, dtype: SafetensorsDType, shape: [Int],
                                   write: @escaping (GGUFDataSink) throws -> Void) throws(GGUFWriterError) {
        let byteCount = try checkTensor(name: name, dtype: dtype, shape: shape)
        tensorNames.insert(name)
        tensors.append(Tensor(name: name, dtype: dtype, shape: shape, byteCount: byteCount, data: .stream(write)))
    }

    /// The length prefix and the padded JSON header: everything before the first tensor byte.
    public func headerBytes() -> [UInt8] {
        var json = "{"
        var first = true
        func separate() {
            if !first { json += "," }
            first = false
        }
        if !metadata.isEmpty {
            separate()
            json += "\"__metadata__\":{"
            json += metadata.map { "\(JSONString.quoted($0.key)):\(JSONString.quoted($0.value))" }.joined(separator: ",")
            json += "}"
        }
        var offset = 0
        for tensor in tensors {
            separate()
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            json += "\(JSONString.quoted(tensor.name)):{\"dtype\":\"\(tensor.dtype.rawValue)\",\"shape\":[\(shape)],"
            json += "\"data_offsets\":[\(offset),\(offset + tensor.byteCount)]}"
            offset += tensor.byteCount
        }
        json += "}"
        var header = Array(json.utf8)
        header.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - header.count % 8) % 8))
        var out: [UInt8] = []
        out.reserveCapacity(8 + header.count)
        out.appendLE(UInt64(header.count))
        out.append(contentsOf: header)
        return out
    }

    /// The whole file in memory. Throws `GGUFWriterError`, or whatever a tensor's source throws.
    public func serialized() throws -> [UInt8] {
        let header = headerBytes()
        let sink = GGUFDataSink(memoryCapacity: header.count + dataSize)
        try emit(into: sink, header: header)
        return sink.takeMemory()
    }

    /// Writes atomically: a temporary file in the same directory, fsync, then rename,
    /// so readers never see a half-written model. Throws `GGUFWriterError`, or whatever
    /// a tensor's source throws (the temporary file is removed then).
    public func write(to path: String) throws {
        let header = headerBytes()
        try AtomicFileWrite.write(to: path) { sink in try emit(into: sink, header: header) }
    }

    private func checkTensor(name: String, dtype: SafetensorsDType, shape: [Int]) throws(GGUFWriterError) -> Int {
        guard !name.isEmpty, name != "__metadata__" else {
            throw .badShape(name: name, shape: shape, reason: "the name is empty or reserved")
        }
        guard !tensorNames.contains(name) else { throw .duplicateTensorName(name) }
        guard shape.count <= SafetensorsLimits.maxDimensions else {
            throw .badShape(name: name, shape: shape, reason: "more than \(SafetensorsLimits.maxDimensions) dimensions")
        }
        guard shape.allSatisfy({ $0 >= 0 }) else { throw .badShape(name: name, shape: shape, reason: "a dimension is negative") }
        var byteCount = dtype.byteSize
        for dim in shape {
            let (product, overflow) = byteCount.multipliedReportingOverflow(by: dim)
            guard !overflow else { throw .badShape(name: name, shape: shape, reason: "too many bytes") }
            byteCount = product
        }
        return byteCount
    }

    private func emit(into sink: GGUFDataSink, header: [UInt8]) throws {
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
        }
    }
}
