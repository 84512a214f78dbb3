/// What a HEAD says about the object: its size, its ETag (sent back as If-Match on
/// every ranged GET so that a replaced object is noticed) and the SHA-256 its
/// uploader put in the metadata.
struct ObjectInfo: Equatable, Sendable {
    var size: Int64
    var etag: String
    /// x-amz-meta-sha256 as sent, not yet validated.
    var metadataSHA256: String?
}
