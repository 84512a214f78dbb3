import Foundation

/// The free-space check made before a download, so that a too-small /tmp fails at once
/// with the numbers and the fix, instead of with ENOSPC after minutes of transfer.
enum DiskSpace {
    /// Room for the marker file and file system bookkeeping beyond the object itself.
    static let slackBytes: Int64 = 1 << 20

    /// Bytes an unprivileged process may still write in `directory`'s file system.
    static func available(in directory: String) throws(ModelSourceError) -> Int64 {
        var info = statvfs()
        guard statvfs(directory, &info) == 0 else {
            throw .fileSystem(path: directory, operation: "statvfs", reason: LocalPaths.errnoText())
        }
        let blocks = Int64(clamping: UInt64(info.f_bavail))
        let blockSize = Int64(clamping: UInt64(info.f_frsize))
        return blocks.multipliedReportingOverflow(by: blockSize).overflow ? Int64.max : blocks * blockSize
    }

    /// Throws `insufficientSpace` unless `bytes` plus slack fit in `directory`.
    static func require(_ bytes: Int64, in directory: String) throws(ModelSourceError) {
        let needed = bytes > Int64.max - slackBytes ? Int64.max : bytes + slackBytes
        let free = try available(in: directory)
        guard free >= needed else { throw .insufficientSpace(directory: directory, neededBytes: needed, freeBytes: free) }
    }
}
