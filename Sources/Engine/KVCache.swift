import Kernels

/// Keys and values of every past position, per layer, in F32 or F16.
/// Sized once to the requested context; memory is reserved lazily by the OS,
/// so resident size grows with the positions actually used.
public final class KVCache: @unchecked Sendable {
    /// How cached keys and values are stored.
    public enum Element: String, Sendable, CaseIterable {
        /// Exact: what the projections produced.
        case f32
        /// Half the memory and half the bytes attention reads, as llama.cpp keeps its
        /// cache by default; rounding costs ~5e-4 relative per value.
        case f16

        public var byteCount: Int { self == .f32 ? 4 : 2 }
    }

    public let layerCount: Int
    public let capacity: Int
    public let kvDimension: Int
    public let element: Element
    private let keys: UnsafeMutableRawPointer
    private let values: UnsafeMutableRawPointer

    public init(layerCount: Int, capacity: Int, kvDimension: Int, element: Element = .f32) {
        self.layerCount = layerCount
        self.capacity = capacity
        self.kvDimension = kvDimension
        self.element = element
        let bytes = max(layerCount * capacity * kvDimension * element.byteCount, 1)
        keys = .allocate(byteCount: bytes, alignment: 64)
        values = .allocate(byteCount: bytes, alignment: 64)
        // Bound once to the element type, so the typed accesses below are well defined.
        for p in [keys, values] {
            switch element {
            case .f32: p.bindMemory(to: Float.self, capacity: bytes / 4)
            case .f16: p.bindMemory(to: UInt16.self, capacity: bytes / 2)
            }
        }
    }

    deinit {
        keys.deallocate()
        values.deallocate()
    }

    /// Bytes the cache can grow to.
    public var byteCount: Int { 2 * layerCount * capacity * kvDimension * element.byteCount }

    /// Stores one position's keys and values (`kvDimension` floats each).
    func store(layer: Int, position: Int, keys k: UnsafePointer<Float>, values v: UnsafePointer<Float>) {
        let offset = (layer * capacity + position) * kvDimension
        switch element {
        case .f32:
            (keys.assumingMemoryBound(to: Float.self) + offset).update(from: k, count: kvDimension)
            (values.assumingMemoryBound(to: Float.self) + offset).update(from: v, count: kvDimension)
        case .f16:
            VectorOps.toHalf(k, keys.assumingMemoryBound(to: UInt16.self) + offset, count: kvDimension)
            VectorOps.toHalf(v, values.assumingMemoryBound(to: UInt16.self) + offset, count: kvDimension)
        }
    }

    /// One head's attention over positions 0..<count of `layer`; the head's keys and
    /// values start `headOffset` values into each cached row.
    func attend(layer: Int, headOffset: Int, query: UnsafePointer<Float>, count: Int, dimension: Int, scale: Float,
                scores: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>) {
        let offset = layer * capacity * kvDimension + headOffset
        switch element {
        case .f32:
            VectorOps.attend(
                query: query, keys: keys.assumingMemoryBound(to: Float.self) + offset,
                values: values.assumingMemoryBound(to: Float.self) + offset, stride: kvDimension, count: count,
                dimension: dimension, scale: scale, scores: scores, out: out)
        case .f16:
            VectorOps.attend(
                query: query, keys: keys.assumingMemoryBound(to: UInt16.self) + offset,
                values: values.assumingMemoryBound(to: UInt16.self) + offset, stride: kvDimension, count: count,
                dimension: dimension, scale: scale, scores: scores, out: out)
        }
    }
}
