import Foundation
import Kernels
import ModelFiles

/// Progress of a conversion, reported after each block of rows.
public struct ConversionProgress: Sendable {
    public var tensorIndex: Int
    public var tensorCount: Int
    public var tensorName: String
    public var bytesWritten: Int
    public var bytesTotal: Int
}

/// What a finished conversion produced.
public struct ConversionReport: Sendable {
    public var outputPath: String
    public var type: QuantizationType
    public var bytes: Int
    public var seconds: Double
    /// Tensor name -> stored type, in file order (what `inspect --tensors` shows).
    public var tensorTypes: [(name: String, type: GGMLType)]
}

/// Streams a checkpoint into a llama.cpp-compatible GGUF: tensor by tensor,
/// a block of rows at a time (dequantize -> quantize in parallel), written to a
/// temporary file that is fsynced and renamed only when complete.
public struct Converter: Sendable {
    public var type: QuantizationType
    public var allLayers: Bool
    public var threads: Int
    /// Floats per row block: bounds the converter's memory whatever the model size.
    public var blockElements = 1 << 20

    public init(type: QuantizationType, allLayers: Bool = false, threads: Int = 1) {
        self.type = type
        self.allLayers = allLayers
        self.threads = max(1, threads)
    }

    public func convert(
        _ source: any CheckpointSource, to outputPath: String,
        progress: @escaping @Sendable (ConversionProgress) -> Void = { _ in }
    ) throws -> ConversionReport {
        let clock = ContinuousClock()
        let started = clock.now
        var writer = GGUFWriter()
        for (key, value) in source.metadata { writer.set(key, value) }
        writer.set("general.file_type", .uint32(type.fileType))
        writer.set("general.quantization_version", .uint32(2))

        let tensors = source.tensors
        var plan: [(SourceTensor, GGMLType)] = []
        var total = 0
        for tensor in tensors {
            let target = type.tensorType(name: tensor.name, shape: tensor.shape, allLayers: allLayers)
            plan.append((tensor, target))
            total += target.byteCount(elements: tensor.rowLength * tensor.rowCount) ?? 0
        }

        let pool = ThreadPool(threads: threads)
        let counter = ByteCounter(total: total, count: plan.count, progress: progress)
        let elements = blockElements
        for (index, (tensor, target)) in plan.enumerated() {
            try writer.addTensor(name: tensor.name, shape: tensor.shape, type: target) { sink in
                try Self.stream(tensor, as: target, into: sink, pool: pool, blockElements: elements) { bytes in
                    counter.add(bytes, tensor: tensor.name, index: index)
                }
                tensor.release()
            }
        }
        do {
            try writer.write(to: outputPath)
        } catch let error as GGUFWriterError {
            throw ConversionError.output(path: outputPath, reason: "\(error)")
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: outputPath)[.size] as? Int) ?? 0
        return ConversionReport(
            outputPath: outputPath, type: type, bytes: size,
            seconds: (clock.now - started) / .seconds(1),
            tensorTypes: plan.map { ($0.0.name, $0.1) }
        )
    }

    /// Rows in blocks: workers each dequantize and quantize their rows into one
    /// output buffer, which is then written in order.
    static func stream(
        _ tensor: SourceTensor, as target: GGMLType, into sink: GGUFDataSink, pool: ThreadPool,
        blockElements: Int, written: (Int) -> Void
    ) throws {
        let rowLength = tensor.rowLength, rows = tensor.rowCount
        let rowBytes = target.byteCount(elements: rowLength)!
        let blockRows = max(1, min(rows, blockElements / max(1, rowLength)))
        let floats = UnsafeMutablePointer<Float>.allocate(capacity: blockRows * rowLength)
        let output = UnsafeMutableRawPointer.allocate(byteCount: blockRows * rowBytes, alignment: 64)
        defer {
            floats.deallocate()
            output.deallocate()
        }
        let failure = FirstError()
        var row = 0
        while row < rows {
            let count = min(blockRows, rows - row)
            let start = row
            // Split the block into one slice per thread; each slice reads and quantizes its own rows.
            let slices = min(pool.threadCount, count)
            pool.parallelFor(slices) { slice in
                let lo = start + count * slice / slices, hi = start + count * (slice + 1) / slices
                guard hi > lo else { return }
                do {
                    try tensor.readRows(lo, hi - lo, floats + (lo - start) * rowLength)
                } catch {
                    failure.record(error)
                    return
                }
                for r in lo..<hi {
                    Quantize.row(target, floats + (r - start) * rowLength, output + (r - start) * rowBytes, count: rowLength)
                }
            }
            if let error = failure.error { throw error }
            try sink.write(UnsafeRawBufferPointer(start: output, count: count * rowBytes))
            written(count * rowBytes)
            row += count
        }
    }
}

/// The first error any worker hit (workers cannot throw across the pool).
final class FirstError: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: (any Error)?
    var error: (any Error)? { lock.withLock { stored } }
    func record(_ error: any Error) { lock.withLock { if stored == nil { stored = error } } }
}

/// Sums bytes written across tensors for progress reports.
final class ByteCounter: @unchecked Sendable {
    let total: Int
    let count: Int
    let progress: @Sendable (ConversionProgress) -> Void
    private var done = 0

    init(total: Int, count: Int, progress: @escaping @Sendable (ConversionProgress) -> Void) {
        self.total = total
        self.count = count
        self.progress = progress
    }

    func add(_ bytes: Int, tensor: String, index: Int) {
        done += bytes
        progress(ConversionProgress(tensorIndex: index, tensorCount: count, tensorName: tensor, bytesWritten: done, bytesTotal: total))
    }
}
