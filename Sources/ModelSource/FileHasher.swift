import Crypto

/// SHA-256 of a byte range of the partial file, streamed through one reused buffer.
enum FileHasher {
    static let chunkSize = 4 << 20

    static func update(_ hasher: inout SHA256, file: PartialFile, from start: Int64, to end: Int64,
                       buffer: UnsafeMutableRawBufferPointer) throws(ModelSourceError) {
        var offset = start
        while offset < end {
            let count = Int(min(Int64(buffer.count), end - offset))
            try file.read(into: buffer, count: count, at: offset)
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            offset += Int64(count)
        }
    }

    static func sha256(of file: PartialFile) throws(ModelSourceError) -> String {
        var hasher = SHA256()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 64)
        defer { buffer.deallocate() }
        try update(&hasher, file: file, from: 0, to: file.size, buffer: buffer)
        return SigV4Signer.hex(hasher.finalize())
    }
}
