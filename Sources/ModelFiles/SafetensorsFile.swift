import Foundation
import Kernels

/// The element types of the safetensors format, spelled as in its headers.
/// Sub-byte types (F4, F6_*) are not listed: their byte ranges are not whole elements.
public enum SafetensorsDType: String, Sendable, CaseIterable {
    case bool = "BOOL"
    case u8 = "U8", i8 = "I8"
    case f8e5m2 = "F8_E5M2", f8e4m3 = "F8_E4M3", f8e8m0 = "F8_E8M0"
    case i16 = "I16", u16 = "U16", f16 = "F16", bf16 = "BF16"
    case i32 = "I32", u32 = "U32", f32 = "F32"
    case i64 = "I64", u64 = "U64", f64 = "F64", c64 = "C64"

    public var byteSize: Int {
        switch self {
        case .bool, .u8, .i8, .f8e5m2, .f8e4m3, .f8e8m0: return 1
        case .i16, .u16, .f16, .bf16: return 2
        case .i32, .u32, .f32: return 4
        case .i64, .u64, .f64, .c64: return 8
        }
    }

    /// The ggml type with the same element layout, for the dtypes that convert to Float.
    public var floatType: GGMLType? {
        switch self {
        case .f32: return .f32
        case .f16: return .f16
        case .bf16: return .bf16
        default: return nil
        }
    }
}

/// Where one tensor lives in a safetensors file, already validated against it.
public struct SafetensorsTensorInfo: Sendable, Equatable {
    public let name: String
    public let dtype: SafetensorsDType
    /// Row-major (C order, PyTorch order): the LAST dimension varies fastest,
    /// the reverse of ggml's ne0-first shapes. An empty shape is a scalar.
    public let shape: [Int]
    /// Absolute byte range in the file.
    public let byteRange: Range<Int>

    public var elementCount: Int { shape.reduce(1, *) }
    public var byteCount: Int { byteRange.count }
}

/// Caps on what a safetensors header may claim, so a hostile file cannot make
/// the reader allocate or recurse without bound.
public enum SafetensorsLimits {
    /// The reference implementation's own cap.
    public static let maxHeaderLength = 100_000_000
    public static let maxDimensions = 8
}

/// A parsed, fully validated safetensors file. Tensor data is not copied:
/// `data(for:)` returns views into the read-only mapping, valid while this
/// object lives. Validation follows the reference implementation: tensors
/// tile the data section exactly (no overlaps, no gaps, nothing after the last).
public final class SafetensorsFile: @unchecked Sendable {
    /// The path it was read from, or the name given to in-memory bytes.
    public let path: String
    /// Tensors in file order: sorted by data offset (zero-sized tensors at the same offset by name).
    public let tensors: [SafetensorsTensorInfo]
    /// The header's `__metadata__`, empty when absent.
    public let metadata: [String: String]
    /// Where the data section starts: 8 + the header length.
    public let dataOffset: Int
    /// The whole file. Immutable, hence the `@unchecked Sendable`.
    public let bytes: UnsafeRawBufferPointer
    private let storage: AnyObject
    private let indexByName: [String: Int]

    public var fileSize: Int { bytes.count }

    /// Maps the file read-only and validates it.
    public convenience init(path: String) throws(SafetensorsError) {
        let mapped: MappedFile
        do {
            mapped = try MappedFile(path: path)
        } catch {
            throw SafetensorsError(file: path, problem: .io(message: error.reasonDescription))
        }
        try self.init(storage: mapped, bytes: mapped.bytes, name: path)
    }

    /// Parses a copy of `bytes`; `name` stands in for the path in messages.
    public convenience init(bytes: [UInt8], name: String) throws(SafetensorsError) {
        let owned = SafetensorsOwnedBytes(count: bytes.count)
        bytes.withUnsafeBytes { if $0.count > 0 { owned.buffer.copyMemory(from: $0) } }
        try self.init(storage: owned, bytes: UnsafeRawBufferPointer(owned.buffer), name: name)
    }

    private init(storage: AnyObject, bytes: UnsafeRawBufferPointer, name: String) throws(SafetensorsError) {
        let parsed = try SafetensorsHeaderParser(bytes: bytes, file: name).parse()
        self.storage = storage
        self.bytes = bytes
        path = name
        tensors = parsed.tensors
        metadata = parsed.metadata
        dataOffset = parsed.dataOffset
        var index: [String: Int] = [:]
        index.reserveCapacity(tensors.count)
        for (i, tensor) in tensors.enumerated() { index[tensor.name] = i }
        indexByName = index
    }

    public func tensor(named name: String) -> SafetensorsTensorInfo? {
        indexByName[name].map { tensors[$0] }
    }

    /// The tensor's bytes, in place. `tensor` must come from this file.
    public func data(for tensor: SafetensorsTensorInfo) -> UnsafeRawBufferPointer {
        precondition(tensor.byteRange.lowerBound >= dataOffset && tensor.byteRange.upperBound <= bytes.count,
                     "tensor '\(tensor.name)' is not from \(path)")
        return UnsafeRawBufferPointer(rebasing: bytes[tensor.byteRange])
    }

    /// Converts the row-major elements `elements` of an F32, F16 or BF16
    /// tensor to Float, so a converter can stream a large tensor row by row.
    /// `tensor` must come from this file and `elements` lie within it.
    public func readFloats(
        _ tensor: SafetensorsTensorInfo, elements: Range<Int>, into destination: UnsafeMutablePointer<Float>
    ) throws(SafetensorsError) {
        guard let type = tensor.dtype.floatType else {
            throw SafetensorsError(file: path, problem: .notConvertible(tensor: tensor.name, dtype: tensor.dtype))
        }
        precondition(elements.lowerBound >= 0 && elements.upperBound <= tensor.elementCount,
                     "elements \(elements) outside tensor '\(tensor.name)' of \(tensor.elementCount)")
        guard !elements.isEmpty else { return }
        let size = tensor.dtype.byteSize
        let source = data(for: tensor).baseAddress.unsafelyUnwrapped + elements.lowerBound * size
        if Int(bitPattern: source) % size == 0 {
            Dequantize.row(type, source, destination, count: elements.count)
            return
        }
        // The format does not promise aligned data; the kernels load whole
        // elements, so misaligned ones go through an aligned bounce buffer.
        let chunk = 4096
        let bounce = UnsafeMutableRawPointer.allocate(byteCount: chunk * size, alignment: 16)
        defer { bounce.deallocate() }
        var done = 0
        while done < elements.count {
            let n = min(chunk, elements.count - done)
            bounce.copyMemory(from: source + done * size, byteCount: n * size)
            Dequantize.row(type, bounce, destination + done, count: n)
            done += n
        }
    }

    /// The whole tensor as Floats; `destination` must hold `tensor.elementCount`.
    public func readFloats(_ tensor: SafetensorsTensorInfo, into destination: UnsafeMutableBufferPointer<Float>) throws(SafetensorsError) {
        precondition(destination.count >= tensor.elementCount, "buffer too small for tensor '\(tensor.name)'")
        guard let base = destination.baseAddress else {
            if tensor.dtype.floatType == nil {
                throw SafetensorsError(file: path, problem: .notConvertible(tensor: tensor.name, dtype: tensor.dtype))
            }
            return
        }
        try readFloats(tensor, elements: 0..<tensor.elementCount, into: base)
    }
}

/// Reads and checks the header against the file it came from.
private struct SafetensorsHeaderParser {
    struct Parsed {
        var tensors: [SafetensorsTensorInfo]
        var metadata: [String: String]
        var dataOffset: Int
    }

    let bytes: UnsafeRawBufferPointer
    let file: String

    private func fail(_ problem: SafetensorsError.Problem) -> SafetensorsError {
        SafetensorsError(file: file, problem: problem)
    }

    func parse() throws(SafetensorsError) -> Parsed {
        guard bytes.count >= 8 else { throw fail(.tooShort(fileSize: bytes.count)) }
        let length = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        guard length > 0 else { throw fail(.emptyHeader) }
        guard length <= UInt64(SafetensorsLimits.maxHeaderLength) else {
            throw fail(.headerTooLarge(length: length, limit: SafetensorsLimits.maxHeaderLength))
        }
        guard length <= UInt64(bytes.count - 8) else { throw fail(.headerPastEnd(length: length, fileSize: bytes.count)) }
        let dataOffset = 8 + Int(length)
        let root: JSONValue
        do {
            root = try JSONValue.parse(UnsafeRawBufferPointer(rebasing: bytes[8..<dataOffset]))
        } catch {
            if case .duplicateKey(let name) = error.reason { throw fail(.duplicateTensorName(name)) }
            throw fail(.headerNotJSON(offset: 8 + error.offset, reason: error.description))
        }
        guard case .object(let header) = root else { throw fail(.headerNotObject(found: root.kindDescription)) }

        let dataSize = bytes.count - dataOffset
        var metadata: [String: String] = [:]
        var tensors: [SafetensorsTensorInfo] = []
        tensors.reserveCapacity(header.count)
        for name in header.keys {
            let value = header[name]!
            if name == "__metadata__" {
                metadata = try parseMetadata(value)
                continue
            }
            tensors.append(try parseTensor(name, value, dataOffset: dataOffset, dataSize: dataSize))
        }
        tensors.sort { ($0.byteRange.lowerBound, $0.byteRange.upperBound, $0.name) < ($1.byteRange.lowerBound, $1.byteRange.upperBound, $1.name) }
        try checkTiling(tensors, dataOffset: dataOffset)
        return Parsed(tensors: tensors, metadata: metadata, dataOffset: dataOffset)
    }

    private func parseMetadata(_ value: JSONValue) throws(SafetensorsError) -> [String: String] {
        guard case .object(let object) = value else { throw fail(.badMetadata(key: nil, found: value.kindDescription)) }
        var metadata: [String: String] = [:]
        for key in object.keys {
            guard case .string(let string) = object[key]! else {
                throw fail(.badMetadata(key: key, found: object[key]!.kindDescription))
            }
            metadata[key] = string
        }
        return metadata
    }

    private func field(_ name: String, _ entry: JSONObject, _ key: String) throws(SafetensorsError) -> JSONValue {
        guard let value = entry[key] else { throw fail(.missingField(tensor: name, field: key)) }
        return value
    }

    private func parseTensor(_ name: String, _ value: JSONValue, dataOffset: Int, dataSize: Int) throws(SafetensorsError) -> SafetensorsTensorInfo {
        guard case .object(let entry) = value else {
            throw fail(.wrongFieldType(tensor: name, field: "(entry)", expected: "an object", found: value.kindDescription))
        }
        let dtypeValue = try field(name, entry, "dtype")
        guard case .string(let dtypeName) = dtypeValue else {
            throw fail(.wrongFieldType(tensor: name, field: "dtype", expected: "a string", found: dtypeValue.kindDescription))
        }
        guard let dtype = SafetensorsDType(rawValue: dtypeName) else { throw fail(.unknownDType(tensor: name, dtype: dtypeName)) }

        let shape = try integers(name, entry, "shape")
        guard shape.count <= SafetensorsLimits.maxDimensions else {
            throw fail(.tooManyDimensions(tensor: name, count: shape.count, limit: SafetensorsLimits.maxDimensions))
        }
        guard shape.allSatisfy({ $0 >= 0 }) else { throw fail(.negativeDimension(tensor: name, shape: shape)) }
        var byteCount = dtype.byteSize
        for dim in shape {
            let (product, overflow) = byteCount.multipliedReportingOverflow(by: dim)
            guard !overflow else { throw fail(.sizeOverflow(tensor: name, shape: shape)) }
            byteCount = product
        }

        let offsets = try integers(name, entry, "data_offsets")
        guard offsets.count == 2 else {
            throw fail(.wrongFieldType(tensor: name, field: "data_offsets", expected: "[begin, end]",
                                       found: "an array of \(offsets.count) integers"))
        }
        let (begin, end) = (offsets[0], offsets[1])
        guard begin >= 0, begin <= end else { throw fail(.badOffsets(tensor: name, begin: begin, end: end)) }
        guard end <= dataSize else { throw fail(.tensorPastEnd(tensor: name, end: end, dataSize: dataSize)) }
        guard end - begin == byteCount else {
            throw fail(.sizeMismatch(tensor: name, dtype: dtype, shape: shape, expected: byteCount, actual: end - begin))
        }
        // end <= dataSize, so these sums stay within the file size.
        return SafetensorsTensorInfo(name: name, dtype: dtype, shape: shape, byteRange: (dataOffset + begin)..<(dataOffset + end))
    }

    private func integers(_ name: String, _ entry: JSONObject, _ key: String) throws(SafetensorsError) -> [Int] {
        let value = try field(name, entry, key)
        let expected = key == "shape" ? "an array of integers" : "[begin, end] integers"
        guard case .array(let items) = value else {
            throw fail(.wrongFieldType(tensor: name, field: key, expected: expected, found: value.kindDescription))
        }
        var result: [Int] = []
        result.reserveCapacity(items.count)
        for item in items {
            guard case .integer(let n) = item else {
                throw fail(.wrongFieldType(tensor: name, field: key, expected: expected, found: "an array holding \(item.kindDescription)"))
            }
            result.append(n)
        }
        return result
    }

    /// Sorted tensors must cover the data section end to end, each starting where the last ended.
    private func checkTiling(_ tensors: [SafetensorsTensorInfo], dataOffset: Int) throws(SafetensorsError) {
        var covered = dataOffset
        var owner: String?
        for tensor in tensors {
            let range = tensor.byteRange
            if range.lowerBound < covered, let owner {
                throw fail(.tensorsOverlap(owner, tensor.name))
            }
            if range.lowerBound > covered {
                throw fail(.unindexedData(begin: covered - dataOffset, end: range.lowerBound - dataOffset, after: owner))
            }
            if !range.isEmpty || owner == nil {
                covered = range.upperBound
                owner = tensor.name
            }
        }
        if covered < bytes.count {
            throw fail(.unindexedData(begin: covered - dataOffset, end: bytes.count - dataOffset, after: owner))
        }
    }
}

/// Heap copy for in-memory files, page-aligned like a mapping.
private final class SafetensorsOwnedBytes {
    private let base: UnsafeMutableRawPointer
    let buffer: UnsafeMutableRawBufferPointer

    init(count: Int) {
        base = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 4096)
        buffer = UnsafeMutableRawBufferPointer(start: base, count: count)
    }

    deinit { base.deallocate() }
}
