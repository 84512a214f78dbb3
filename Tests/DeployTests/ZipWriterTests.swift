import Deploy
import Testing

/// A tiny zip reader for the round trip: end record -> central directory -> local headers.
struct ZipReader {
    struct Entry: Equatable {
        var name: String
        var data: [UInt8]
        var mode: UInt32
        var madeByUnix: Bool
        var crc: UInt32
    }

    enum Failure: Error { case malformed(String) }

    static func u16(_ b: [UInt8], _ at: Int) throws -> Int {
        guard at >= 0, at + 2 <= b.count else { throw Failure.malformed("u16 at \(at)") }
        return Int(b[at]) | Int(b[at + 1]) << 8
    }

    static func u32(_ b: [UInt8], _ at: Int) throws -> UInt32 {
        guard at >= 0, at + 4 <= b.count else { throw Failure.malformed("u32 at \(at)") }
        return (0..<4).reduce(UInt32(0)) { $0 | UInt32(b[at + $1]) << (8 * UInt32($1)) }
    }

    static func entries(_ b: [UInt8]) throws -> [Entry] {
        let end = b.count - 22
        guard end >= 0, try u32(b, end) == 0x0605_4B50 else { throw Failure.malformed("no end record") }
        let count = try u16(b, end + 10)
        let size = Int(try u32(b, end + 12))
        var at = Int(try u32(b, end + 16))
        guard at + size == end else { throw Failure.malformed("central directory does not end at the end record") }
        var out: [Entry] = []
        for _ in 0..<count {
            guard try u32(b, at) == 0x0201_4B50 else { throw Failure.malformed("central header") }
            let madeBy = try u16(b, at + 4)
            let method = try u16(b, at + 10)
            let crc = try u32(b, at + 16)
            let compressed = Int(try u32(b, at + 20))
            let nameLength = try u16(b, at + 28)
            let extra = try u16(b, at + 30)
            let comment = try u16(b, at + 32)
            let external = try u32(b, at + 38)
            let local = Int(try u32(b, at + 42))
            let name = String(decoding: b[(at + 46)..<(at + 46 + nameLength)], as: UTF8.self)
            guard method == 0, try u32(b, local) == 0x0403_4B50 else { throw Failure.malformed("local header") }
            let localName = try u16(b, local + 26)
            let localExtra = try u16(b, local + 28)
            let start = local + 30 + localName + localExtra
            let data = Array(b[start..<(start + compressed)])
            guard CRC32.checksum(data) == crc else { throw Failure.malformed("crc of \(name)") }
            out.append(Entry(name: name, data: data, mode: external >> 16, madeByUnix: madeBy >> 8 == 3, crc: crc))
            at += 46 + nameLength + extra + comment
        }
        return out
    }
}

@Suite struct ZipWriterTests {
    @Test("CRC-32 matches the standard check value for \"123456789\"")
    func crcCheckValue() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([UInt8]()) == 0)
        var split = CRC32()
        split.update(Array("1234".utf8))
        split.update(Array("56789".utf8))
        #expect(split.value == 0xCBF4_3926)
    }

    @Test("entries read back with their bytes, their Unix mode and a valid CRC")
    func roundTrip() throws {
        let binary = (0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let archive = try ZipWriter.archive([
            ZipEntry(name: "bootstrap", data: binary, mode: 0o755),
            ZipEntry(name: "lib/readme é.txt", data: Array("hello".utf8)),
            ZipEntry(name: "empty", data: []),
        ])
        let entries = try ZipReader.entries(archive)
        #expect(entries.map(\.name) == ["bootstrap", "lib/readme é.txt", "empty"])
        #expect(entries[0].data == binary)
        #expect(entries[0].mode == 0o100755)
        #expect(entries[1].mode == 0o100644)
        #expect(entries.allSatisfy { $0.madeByUnix })
        #expect(entries[2].data.isEmpty)
    }

    @Test("the same input gives the same bytes (fixed timestamps)")
    func reproducible() throws {
        let entries = [ZipEntry(name: "bootstrap", data: [1, 2, 3], mode: 0o755)]
        #expect(try ZipWriter.archive(entries) == ZipWriter.archive(entries))
    }

    @Test("names that could escape the extraction directory, or repeat, are refused")
    func badNames() {
        for name in ["", "/etc/passwd", "../bootstrap", "a/../../b", "a//b", "dir\\file", "new\nline"] {
            #expect(throws: ZipError.self) { try ZipWriter.archive([ZipEntry(name: name, data: [])]) }
        }
        #expect(throws: ZipError.duplicateName("a")) {
            try ZipWriter.archive([ZipEntry(name: "a", data: []), ZipEntry(name: "a", data: [1])])
        }
    }
}
