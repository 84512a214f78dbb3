import Kernels

/// A bounds-checked little-endian cursor over a GGUF file's bytes. Every read
/// checks the bytes left first; every count is checked against what could
/// still fit in the file before anything is allocated.
struct GGUFParser {
    struct Parsed {
        var version: UInt32
        var metadata: GGUFMetadata
        var tensors: [GGUFTensorInfo]
        var alignment: Int
        var dataOffset: Int
    }

    private let base: UnsafeRawPointer?
    private let count: Int
    private let file: String
    private var offset = 0
    /// What is being read, for truncation messages.
    private var context = "GGUF magic"
    private var currentKey = ""
    private var arrayElementsSoFar = 0

    private init(bytes: UnsafeRawBufferPointer, file: String) {
        base = bytes.baseAddress
        count = bytes.count
        self.file = file
    }

    static func parse(_ bytes: UnsafeRawBufferPointer, file: String) throws(GGUFError) -> Parsed {
        var parser = GGUFParser(bytes: bytes, file: file)
        return try parser.parseFile()
    }

    private func fail(_ problem: GGUFError.Problem) -> GGUFError {
        GGUFError(file: file, problem: problem)
    }

    private var remaining: Int { count - offset }

    @inline(__always)
    private func need(_ n: Int) throws(GGUFError) {
        guard n <= remaining else {
            throw fail(.truncated(what: context, offset: offset, needed: n, fileSize: count))
        }
    }

    @inline(__always)
    private mutating func read<T: FixedWidthInteger>(_: T.Type) throws(GGUFError) -> T {
        let size = MemoryLayout<T>.size
        try need(size)
        let value = base.unsafelyUnwrapped.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += size
        return T(littleEndian: value)
    }

    /// Strings are decoded with repair: invalid UTF-8 becomes U+FFFD rather than an error,
    /// because vocabularies hold byte fragments that are not valid UTF-8 on their own.
    private mutating func readString(limit: Int) throws(GGUFError) -> String {
        let length = try read(UInt64.self)
        guard length <= UInt64(limit) else {
            throw fail(.stringTooLong(what: context, length: length, limit: limit))
        }
        let n = Int(length)
        try need(n)
        let start = offset
        offset += n
        guard n > 0 else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: base.unsafelyUnwrapped + start, count: n), as: UTF8.self)
    }

    private mutating func parseFile() throws(GGUFError) -> Parsed {
        let version = try parseHeader()
        context = "tensor count"
        let tensorCount = try read(UInt64.self)
        context = "metadata key count"
        let keyCount = try read(UInt64.self)

        // A key takes at least 13 bytes (u64 length, u32 type, 1-byte value).
        guard keyCount <= UInt64(GGUFLimits.maxKeys) else {
            throw fail(.tooManyKeys(count: keyCount, limit: GGUFLimits.maxKeys))
        }
        context = "metadata (\(keyCount) keys)"
        try need(Int(keyCount) * 13)
        let metadata = try parseMetadata(count: Int(keyCount))
        let alignment = try alignment(from: metadata)

        // A tensor info takes at least 32 bytes (name length, one dim, dims count, type, offset).
        guard tensorCount <= UInt64(GGUFLimits.maxTensors) else {
            throw fail(.tooManyTensors(count: tensorCount, limit: GGUFLimits.maxTensors))
        }
        context = "tensor infos (\(tensorCount) tensors)"
        try need(Int(tensorCount) * 32)
        let tensors = try parseTensorInfos(count: Int(tensorCount))

        // offset <= count <= Int.max / 2 and alignment <= 2^30: this cannot overflow.
        let dataOffset = (offset + alignment - 1) / alignment * alignment
        try validateLayout(tensors, dataOffset: dataOffset, alignment: alignment)
        return Parsed(version: version, metadata: metadata, tensors: tensors, alignment: alignment, dataOffset: dataOffset)
    }

    private mutating func parseHeader() throws(GGUFError) -> UInt32 {
        if count < 4 {
            let found = (0..<count).map { base.unsafelyUnwrapped.load(fromByteOffset: $0, as: UInt8.self) }
            guard found == Array("GGUF".utf8.prefix(count)) else { throw fail(.badMagic(found: found)) }
            try need(4)
        }
        let magic = (0..<4).map { base.unsafelyUnwrapped.load(fromByteOffset: $0, as: UInt8.self) }
        if magic == Array("FUGG".utf8) { throw fail(.bigEndian) }
        guard magic == Array("GGUF".utf8) else { throw fail(.badMagic(found: magic)) }
        offset = 4
        context = "GGUF version"
        let version = try read(UInt32.self)
        switch version {
        case 2, 3:
            return version
        default:
            // ggml's big-endian files keep the magic's byte order but swap everything else.
            if version & 0xFFFF == 0, (1...3).contains(version.byteSwapped) { throw fail(.bigEndian) }
            throw fail(.unsupportedVersion(version))
        }
    }

    private mutating func parseMetadata(count keyCount: Int) throws(GGUFError) -> GGUFMetadata {
        var keys: [String] = []
        var values: [String: GGUFValue] = [:]
        keys.reserveCapacity(keyCount)
        values.reserveCapacity(keyCount)
        for index in 0..<keyCount {
            context = "metadata key #\(index)"
            let key = try readString(limit: GGUFLimits.maxKeyLength)
            currentKey = key
            context = "metadata '\(key)'"
            let type = try readValueType()
            let value = try readValue(type, depth: 0)
            guard values.updateValue(value, forKey: key) == nil else {
                throw fail(.duplicateKey(key))
            }
            keys.append(key)
        }
        return GGUFMetadata(keys: keys, values: values, file: file)
    }

    private mutating func readValueType() throws(GGUFError) -> GGUFValueType {
        let id = try read(UInt32.self)
        guard let type = GGUFValueType(rawValue: id) else {
            throw fail(.unknownValueType(key: currentKey, id: id))
        }
        return type
    }

    private mutating func readValue(_ type: GGUFValueType, depth: Int) throws(GGUFError) -> GGUFValue {
        switch type {
        case .uint8: return .uint8(try read(UInt8.self))
        case .int8: return .int8(try read(Int8.self))
        case .uint16: return .uint16(try read(UInt16.self))
        case .int16: return .int16(try read(Int16.self))
        case .uint32: return .uint32(try read(UInt32.self))
        case .int32: return .int32(try read(Int32.self))
        case .uint64: return .uint64(try read(UInt64.self))
        case .int64: return .int64(try read(Int64.self))
        case .float32: return .float32(Float(bitPattern: try read(UInt32.self)))
        case .float64: return .float64(Double(bitPattern: try read(UInt64.self)))
        case .bool: return .bool(try read(UInt8.self) != 0)
        case .string: return .string(try readString(limit: GGUFLimits.maxStringLength))
        case .array: return .array(try readArray(depth: depth + 1))
        }
    }

    private mutating func readArray(depth: Int) throws(GGUFError) -> [GGUFValue] {
        guard depth <= GGUFLimits.maxArrayNesting else {
            throw fail(.nestingTooDeep(key: currentKey, limit: GGUFLimits.maxArrayNesting))
        }
        let elementType = try readValueType()
        let elementCount = try read(UInt64.self)
        guard elementCount <= UInt64(GGUFLimits.maxArrayCount) else {
            throw fail(.arrayTooLong(key: currentKey, count: elementCount, limit: GGUFLimits.maxArrayCount))
        }
        let n = Int(elementCount)
        if n * elementType.minimumSize > remaining {
            context = "array '\(currentKey)' of \(n) \(elementType)"
            try need(n * elementType.minimumSize)
        }
        arrayElementsSoFar += n
        guard arrayElementsSoFar <= GGUFLimits.maxTotalArrayElements else {
            throw fail(.arrayTooLong(key: currentKey, count: elementCount, limit: GGUFLimits.maxTotalArrayElements))
        }
        var elements: [GGUFValue] = []
        elements.reserveCapacity(n)
        for _ in 0..<n {
            elements.append(try readValue(elementType, depth: depth))
        }
        return elements
    }

    private func alignment(from metadata: GGUFMetadata) throws(GGUFError) -> Int {
        let key = "general.alignment"
        guard let value = metadata[key] else { return GGUFLimits.defaultAlignment }
        guard case .uint32(let alignment) = value else {
            throw fail(.wrongType(key: key, expected: "uint32", found: value.typeName))
        }
        guard alignment > 0, alignment & (alignment - 1) == 0, alignment <= GGUFLimits.maxAlignment else {
            throw fail(.badAlignment(UInt64(alignment)))
        }
        return Int(alignment)
    }

    private mutating func parseTensorInfos(count tensorCount: Int) throws(GGUFError) -> [GGUFTensorInfo] {
        var tensors: [GGUFTensorInfo] = []
        tensors.reserveCapacity(tensorCount)
        var seen = Set<String>(minimumCapacity: tensorCount)
        for index in 0..<tensorCount {
            context = "tensor info #\(index)"
            let name = try readString(limit: GGUFLimits.maxTensorNameLength)
            context = "tensor info '\(name)'"
            let dimensionCount = try read(UInt32.self)
            guard dimensionCount <= UInt32(GGUFLimits.maxDimensions) else {
                throw fail(.tooManyDims(name: name, count: dimensionCount))
            }
            var dims: [UInt64] = []
            dims.reserveCapacity(Int(dimensionCount))
            for _ in 0..<dimensionCount { dims.append(try read(UInt64.self)) }
            let typeID = try read(UInt32.self)
            let relativeOffset = try read(UInt64.self)

            guard seen.insert(name).inserted else { throw fail(.duplicateTensorName(name)) }
            let (shape, type, byteCount) = try validateShape(name: name, dims: dims, typeID: typeID)
            guard relativeOffset <= UInt64(Int.max / 2) else {
                throw fail(.tensorOutOfBounds(name: name, start: Int.max, end: Int.max, fileSize: count))
            }
            tensors.append(GGUFTensorInfo(name: name, shape: shape, type: type,
                                          offset: Int(relativeOffset), byteCount: byteCount))
        }
        return tensors
    }

    private func validateShape(name: String, dims: [UInt64], typeID: UInt32) throws(GGUFError) -> ([Int], GGMLType, Int) {
        guard !dims.isEmpty else { throw fail(.badShape(name: name, shape: dims, issue: .noDimensions)) }
        guard !dims.contains(0) else { throw fail(.badShape(name: name, shape: dims, issue: .zeroDimension)) }
        var elements = 1
        for dim in dims {
            guard dim <= UInt64(Int.max) else { throw fail(.badShape(name: name, shape: dims, issue: .overflow)) }
            let (product, overflow) = elements.multipliedReportingOverflow(by: Int(dim))
            guard !overflow else { throw fail(.badShape(name: name, shape: dims, issue: .overflow)) }
            elements = product
        }
        guard let type = GGMLType(rawValue: typeID) else {
            throw fail(.unknownTensorType(name: name, id: typeID))
        }
        guard Int(dims[0]) % type.blockSize == 0 else {
            throw fail(.badShape(name: name, shape: dims, issue: .rowNotMultipleOfBlock(type: type)))
        }
        guard let byteCount = type.byteCount(elements: elements) else {
            throw fail(.badShape(name: name, shape: dims, issue: .overflow))
        }
        return (dims.map { Int($0) }, type, byteCount)
    }

    /// Every tensor must be aligned, inside the file, and clear of every other.
    private func validateLayout(_ tensors: [GGUFTensorInfo], dataOffset: Int, alignment: Int) throws(GGUFError) {
        for tensor in tensors {
            guard tensor.offset % alignment == 0 else {
                throw fail(.tensorMisaligned(name: tensor.name, offset: tensor.offset, alignment: alignment))
            }
            // dataOffset and offset are both <= Int.max / 2, so start cannot overflow.
            let start = dataOffset + tensor.offset
            let (end, overflow) = start.addingReportingOverflow(tensor.byteCount)
            guard !overflow, end <= count else {
                throw fail(.tensorOutOfBounds(name: tensor.name, start: start, end: overflow ? Int.max : end, fileSize: count))
            }
        }
        let byOffset = tensors.indices.sorted { tensors[$0].offset < tensors[$1].offset }
        for (a, b) in zip(byOffset, byOffset.dropFirst()) {
            let first = tensors[a], second = tensors[b]
            guard first.offset + first.byteCount <= second.offset else {
                throw fail(.tensorsOverlap(first.name, second.name))
            }
        }
    }
}
