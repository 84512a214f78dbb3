/// Turns a non-retryable S3 answer into the `ModelSourceError` that says what to fix,
/// using S3's error code where it has one (a HEAD answer has none; the client then
/// asks again with a one-byte GET to learn it). S3's own words are scrubbed of
/// credentials before they reach a message.
struct S3ErrorMapping: Sendable {
    let configuredRegion: String
    let credentials: AWSCredentials

    func error(status: Int, bucketRegionHeader: String?, body: S3ErrorBody, bucket: String, key: String,
               operation: String) -> ModelSourceError {
        let body = body.shown(redacting: credentials)
        let code = body.code, message = body.message
        let regionHeader = bucketRegionHeader.map { S3ErrorBody.shownRegion($0, redacting: credentials) }
        switch status {
        case 404:
            return code == "NoSuchBucket" ? .bucketNotFound(bucket: bucket, key: key) : .objectNotFound(bucket: bucket, key: key)
        case 403:
            return .accessDenied(bucket: bucket, key: key, code: code.isEmpty ? "AccessDenied" : code, message: message)
        case 301:
            return .wrongRegion(bucket: bucket, bucketRegion: regionHeader ?? body.region, configuredRegion: configuredRegion)
        case 400 where code == "AuthorizationHeaderMalformed" && body.region != nil:
            return .wrongRegion(bucket: bucket, bucketRegion: body.region, configuredRegion: configuredRegion)
        case 412:
            return .objectChanged(bucket: bucket, key: key)
        default:
            return .unexpectedStatus(bucket: bucket, key: key, operation: operation, status: status, code: code, message: message)
        }
    }
}
