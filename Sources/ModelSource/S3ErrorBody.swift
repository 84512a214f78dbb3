/// The parts of an S3 error document that may be shown: Code, Message and, for
/// region mix-ups, Region. The rest is dropped on purpose, because S3 echoes the
/// canonical request (session token included) in SignatureDoesNotMatch errors.
struct S3ErrorBody: Equatable, Sendable {
    var code: String
    var message: String
    var region: String?

    static let empty = S3ErrorBody(code: "", message: "", region: nil)

    /// Parses `<Error><Code>..</Code><Message>..</Message></Error>`; anything else gives empty fields.
    /// Fields are kept whole: cutting them short is `shown(redacting:)`'s job, after redaction,
    /// so that a cut can never leave part of a credential that redaction would have matched.
    init(xml bytes: [UInt8]) {
        let text = String(decoding: bytes.prefix(64 << 10), as: UTF8.self)
        code = Self.element("Code", in: text) ?? ""
        message = Self.element("Message", in: text) ?? ""
        region = Self.element("Region", in: text)
    }

    /// What may reach a message or a log: credentials redacted first, then each field cut
    /// to a readable length.
    func shown(redacting credentials: AWSCredentials) -> S3ErrorBody {
        S3ErrorBody(code: String(credentials.redact(code).prefix(100)), message: String(credentials.redact(message).prefix(300)),
                    region: region.map { Self.shownRegion($0, redacting: credentials) })
    }

    /// A region name from S3 (the body's Region or the x-amz-bucket-region header) as it
    /// may be shown: redacted, then cut, like every other field.
    static func shownRegion(_ region: String, redacting credentials: AWSCredentials) -> String {
        String(credentials.redact(region).prefix(64))
    }

    init(code: String, message: String, region: String?) {
        self.code = code
        self.message = message
        self.region = region
    }

    private static func element(_ name: String, in text: String) -> String? {
        guard let open = text.firstRange(of: "<\(name)>"),
              let close = text[open.upperBound...].firstRange(of: "</\(name)>")
        else { return nil }
        return unescape(String(text[open.upperBound..<close.lowerBound])).trimmingWhitespace()
    }

    private static func unescape(_ text: String) -> String {
        guard text.contains("&") else { return text }
        return text.replacingAll("&lt;", with: "<").replacingAll("&gt;", with: ">").replacingAll("&quot;", with: "\"")
            .replacingAll("&apos;", with: "'").replacingAll("&amp;", with: "&")
    }
}
