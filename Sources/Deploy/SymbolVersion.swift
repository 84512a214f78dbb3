/// A symbol version such as glibc's 2.34 or libstdc++'s 3.4.29, compared number by number
/// (2.4 < 2.34), read from names like GLIBC_2.34 or GLIBCXX_3.4.29.
public struct SymbolVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var components: [Int]

    /// "2.34" -> [2, 34]; nil for anything that is not dot-separated decimal numbers.
    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard !parts.isEmpty, parts.count <= 4 else { return nil }
        var numbers: [Int] = []
        for part in parts {
            guard !part.isEmpty, part.count <= 6, part.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(part) else {
                return nil
            }
            numbers.append(n)
        }
        components = numbers
    }

    /// "GLIBC_2.34" with prefix "GLIBC_" -> 2.34; nil for another prefix or GLIBC_PRIVATE.
    public init?(versionName: String, prefix: String = "GLIBC_") {
        guard versionName.hasPrefix(prefix) else { return nil }
        self.init(String(versionName.dropFirst(prefix.count)))
    }

    public var description: String { components.map(String.init).joined(separator: ".") }

    public static func < (a: SymbolVersion, b: SymbolVersion) -> Bool {
        for i in 0..<max(a.components.count, b.components.count) {
            let x = i < a.components.count ? a.components[i] : 0
            let y = i < b.components.count ? b.components[i] : 0
            if x != y { return x < y }
        }
        return false
    }

    /// 2.34 and 2.34.0 are the same version.
    public static func == (a: SymbolVersion, b: SymbolVersion) -> Bool { !(a < b) && !(b < a) }

    public func hash(into hasher: inout Hasher) {
        var trimmed = components
        while trimmed.count > 1, trimmed.last == 0 { trimmed.removeLast() }
        hasher.combine(trimmed)
    }
}
