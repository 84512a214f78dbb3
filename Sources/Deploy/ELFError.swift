/// Everything that can be wrong with an executable handed to the packager, named after
/// the file and the field at fault. Files come from strangers: every message is a
/// refusal, never a crash.
public struct ELFError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Problem: Equatable, Sendable {
        case io(message: String)
        case notELF(found: [UInt8])
        /// EI_CLASS: 1 is 32-bit; Lambda runs 64-bit code only.
        case unsupportedClass(UInt8)
        /// EI_DATA: 2 is big-endian; both Lambda architectures are little-endian.
        case unsupportedByteOrder(UInt8)
        case unsupportedVersion(UInt32)
        /// e_type: an object file (1) or a core dump (4) is not a program.
        case notAnExecutable(type: UInt16)
        /// Reading `what` needed `needed` bytes at `offset`, past the end of the file.
        case truncated(what: String, offset: UInt64, needed: UInt64, fileSize: Int)
        case badField(what: String, value: UInt64, expected: String)
        /// A string table entry without its terminating NUL inside the table.
        case unterminatedString(what: String, offset: UInt64)
        /// A section's sh_link names a section that is missing or of the wrong kind.
        case badLink(section: String, link: UInt32, expected: String)
        case tooLarge(bytes: Int64, limit: Int64)
        /// Dynamically linked, but the section headers (and with them the version tables) are gone.
        case noSectionHeaders
    }

    public let file: String
    public let problem: Problem

    public init(file: String, problem: Problem) {
        self.file = file
        self.problem = problem
    }

    public var description: String { "\(file): \(problem.message)" }
}

extension ELFError.Problem {
    var message: String {
        switch self {
        case .io(let message):
            return "cannot read the binary: \(message)"
        case .notELF(let found):
            let shown = found.map { (32..<127).contains($0) ? String(UnicodeScalar($0)) : "." }.joined()
            return "not an ELF executable (starts with \"\(shown)\"): --binary must be a Linux build of lambda-llm "
                + "(`swift build -c release --static-swift-stdlib`, then .build/release/lambda-llm)"
        case .unsupportedClass(let value):
            return "ELF class \(value) is not 64-bit (2): Lambda runs 64-bit x86_64 or arm64 binaries only"
        case .unsupportedByteOrder(let value):
            return "ELF byte order \(value) is not little-endian (1): Lambda's x86_64 and arm64 are little-endian"
        case .unsupportedVersion(let value):
            return "ELF version \(value) is not 1"
        case .notAnExecutable(let type):
            let kind = type == 1 ? "a relocatable object (.o)" : type == 4 ? "a core dump" : "of type \(type)"
            return "the file is \(kind), not an executable: pass the linked lambda-llm binary"
        case .truncated(let what, let offset, let needed, let fileSize):
            return "truncated or corrupt: \(what) needs \(needed) bytes at offset \(offset), but the file has \(fileSize)"
        case .badField(let what, let value, let expected):
            return "corrupt \(what): \(value), expected \(expected)"
        case .unterminatedString(let what, let offset):
            return "corrupt \(what): the string at offset \(offset) runs past the end of its table"
        case .badLink(let section, let link, let expected):
            return "corrupt \(section): its link \(link) is not \(expected)"
        case .tooLarge(let bytes, let limit):
            return "\(bytes) bytes is larger than any runtime binary should be (limit \(limit)); is this the model file?"
        case .noSectionHeaders:
            return "dynamically linked but has no section headers, so its glibc version needs cannot be read "
                + "(was it stripped with sstrip?); use a binary from `swift build` or pass --skip-glibc-check"
        }
    }
}
