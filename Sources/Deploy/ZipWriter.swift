/// A minimal zip writer: stored (uncompressed) entries with Unix permissions in the
/// external attributes, which is what Lambda needs to see `bootstrap` as executable.
/// No compression because Foundation has no zlib API on Linux; Lambda's 250 MB limit
/// is on the unzipped size, and the 50 MB one only on direct uploads (SAM goes via S3).
///
/// Timestamps are fixed at 1980-01-01 00:00 (the earliest DOS date) so the same input
/// gives the same bytes: a redeploy of an unchanged binary uploads nothing new.
public struct ZipEntry: Sendable, Equatable {
    public var name: String
    public var data: [UInt8]
    /// Unix permission bits, e.g. 0o755.
    public var mode: UInt16

    public init(name: String, data: [UInt8], mode: UInt16 = 0o644) {
        self.name = name
        self.data = data
        self.mode = mode
    }
}

public enum ZipError: Error, CustomStringConvertible, Equatable, Sendable {
    case badName(String, reason: String)
    case duplicateName(String)
    /// Zip without its 64-bit extension caps sizes and offsets at 4 GiB - 1.
    case tooLarge(String, bytes: Int)
    case tooManyEntries(Int)

    public var description: String {
        switch self {
        case .badName(let name, let reason): "zip entry name '\(name)' \(reason)"
        case .duplicateName(let name): "zip entry '\(name)' appears twice"
        case .tooLarge(let name, let bytes): "zip entry '\(name)' makes the archive \(bytes) bytes, over the 4 GiB a zip without ZIP64 holds"
        case .tooManyEntries(let count): "\(count) zip entries, over the 65,535 a zip without ZIP64 holds"
        }
    }
}

public enum ZipWriter {
    static let localHeaderSignature: UInt32 = 0x0403_4B50
    static let centralHeaderSignature: UInt32 = 0x0201_4B50
    static let endSignature: UInt32 = 0x0605_4B50
    /// 1.0: stored entries need nothing newer.
    static let versionNeeded: UInt16 = 10
    /// High byte 3: Unix, so readers take the external attributes as a mode; low byte: spec 3.0.
    static let versionMadeBy: UInt16 = 3 << 8 | 30
    /// General-purpose flag bit 11: the name is UTF-8.
    static let utf8Flag: UInt16 = 1 << 11
    /// 1980-01-01 in DOS date format (year-1980 << 9 | month << 5 | day); time 00:00:00.
    static let dosDate: UInt16 = 1 << 5 | 1
    static let dosTime: UInt16 = 0
    static let regularFile: UInt32 = 0o100000

    /// The whole archive.
    public static func archive(_ entries: [ZipEntry]) throws(ZipError) -> [UInt8] {
        guard entries.count <= 0xFFFF else { throw .tooManyEntries(entries.count) }
        var seen = Set<String>()
        var out: [UInt8] = []
        out.reserveCapacity(entries.reduce(22) { $0 + $1.data.count + 2 * ($1.name.utf8.count + 46) })
        var central: [UInt8] = []
        for entry in entries {
            try validate(entry.name)
            guard seen.insert(entry.name).inserted else { throw .duplicateName(entry.name) }
            let name = Array(entry.name.utf8)
            let flags: UInt16 = entry.name.utf8.allSatisfy { $0 < 0x80 } ? 0 : utf8Flag
            let crc = CRC32.checksum(entry.data)
            let offset = out.count
            guard offset <= Int(UInt32.max) - 30 - name.count - entry.data.count else {
                throw .tooLarge(entry.name, bytes: offset + 30 + name.count + entry.data.count)
            }
            let size = UInt32(entry.data.count)

            out.append(le32: localHeaderSignature)
            out.append(le16: versionNeeded)
            out.append(le16: flags)
            out.append(le16: 0)  // method: stored
            out.append(le16: dosTime)
            out.append(le16: dosDate)
            out.append(le32: crc)
            out.append(le32: size)  // compressed
            out.append(le32: size)  // uncompressed
            out.append(le16: UInt16(name.count))
            out.append(le16: 0)  // extra field length
            out.append(contentsOf: name)
            out.append(contentsOf: entry.data)

            central.append(le32: centralHeaderSignature)
            central.append(le16: versionMadeBy)
            central.append(le16: versionNeeded)
            central.append(le16: flags)
            central.append(le16: 0)
            central.append(le16: dosTime)
            central.append(le16: dosDate)
            central.append(le32: crc)
            central.append(le32: size)
            central.append(le32: size)
            central.append(le16: UInt16(name.count))
            central.append(le16: 0)  // extra field length
            central.append(le16: 0)  // comment length
            central.append(le16: 0)  // disk number start
            central.append(le16: 0)  // internal attributes
            central.append(le32: (regularFile | UInt32(entry.mode & 0o7777)) << 16)
            central.append(le32: UInt32(offset))
            central.append(contentsOf: name)
        }
        let centralOffset = out.count
        guard centralOffset <= Int(UInt32.max) - central.count - 22 else {
            throw .tooLarge(entries.last?.name ?? "", bytes: centralOffset + central.count + 22)
        }
        out.append(contentsOf: central)
        out.append(le32: endSignature)
        out.append(le16: 0)  // this disk
        out.append(le16: 0)  // disk with the central directory
        out.append(le16: UInt16(entries.count))
        out.append(le16: UInt16(entries.count))
        out.append(le32: UInt32(central.count))
        out.append(le32: UInt32(centralOffset))
        out.append(le16: 0)  // comment length
        return out
    }

    /// Relative, '/'-separated, no '..', no NUL: what every unzip accepts and none escapes with.
    static func validate(_ name: String) throws(ZipError) {
        guard !name.isEmpty else { throw .badName(name, reason: "is empty") }
        guard name.utf8.count <= 0xFFFF else { throw .badName(name, reason: "is longer than 65,535 bytes") }
        guard !name.hasPrefix("/"), !name.contains("\\") else {
            throw .badName(name, reason: "must be a relative path with '/' separators")
        }
        guard !name.split(separator: "/", omittingEmptySubsequences: false).contains(where: { $0 == ".." || $0.isEmpty }) else {
            throw .badName(name, reason: "must not contain '..' or empty path components")
        }
        guard !name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw .badName(name, reason: "must not contain control characters")
        }
    }
}

extension Array where Element == UInt8 {
    mutating func append(le16 value: UInt16) {
        append(UInt8(value & 0xFF))
        append(UInt8(value >> 8))
    }

    mutating func append(le32 value: UInt32) {
        for shift in stride(from: 0, to: 32, by: 8) { append(UInt8((value >> UInt32(shift)) & 0xFF)) }
    }
}
