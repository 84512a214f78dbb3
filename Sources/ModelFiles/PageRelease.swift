#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Drops the pages of a read-only file mapping from this process's resident set
/// (they stay in the page cache). Streaming converters call it after each tensor
/// so that reading a 13 GB checkpoint does not count 13 GB against them.
public enum PageRelease {
    public static func release(_ region: UnsafeRawBufferPointer) {
        guard let base = region.baseAddress, region.count > 0 else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        // Only whole pages inside the region: neighbours may still be in use.
        let start = (Int(bitPattern: base) + page - 1) / page * page
        let end = (Int(bitPattern: base) + region.count) / page * page
        guard end > start, let pointer = UnsafeMutableRawPointer(bitPattern: start) else { return }
        _ = madvise(pointer, end - start, Int32(MADV_DONTNEED))
    }
}
