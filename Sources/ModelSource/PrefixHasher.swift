import Crypto

/// Hashes the partial file while it downloads: whenever the contiguous prefix grows,
/// the new bytes are read back (from the page cache) and fed to SHA-256, so that
/// verification ends moments after the last byte instead of re-reading the whole file.
struct PrefixHasher: Sendable {
    let file: PartialFile
    let progress: DownloadProgress

    /// Runs until `progress` finishes; returns the digest if the whole file was hashed, nil if the download stopped short.
    func run() async throws(ModelSourceError) -> String? {
        var hasher = SHA256()
        var hashed: Int64 = 0
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: FileHasher.chunkSize, alignment: 64)
        defer { buffer.deallocate() }
        for await _ in progress.updates {
            let prefix = progress.contiguousPrefix
            // Small steps cost a syscall each for little gain; wait for a chunk unless the end is in reach.
            guard prefix - hashed >= Int64(FileHasher.chunkSize) || prefix == file.size else { continue }
            try FileHasher.update(&hasher, file: file, from: hashed, to: prefix, buffer: buffer)
            hashed = prefix
        }
        let prefix = progress.contiguousPrefix
        guard prefix == file.size else { return nil }
        try FileHasher.update(&hasher, file: file, from: hashed, to: prefix, buffer: buffer)
        return SigV4Signer.hex(hasher.finalize())
    }
}
