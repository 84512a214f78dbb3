/// The parts of an S3 error document that may be shown: Code, Message and, for
/// region mix-ups, Region. The rest is dropped on purpose, because S3 echoes the
/// canonical request (session token included) in SignatureDoesNotMatch errors.
struct S3ErrorBody: Equatable, Sendable {
    var code: String
    var message: String
    var region: String?

    static let empty = S3ErrorBody(code: "", message: "", region: nil)

    /// Parses `<Error><Code>..</Code><Message>..</Message></Error>`; anything else gives empty fields.
    init(xml bytes: [UInt8]) {
        let text = String(decoding: bytes.prefix(64 << 10), as: UTF8.self)
        code = Self.element("Code", in: text).map { String($0.prefix(100)) } ?? ""
        message = Self.element("Message", in: text).map { String($0.prefix(300)) } ?? ""
        region = Self.element("Region", in: text)
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
