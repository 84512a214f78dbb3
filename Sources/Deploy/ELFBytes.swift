/// Little-endian reads from an ELF file's bytes, each one checked against the file's
/// end first: offsets and sizes in the file are the stranger's numbers, so every one
/// goes through here and overflow or overrun is an `ELFError`, never a trap.
struct ELFBytes {
    let bytes: [UInt8]
    let file: String

    var count: Int { bytes.count }

    /// The byte range `offset..<offset+size`, when it lies inside the file.
    func range(offset: UInt64, size: UInt64, what: String) throws(ELFError) -> Range<Int> {
        let (end, overflow) = offset.addingReportingOverflow(size)
        guard !overflow, end <= UInt64(bytes.count) else {
            throw ELFError(file: file, problem: .truncated(what: what, offset: offset, needed: size, fileSize: bytes.count))
        }
        return Int(offset)..<Int(end)
    }

    /// `count` records of `size` bytes each starting at `offset`, all inside the file.
    func table(offset: UInt64, count: UInt64, size: UInt64, what: String) throws(ELFError) -> Range<Int> {
        let (total, overflow) = count.multipliedReportingOverflow(by: size)
        guard !overflow else {
            throw ELFError(file: file, problem: .badField(what: what + " count", value: count, expected: "a table that fits the file"))
        }
        return try range(offset: offset, size: total, what: what)
    }

    func u8(_ at: Int, _ what: String) throws(ELFError) -> UInt8 {
        UInt8(try unsigned(at, 1, what))
    }

    func u16(_ at: Int, _ what: String) throws(ELFError) -> UInt16 {
        UInt16(try unsigned(at, 2, what))
    }

    func u32(_ at: Int, _ what: String) throws(ELFError) -> UInt32 {
        UInt32(try unsigned(at, 4, what))
    }

    func u64(_ at: Int, _ what: String) throws(ELFError) -> UInt64 {
        try unsigned(at, 8, what)
    }

    private func unsigned(_ at: Int, _ width: Int, _ what: String) throws(ELFError) -> UInt64 {
        guard at >= 0, width <= bytes.count, at <= bytes.count - width else {
            throw ELFError(file: file, problem: .truncated(what: what, offset: UInt64(max(at, 0)), needed: UInt64(width),
                                                           fileSize: bytes.count))
        }
        var value: UInt64 = 0
        for i in (0..<width).reversed() {
            value = value << 8 | UInt64(bytes[at + i])
        }
        return value
    }

    /// The NUL-terminated string at `offset` inside `table` (a string table's byte range).
    func string(in table: Range<Int>, at offset: UInt64, what: String) throws(ELFError) -> String {
        guard offset < UInt64(table.count) else {
            throw ELFError(file: file, problem: .badField(what: what + " name offset", value: offset,
                                                          expected: "below the string table's size \(table.count)"))
        }
        let start = table.lowerBound + Int(offset)
        guard let end = bytes[start..<table.upperBound].firstIndex(of: 0) else {
            throw ELFError(file: file, problem: .unterminatedString(what: what, offset: offset))
        }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }
}
