import LambdaLimits

/// One family of versioned symbols a system library provides (glibc's GLIBC_x.y,
/// libstdc++'s GLIBCXX_x.y.z) and the newest version Amazon Linux 2023 has of it.
public struct VersionFamily: Sendable, Equatable {
    /// The version-name prefix: "GLIBC_" (which GLIBCXX_ names do not start with).
    public var prefix: String
    /// "glibc", "libstdc++".
    public var library: String
    public var ceiling: SymbolVersion
    /// "Amazon Linux 2023 (glibc 2.34)".
    public var system: String

    public static func glibc(_ limits: LambdaLimits = .current) -> VersionFamily {
        let ceiling = SymbolVersion(limits.amazonLinux2023GlibcVersion) ?? SymbolVersion("2.34")!
        return VersionFamily(prefix: "GLIBC_", library: "glibc", ceiling: ceiling,
                             system: "Amazon Linux 2023 (glibc \(ceiling))")
    }

    public static func libstdcxx(_ limits: LambdaLimits = .current) -> VersionFamily {
        let ceiling = SymbolVersion(limits.amazonLinux2023LibstdcxxVersion) ?? SymbolVersion("3.4.29")!
        return VersionFamily(prefix: "GLIBCXX_", library: "libstdc++", ceiling: ceiling,
                             system: "Amazon Linux 2023 (libstdc++ of GCC 11, GLIBCXX_\(ceiling))")
    }
}

/// Whether a binary loads where `family` goes up to its ceiling. The dynamic loader
/// refuses a binary when any version it needs (an entry in .gnu.version_r) is missing,
/// whether or not a symbol uses it; the symbols bound to a too-new version are listed
/// because they say what to change.
public struct VersionNeedCheck: Sendable, Equatable {
    public var family: VersionFamily
    /// Numeric versions needed, ascending, each once.
    public var required: [SymbolVersion]
    /// Names with the prefix that are not versions (GLIBC_PRIVATE, GLIBC_ABI_DT_RELR):
    /// library-internal or newer than the ceiling's ABI, so treated as not provided.
    public var unrecognized: [String]
    /// Too-new version name -> the imported symbols bound to it, sorted.
    public var symbolsAboveCeiling: [String: [String]]
    public var staticallyLinked: Bool

    public init(elf: ELFFile, family: VersionFamily) {
        self.family = family
        staticallyLinked = elf.isStaticallyLinked
        var versions = Set<SymbolVersion>()
        var unknown = Set<String>()
        for name in elf.versionNeeds.flatMap(\.versions) where name.hasPrefix(family.prefix) {
            if let version = SymbolVersion(versionName: name, prefix: family.prefix) {
                versions.insert(version)
            } else {
                unknown.insert(name)
            }
        }
        required = versions.sorted()
        unrecognized = unknown.sorted()
        var above: [String: Set<String>] = [:]
        for version in required where version > family.ceiling { above[family.prefix + version.description] = [] }
        for name in unrecognized { above[name] = [] }
        for imported in elf.versionedImports where above[imported.version] != nil {
            above[imported.version, default: []].insert(imported.symbol)
        }
        symbolsAboveCeiling = above.mapValues { $0.sorted() }
    }

    public var highest: SymbolVersion? { required.last }
    /// The binary needs this library's versioned symbols at all.
    public var isNeeded: Bool { !required.isEmpty || !unrecognized.isEmpty }
    public var passes: Bool { symbolsAboveCeiling.isEmpty }

    /// One line for the console, the README and the template.
    public var summary: String {
        let name = family.library
        if staticallyLinked { return "\(name): statically linked, needs no shared \(name): OK for \(family.system)" }
        guard let highest else {
            return unrecognized.isEmpty
                ? "\(name): needs no versioned \(name) symbols: OK for \(family.system)"
                : "\(name): needs \(unrecognized.joined(separator: ", ")), which \(family.system) does not provide"
        }
        let top = family.prefix + highest.description
        if passes { return "\(name): needs up to \(top): OK for \(family.system)" }
        let parts = symbolsAboveCeiling.keys.sorted(by: versionNameOrder).map { version -> String in
            let symbols = symbolsAboveCeiling[version] ?? []
            return symbols.isEmpty ? version : "\(version) (\(Format.list(symbols, limit: 8)))"
        }
        return "\(name): needs up to \(top), newer than \(family.system): " + parts.joined(separator: "; ")
    }

    /// Versions in numeric order, names that are not versions last.
    private func versionNameOrder(_ a: String, _ b: String) -> Bool {
        switch (SymbolVersion(versionName: a, prefix: family.prefix), SymbolVersion(versionName: b, prefix: family.prefix)) {
        case let (x?, y?): x < y
        case (.some, nil): true
        case (nil, .some): false
        case (nil, nil): a < b
        }
    }
}
