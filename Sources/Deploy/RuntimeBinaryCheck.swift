import LambdaLimits

/// What the packager found in the runtime binary: its Lambda architecture, the shared
/// libraries it needs that Lambda's OS-only runtime does not have (the Swift runtime),
/// and the glibc check. Judging (refusing) is the packager's job; this only looks.
public struct BinaryInspection: Sendable, Equatable {
    public var path: String
    public var elf: ELFFile
    public var bytes: Int64 { elf.fileBytes }
    /// nil when the machine is neither x86_64 nor arm64.
    public var architecture: LambdaArchitecture?
    /// libswiftCore.so, libFoundation.so, ...: present only in a Swift toolchain, not on Lambda.
    public var swiftRuntimeLibraries: [String]
    /// Needed libraries that are neither glibc's nor Swift's (libstdc++.so.6, libgcc_s.so.1, ...).
    public var otherLibraries: [String]
    public var glibc: VersionNeedCheck
    /// GLIBCXX_ needs, for a binary linked against libstdc++.so.6 (the Swift runtime is C++).
    public var libstdcxx: VersionNeedCheck

    public init(path: String, elf: ELFFile, limits: LambdaLimits = .current) {
        self.path = path
        self.elf = elf
        architecture = RuntimeBinaryCheck.architecture(of: elf.machine)
        swiftRuntimeLibraries = RuntimeBinaryCheck.swiftRuntimeLibraries(of: elf)
        otherLibraries = elf.neededLibraries.filter {
            !RuntimeBinaryCheck.isSwiftRuntimeLibrary($0) && !RuntimeBinaryCheck.isGlibcLibrary($0)
        }
        glibc = VersionNeedCheck(elf: elf, family: .glibc(limits))
        libstdcxx = VersionNeedCheck(elf: elf, family: .libstdcxx(limits))
    }

    /// One line on how it links, for the console and the README.
    public var linkageSummary: String {
        if elf.isStaticallyLinked { return "statically linked" }
        var parts = [swiftRuntimeLibraries.isEmpty
            ? "Swift runtime linked in (static stdlib)"
            : "needs the Swift runtime as shared libraries (\(Format.list(swiftRuntimeLibraries)))"]
        if !otherLibraries.isEmpty {
            parts.append("also needs \(Format.list(otherLibraries)) from the base image")
        }
        return parts.joined(separator: "; ")
    }
}

public enum RuntimeBinaryCheck {
    public static func architecture(of machine: ELFFile.Machine) -> LambdaArchitecture? {
        switch machine {
        case .x86_64: .x86_64
        case .aarch64: .arm64
        case .other: nil
        }
    }

    /// The Swift runtime libraries `elf` needs as shared libraries (none when it links them in).
    public static func swiftRuntimeLibraries(of elf: ELFFile) -> [String] {
        elf.neededLibraries.filter(isSwiftRuntimeLibrary)
    }

    /// What `elf` weighs stripped, as `package` advises shipping it: where its loadable
    /// segments end. nil where that says nothing of a deployment: no loadable segments,
    /// or the Swift runtime needed as shared libraries (its static build is larger than
    /// its own segments: 78.8 against 21.4 MB for lambda-llm on x86_64).
    public static func strippedBytes(of elf: ELFFile) -> Int64? {
        elf.loadedBytes > 0 && swiftRuntimeLibraries(of: elf).isEmpty ? elf.loadedBytes : nil
    }

    /// The Swift runtime and corelibs as a dynamically linked Swift build needs them.
    public static func isSwiftRuntimeLibrary(_ soname: String) -> Bool {
        let prefixes = ["libswift", "libFoundation", "lib_Foundation", "libdispatch", "libBlocksRuntime", "libXCTest"]
        return prefixes.contains { soname.hasPrefix($0) }
    }

    /// glibc's own libraries: present on every glibc system, judged by the version check.
    public static func isGlibcLibrary(_ soname: String) -> Bool {
        let prefixes = ["libc.so", "libm.so", "libpthread.so", "libdl.so", "librt.so", "libutil.so", "libresolv.so",
                        "libanl.so", "ld-linux"]
        return prefixes.contains { soname.hasPrefix($0) }
    }

    /// How to get a binary for `architecture`: we cannot cross-compile here.
    public static func buildAdvice(for architecture: LambdaArchitecture) -> String {
        switch architecture {
        case .x86_64:
            return "build it on an x86_64 Linux machine: `swift build -c release --static-swift-stdlib --product lambda-llm`"
        case .arm64:
            return "build it on an arm64 Linux machine (e.g. a Graviton instance, or `docker run --platform linux/arm64` "
                + "with a Swift image) with `swift build -c release --static-swift-stdlib --product lambda-llm`, "
                + "or cross-compile with the Swift Static Linux SDK (`--swift-sdk aarch64-swift-linux-musl`), "
                + "then pass it with --binary"
        }
    }
}
