/// Keys and values of every past position, per layer, in F32.
/// Sized once to the requested context; memory is reserved lazily by the OS,
/// so resident size grows with the positions actually used.
public final class KVCache: @unchecked Sendable {
    public let layerCount: Int
    public let capacity: Int
    public let kvDimension: Int
    let keys: UnsafeMutablePointer<Float>
    let values: UnsafeMutablePointer<Float>

    public init(layerCount: Int, capacity: Int, kvDimension: Int) {
        self.layerCount = layerCount
        self.capacity = capacity
        self.kvDimension = kvDimension
        let count = layerCount * capacity * kvDimension
        keys = .allocate(capacity: max(count, 1))
        values = .allocate(capacity: max(count, 1))
    }

    deinit {
        keys.deallocate()
        values.deallocate()
    }

    /// Bytes the cache can grow to.
    public var byteCount: Int { 2 * layerCount * capacity * kvDimension * MemoryLayout<Float>.size }

    @inline(__always)
    func key(layer: Int, position: Int) -> UnsafeMutablePointer<Float> {
        keys + (layer * capacity + position) * kvDimension
    }

    @inline(__always)
    func value(layer: Int, position: Int) -> UnsafeMutablePointer<Float> {
        values + (layer * capacity + position) * kvDimension
    }
}
