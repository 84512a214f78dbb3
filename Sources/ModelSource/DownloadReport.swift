/// What a fetch did: the verified file, how fast, whether it was already there.
public struct DownloadReport: Sendable, Equatable {
    /// The verified file under its final name.
    public var path: String
    public var bytes: Int64
    /// From the first request to the verified, renamed file.
    public var seconds: Double
    /// MB as 2^20 bytes; 0 when the file was reused.
    public var megabytesPerSecond: Double
    /// True when a verified copy from an earlier fetch matched and nothing was downloaded.
    public var reused: Bool
    /// Where the expected SHA-256 came from: "metadata x-amz-meta-sha256" or "sidecar s3://b/k.sha256".
    public var checksumSource: String
    /// Ranged GETs that were retried (each resumed where its predecessor stopped).
    public var retries: Int
    /// Hashing time after the last byte arrived: all of it when hashing after the download,
    /// only the tail when hashing while downloading.
    public var verifySeconds: Double

    public init(path: String, bytes: Int64, seconds: Double, megabytesPerSecond: Double, reused: Bool,
                checksumSource: String, retries: Int, verifySeconds: Double = 0) {
        self.path = path
        self.bytes = bytes
        self.seconds = seconds
        self.megabytesPerSecond = megabytesPerSecond
        self.reused = reused
        self.checksumSource = checksumSource
        self.retries = retries
        self.verifySeconds = verifySeconds
    }
}
