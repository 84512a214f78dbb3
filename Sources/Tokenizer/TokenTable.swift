/// Open-addressing map from byte strings to ids, looked up with borrowed byte
/// slices so that the merge loops never build a String or Array per probe.
/// Inserting an existing key replaces its id: llama.cpp's `token_to_id[text] = i`
/// keeps the last token of duplicated texts.
struct TokenTable: Sendable {
    private var keyBytes: [UInt8] = []
    private var keyStart: [Int] = []
    private var keyLength: [Int32] = []
    private(set) var values: [Int32] = []
    /// Entry index + 1 in the low 32 bits (0 = empty), key hash in the high 32 bits,
    /// so most probes that miss never touch the key bytes.
    private var slots: [UInt64]
    private var mask: Int

    init(capacity: Int) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = [UInt64](repeating: 0, count: size)
        mask = size - 1
        keyBytes.reserveCapacity(capacity * 6)
    }

    var count: Int { values.count }

    @inline(__always)
    private static func hash(_ key: UnsafeBufferPointer<UInt8>) -> Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key {
            h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        h ^= h >> 29
        h = h &* 0xbf58_476d_1ce4_e5b9
        return Int(truncatingIfNeeded: h ^ (h >> 32))
    }

    @inline(__always)
    private func matches(_ entry: Int, _ key: UnsafeBufferPointer<UInt8>) -> Bool {
        guard Int(keyLength[entry]) == key.count else { return false }
        let start = keyStart[entry]
        return keyBytes.withUnsafeBufferPointer { stored in
            for i in 0..<key.count where stored[start + i] != key[i] { return false }
            return true
        }
    }

    func lookup(_ key: UnsafeBufferPointer<UInt8>) -> Int32? {
        let h = TokenTable.hash(key)
        let tag = UInt64(UInt32(truncatingIfNeeded: h >> 32)) << 32
        var slot = h & mask
        return slots.withUnsafeBufferPointer { slots in
            while true {
                let packed = slots[slot]
                if packed == 0 { return nil }
                if packed & 0xFFFF_FFFF_0000_0000 == tag {
                    let entry = Int(packed & 0xFFFF_FFFF) - 1
                    if matches(entry, key) { return values[entry] }
                }
                slot = (slot + 1) & mask
            }
        }
    }

    func lookup(_ key: [UInt8]) -> Int32? {
        key.withUnsafeBufferPointer { lookup($0) }
    }

    /// Sets `key`'s id (replacing an existing one) and returns it.
    @discardableResult
    mutating func insert(_ key: [UInt8], value: Int32) -> Int32 {
        if (values.count + 1) * 2 > slots.count { grow() }
        let (slot, tag) = key.withUnsafeBufferPointer { findSlot($0) }
        if slots[slot] != 0 {
            values[Int(slots[slot] & 0xFFFF_FFFF) - 1] = value
            return value
        }
        slots[slot] = tag | UInt64(values.count + 1)
        keyStart.append(keyBytes.count)
        keyLength.append(Int32(key.count))
        keyBytes.append(contentsOf: key)
        values.append(value)
        return value
    }

    private func findSlot(_ key: UnsafeBufferPointer<UInt8>) -> (slot: Int, tag: UInt64) {
        let h = TokenTable.hash(key)
        let tag = UInt64(UInt32(truncatingIfNeeded: h >> 32)) << 32
        var slot = h & mask
        while true {
            let packed = slots[slot]
            if packed == 0 { return (slot, tag) }
            if packed & 0xFFFF_FFFF_0000_0000 == tag && matches(Int(packed & 0xFFFF_FFFF) - 1, key) { return (slot, tag) }
            slot = (slot + 1) & mask
        }
    }

    private mutating func grow() {
        let size = slots.count * 2
        slots = [UInt64](repeating: 0, count: size)
        mask = size - 1
        for entry in 0..<values.count {
            let start = keyStart[entry], length = Int(keyLength[entry])
            let (slot, tag) = keyBytes.withUnsafeBufferPointer { stored in
                findSlot(UnsafeBufferPointer(rebasing: stored[start..<(start + length)]))
            }
            slots[slot] = tag | UInt64(entry + 1)
        }
    }
}
