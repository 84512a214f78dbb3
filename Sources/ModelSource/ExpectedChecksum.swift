/// How the expected SHA-256 is found and checked: hex of 64 digits, from the object's
/// metadata or from the first token of a `sha256sum`-style sidecar object.
enum ExpectedChecksum {
    static let metadataSource = "metadata x-amz-meta-sha256"

    static func sidecarKey(for key: String) -> String { key + ".sha256" }

    static func sidecarSource(bucket: String, key: String) -> String { "sidecar s3://\(bucket)/\(sidecarKey(for: key))" }

    /// Lower-case hex, or nil when `text` is not 64 hex digits.
    static func normalizedHex(_ text: String) -> String? {
        let trimmed = text.trimmingWhitespace().lowercased()
        guard trimmed.utf8.count == 64,
              trimmed.utf8.allSatisfy({ ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "f")) })
        else { return nil }
        return trimmed
    }

    /// The first white-space separated token of a sidecar ("HEX  model.gguf\n").
    static func sidecarToken(_ bytes: [UInt8]) -> String {
        let text = String(decoding: bytes, as: UTF8.self)
        return text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }).first.map(String.init) ?? ""
    }
}
