/// The optional bearer key. Compared in constant time so response timing cannot
/// reveal how much of a guessed key was right.
public struct APIKey: Sendable {
    private let key: [UInt8]

    /// Whitespace only: refused wherever a key is read, because taking it as "no key"
    /// would silently turn authentication off. (An empty environment variable is
    /// not blank: it still means "no key".)
    public static func isBlank(_ key: String) -> Bool {
        !key.isEmpty && key.allSatisfy(\.isWhitespace)
    }

    public init?(_ key: String?) {
        guard let key, !key.isEmpty else { return nil }
        self.key = Array(key.utf8)
    }

    /// Accepts `Authorization: Bearer <key>` only.
    public func accepts(authorization header: String?) -> Bool {
        guard let header, header.hasPrefix("Bearer ") else { return false }
        let given = Array(header.dropFirst("Bearer ".count).utf8)
        var difference = UInt8(given.count == key.count ? 0 : 1)
        for i in 0..<key.count {
            difference |= key[i] ^ (i < given.count ? given[i] : 0)
        }
        return difference == 0
    }
}
