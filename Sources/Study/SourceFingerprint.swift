import Foundation

/// A short key for a model source, so converted variants are reused only for the same
/// source. Hashing every byte of a 13 GB checkpoint would cost more than converting it,
/// so the key covers each file's name, size and modification time plus its first and
/// last 64 KiB (headers and the end of the data): a changed or replaced file changes it.
public enum SourceFingerprint {
    static let sampleBytes = 64 * 1024

    /// 16 hex digits (FNV-1a, 64 bits); it names cache files, it does not defend against tampering.
    public static func key(of path: String) -> String {
        var hash = FNV1a()
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        _ = manager.fileExists(atPath: path, isDirectory: &isDirectory)
        let files: [String]
        if isDirectory.boolValue {
            files = ((try? manager.contentsOfDirectory(atPath: path)) ?? []).sorted()
                .map { (path as NSString).appendingPathComponent($0) }
        } else {
            files = [path]
        }
        for file in files {
            hash.add(Data((file as NSString).lastPathComponent.utf8))
            let attributes = (try? manager.attributesOfItem(atPath: file)) ?? [:]
            let size = (attributes[.size] as? NSNumber)?.int64Value ?? -1
            let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            hash.add(Data("\(size):\(modified)".utf8))
            guard let handle = FileHandle(forReadingAtPath: file) else { continue }
            defer { try? handle.close() }
            hash.add((try? handle.read(upToCount: sampleBytes)) ?? Data())
            if size > Int64(sampleBytes) {
                try? handle.seek(toOffset: UInt64(size) - UInt64(sampleBytes))
                hash.add((try? handle.read(upToCount: sampleBytes)) ?? Data())
            }
        }
        return String(format: "%016llx", hash.value)
    }
}

struct FNV1a {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add(_ data: Data) {
        for byte in data {
            value ^= UInt64(byte)
            value = value &* 0x0000_0100_0000_01b3
        }
        // A separator, so ("ab", "c") and ("a", "bc") differ.
        value ^= 0xff
        value = value &* 0x0000_0100_0000_01b3
    }
}
