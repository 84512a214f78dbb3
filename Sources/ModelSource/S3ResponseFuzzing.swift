/// The parsers of S3's answers, reachable without a network for the fuzz targets in
/// LambdaLLMFuzz: each returns what the downloader would act on or show the user.
/// Product code calls the parsers directly; nothing here is used by the downloader.
public enum S3ResponseFuzzing {
    /// The message a failed request would give the user, from the answer's status,
    /// x-amz-bucket-region header and (XML) body, with the credentials redacted.
    public static func errorMessage(status: Int, regionHeader: String?, body: [UInt8], credentials: AWSCredentials) -> String {
        let mapping = S3ErrorMapping(configuredRegion: "us-east-1", credentials: credentials)
        return mapping.error(status: status, bucketRegionHeader: regionHeader, body: S3ErrorBody(xml: body),
                             bucket: "models", key: "model.gguf", operation: "GET").description
    }

    /// A ranged GET's Content-Range header, as checked before its bytes are written.
    public static func contentRange(_ header: String) -> (start: Int64, end: Int64, total: Int64?)? {
        ContentRange(header: header).map { ($0.start, $0.end, $0.total) }
    }

    /// The expected SHA-256 from the object's metadata, else from a sidecar's bytes.
    public static func expectedChecksum(metadata: String?, sidecar: [UInt8]) -> String? {
        if let metadata { return ExpectedChecksum.normalizedHex(metadata) }
        return ExpectedChecksum.normalizedHex(ExpectedChecksum.sidecarToken(sidecar))
    }
}
