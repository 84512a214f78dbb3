#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a GGUF writer's bytes go: a file descriptor (buffered) or memory.
/// Tensor data sources write into it, which lets a converter stream one
/// tensor at a time instead of holding the whole model in memory.
public final class GGUFDataSink {
    private enum Target {
        case memory
        case file(fd: Int32, path: String)
    }

    public private(set) var bytesWritten = 0
    private let target: Target
    private var buffer: [UInt8] = []
    private static let flushThreshold = 1 << 20

    init(memoryCapacity: Int) {
        target = .memory
        buffer.reserveCapacity(memoryCapacity)
    }

    init(fd: Int32, path: String) {
        target = .file(fd: fd, path: path)
        buffer.reserveCapacity(Self.flushThreshold)
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws(GGUFWriterError) {
        bytesWritten += bytes.count
        switch target {
        case .memory:
            buffer.append(contentsOf: bytes)
        case .file(let fd, let path):
            if buffer.count + bytes.count <= Self.flushThreshold {
                buffer.append(contentsOf: bytes)
            } else {
                try flush()
                if bytes.count >= Self.flushThreshold {
                    try Self.writeAll(fd: fd, path: path, bytes)
                } else {
                    buffer.append(contentsOf: bytes)
                }
            }
        }
    }

    public func write(_ bytes: [UInt8]) throws(GGUFWriterError) {
        try bytes.withUnsafeBytes { raw in Result { () throws(GGUFWriterError) in try write(raw) } }.get()
    }

    /// Writes values in host byte order, which is GGUF's little-endian on every supported CPU.
    public func write<T: BitwiseCopyable>(contentsOf values: [T]) throws(GGUFWriterError) {
        try values.withUnsafeBytes { raw in Result { () throws(GGUFWriterError) in try write(raw) } }.get()
    }

    func writeZeros(_ count: Int) throws(GGUFWriterError) {
        guard count > 0 else { return }
        try write([UInt8](repeating: 0, count: count))
    }

    func flush() throws(GGUFWriterError) {
        guard case .file(let fd, let path) = target, !buffer.isEmpty else { return }
        try buffer.withUnsafeBytes { raw in
            Result { () throws(GGUFWriterError) in try Self.writeAll(fd: fd, path: path, raw) }
        }.get()
        buffer.removeAll(keepingCapacity: true)
    }

    func takeMemory() -> [UInt8] {
        defer { buffer = [] }
        return buffer
    }

    private static func writeAll(fd: Int32, path: String, _ bytes: UnsafeRawBufferPointer) throws(GGUFWriterError) {
        var done = 0
        while done < bytes.count {
            let n = systemWrite(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw GGUFWriterError.io(path: path, message: "write failed: \(String(cString: strerror(errno)))")
            }
            done += n
        }
    }
}

/// The C `write`, named apart from the sink's own `write` methods.
private func systemWrite(_ fd: Int32, _ pointer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, pointer, count)
}
