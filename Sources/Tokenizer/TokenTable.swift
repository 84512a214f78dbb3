/// Open-addressing map from byte strings to ids, looked up with borrowed byte
/// slices so that the merge loops never build a String or Array per probe.
/// Inserting an existing key replaces its id: llama.cpp's `token_to_id[text] = i`
/// keeps the last token of duplicated texts.
struct TokenTable: Sendable {
    private var keyBytes: [UInt8] = []
    private var keyStart: [Int] = []
    private var keyLength: [Int32] = []
    private(set) var values: [Int32] = []
    private var slots: [Int32]
    private var mask: Int

    init(capacity: Int) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = [Int32](repeating: -1, count: size)
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
        return Int(truncatingIfNeeded: h ^ (h >> 29))
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
        var slot = TokenTable.hash(key) & mask
        while true {
            let entry = Int(slots[slot])
            if entry < 0 { return nil }
            if matches(entry, key) { return values[entry] }
            slot = (slot + 1) & mask
        }
    }

    func lookup(_ key: [UInt8]) -> Int32? {
        key.withUnsafeBufferPointer { lookup($0) }
    }

    /// Sets `key`'s id (replacing an existing one) and returns it.
    @discardableResult
    mutating func insert(_ key: [UInt8], value: Int32) -> Int32 {
        if (values.count + 1) * 2 > slots.count { grow() }
        let slot = key.withUnsafeBufferPointer { findSlot($0) }
        let entry = Int(slots[slot])
        if entry >= 0 {
            values[entry] = value
            return value
        }
        slots[slot] = Int32(values.count)
        keyStart.append(keyBytes.count)
        keyLength.append(Int32(key.count))
        keyBytes.append(contentsOf: key)
        values.append(value)
        return value
    }

    private func findSlot(_ key: UnsafeBufferPointer<UInt8>) -> Int {
        var slot = TokenTable.hash(key) & mask
        while true {
            let entry = Int(slots[slot])
            if entry < 0 || matches(entry, key) { return slot }
            slot = (slot + 1) & mask
        }
    }

    private mutating func grow() {
        let size = slots.count * 2
        slots = [Int32](repeating: -1, count: size)
        mask = size - 1
        for entry in 0..<values.count {
            let start = keyStart[entry], length = Int(keyLength[entry])
            let slot = keyBytes.withUnsafeBufferPointer { stored in
                findSlot(UnsafeBufferPointer(rebasing: stored[start..<(start + length)]))
            }
            slots[slot] = Int32(entry)
        }
    }
}
