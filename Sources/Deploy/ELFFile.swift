import Foundation

/// What the packager needs to know about a 64-bit little-endian ELF executable, read
/// from its headers and dynamic tables: the machine it runs on, the interpreter, the
/// shared libraries it needs (DT_NEEDED), the symbol versions it needs from each
/// (.gnu.version_r) and which imported symbols need them (.gnu.version + .dynsym).
///
/// Read through the section headers, which every linker writes; a dynamically linked
/// file without them is refused rather than guessed at.
public struct ELFFile: Sendable, Equatable {
    public enum Machine: Sendable, Equatable, CustomStringConvertible {
        case x86_64
        case aarch64
        case other(UInt16)

        init(_ value: UInt16) {
            switch value {
            case 62: self = .x86_64
            case 183: self = .aarch64
            default: self = .other(value)
            }
        }

        public var description: String {
            switch self {
            case .x86_64: "x86_64 (EM_X86_64)"
            case .aarch64: "arm64 (EM_AARCH64)"
            case .other(let value): "e_machine \(value)"
            }
        }
    }

    /// One library's entry in .gnu.version_r: the versions needed from it.
    public struct VersionNeed: Sendable, Equatable {
        public var file: String
        public var versions: [String]

        public init(file: String, versions: [String]) {
            self.file = file
            self.versions = versions
        }
    }

    /// An undefined dynamic symbol bound to a needed version, e.g. `memcpy` at GLIBC_2.14.
    public struct VersionedImport: Sendable, Equatable {
        public var symbol: String
        public var version: String
        public var file: String

        public init(symbol: String, version: String, file: String) {
            self.symbol = symbol
            self.version = version
            self.file = file
        }
    }

    public var machine: Machine
    /// false for ET_EXEC, true for ET_DYN (a position-independent executable or a library).
    public var isPositionIndependent: Bool
    /// PT_INTERP, e.g. /lib64/ld-linux-x86-64.so.2; nil for a static executable.
    public var interpreter: String?
    public var neededLibraries: [String]
    public var versionNeeds: [VersionNeed]
    public var versionedImports: [VersionedImport]
    /// Where the last loadable segment (PT_LOAD) ends in the file: the bytes the loader
    /// maps. What follows (symbol tables, debug info, section headers) is what `strip`
    /// removes; 0 for an image without loadable segments.
    public var loadedBytes: Int64
    /// The whole file's size, symbols and all.
    public var fileBytes: Int64

    /// No interpreter and no shared libraries: nothing to load at run time.
    public var isStaticallyLinked: Bool { interpreter == nil && neededLibraries.isEmpty }

    /// Files larger than this are refused before being read: runtime binaries are tens of
    /// MB; this catches a model passed as --binary without reading gigabytes.
    public static let maximumBytes: Int64 = 2 << 30

    public init(
        machine: Machine, isPositionIndependent: Bool, interpreter: String?, neededLibraries: [String],
        versionNeeds: [VersionNeed], versionedImports: [VersionedImport], loadedBytes: Int64 = 0, fileBytes: Int64 = 0
    ) {
        self.machine = machine
        self.isPositionIndependent = isPositionIndependent
        self.interpreter = interpreter
        self.neededLibraries = neededLibraries
        self.versionNeeds = versionNeeds
        self.versionedImports = versionedImports
        self.loadedBytes = loadedBytes
        self.fileBytes = fileBytes
    }

    /// Reads and parses the file at `path`. Checks the magic before reading the rest, so
    /// a model or an archive passed by mistake is refused after 64 bytes.
    public static func read(path: String) throws(ELFError) -> ELFFile {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ELFError(file: path, problem: .io(message: "cannot open it (missing or unreadable)"))
        }
        defer { try? handle.close() }
        do {
            let head = try handle.read(upToCount: 4) ?? Data()
            guard Array(head) == [0x7F, 0x45, 0x4C, 0x46] else {
                throw ELFError(file: path, problem: .notELF(found: Array(head)))
            }
            let size = try handle.seekToEnd()
            guard size <= UInt64(maximumBytes) else {
                throw ELFError(file: path, problem: .tooLarge(bytes: Int64(clamping: size), limit: maximumBytes))
            }
            try handle.seek(toOffset: 0)
            let data = try handle.readToEnd() ?? Data()
            return try ELFFile(bytes: Array(data), file: path)
        } catch let error as ELFError {
            throw error
        } catch {
            throw ELFError(file: path, problem: .io(message: "\(error)"))
        }
    }

    /// Parses an ELF image held in memory; `file` names it in messages.
    public init(bytes: [UInt8], file: String) throws(ELFError) {
        self = try ELFParser(ELFBytes(bytes: bytes, file: file)).parse()
    }
}

/// The parse itself: header, program headers, section headers, then the dynamic
/// section, the version needs and the symbol versions.
private struct ELFParser {
    let data: ELFBytes

    init(_ data: ELFBytes) { self.data = data }

    struct Section {
        var index: Int
        var type: UInt32
        var offset: UInt64
        var size: UInt64
        var link: UInt32
        var info: UInt32
        var entrySize: UInt64
    }

    // Values from the System V ABI and the GNU symbol-versioning extension.
    static let sectionStringTable: UInt32 = 3
    static let sectionDynamic: UInt32 = 6
    static let sectionNoBits: UInt32 = 8
    static let sectionDynamicSymbols: UInt32 = 11
    static let sectionVersionNeeds: UInt32 = 0x6FFF_FFFE
    static let sectionVersionSymbols: UInt32 = 0x6FFF_FFFF
    static let programLoad: UInt32 = 1
    static let programInterpreter: UInt32 = 3
    static let dynamicNeeded: UInt64 = 1
    static let symbolEntrySize: UInt64 = 24
    static let dynamicEntrySize: UInt64 = 16
    static let versionRecordSize: UInt64 = 16

    func parse() throws(ELFError) -> ELFFile {
        guard data.count >= 4, Array(data.bytes[0..<4]) == [0x7F, 0x45, 0x4C, 0x46] else {
            throw error(.notELF(found: Array(data.bytes.prefix(4))))
        }
        guard data.count >= 64 else {
            throw error(.truncated(what: "the ELF header", offset: 0, needed: 64, fileSize: data.count))
        }
        let elfClass = try data.u8(4, "EI_CLASS")
        guard elfClass == 2 else { throw error(.unsupportedClass(elfClass)) }
        let byteOrder = try data.u8(5, "EI_DATA")
        guard byteOrder == 1 else { throw error(.unsupportedByteOrder(byteOrder)) }
        let version = try data.u32(20, "e_version")
        guard version == 1 else { throw error(.unsupportedVersion(version)) }
        let type = try data.u16(16, "e_type")
        guard type == 2 || type == 3 else { throw error(.notAnExecutable(type: type)) }
        let machine = ELFFile.Machine(try data.u16(18, "e_machine"))

        let (interpreter, loadedBytes) = try readProgramHeaders()
        let sections = try readSections()
        if sections.isEmpty {
            guard interpreter == nil else { throw error(.noSectionHeaders) }
            return ELFFile(machine: machine, isPositionIndependent: type == 3, interpreter: nil, neededLibraries: [],
                           versionNeeds: [], versionedImports: [], loadedBytes: loadedBytes,
                           fileBytes: Int64(data.count))
        }

        let needed = try readNeeded(sections)
        let (needs, byIndex) = try readVersionNeeds(sections)
        let imports = try readVersionedImports(sections, versions: byIndex)
        return ELFFile(machine: machine, isPositionIndependent: type == 3, interpreter: interpreter,
                       neededLibraries: needed, versionNeeds: needs, versionedImports: imports, loadedBytes: loadedBytes,
                       fileBytes: Int64(data.count))
    }

    private func error(_ problem: ELFError.Problem) -> ELFError {
        ELFError(file: data.file, problem: problem)
    }

    // MARK: Program headers

    /// PT_INTERP's path, if any, and where the last PT_LOAD segment ends in the file.
    private func readProgramHeaders() throws(ELFError) -> (interpreter: String?, loadedBytes: Int64) {
        let offset = try data.u64(32, "e_phoff")
        let entrySize = UInt64(try data.u16(54, "e_phentsize"))
        let count = UInt64(try data.u16(56, "e_phnum"))
        guard count > 0 else { return (nil, 0) }
        guard entrySize >= 56 else { throw error(.badField(what: "e_phentsize", value: entrySize, expected: "at least 56")) }
        let table = try data.table(offset: offset, count: count, size: entrySize, what: "the program header table")
        var interpreter: String?
        var loadEnd = 0
        for i in 0..<Int(count) {
            let base = table.lowerBound + i * Int(entrySize)
            switch try data.u32(base, "p_type") {
            case Self.programLoad:
                let at = try data.u64(base + 8, "PT_LOAD p_offset")
                let size = try data.u64(base + 32, "PT_LOAD p_filesz")
                loadEnd = max(loadEnd, try data.range(offset: at, size: size, what: "a loadable segment (PT_LOAD)").upperBound)
            case Self.programInterpreter where interpreter == nil:
                let at = try data.u64(base + 8, "PT_INTERP p_offset")
                let size = try data.u64(base + 32, "PT_INTERP p_filesz")
                let range = try data.range(offset: at, size: size, what: "the interpreter path (PT_INTERP)")
                interpreter = String(decoding: data.bytes[range].prefix { $0 != 0 }, as: UTF8.self)
            default:
                continue
            }
        }
        return (interpreter, Int64(loadEnd))
    }

    // MARK: Section headers

    private func readSections() throws(ELFError) -> [Section] {
        let offset = try data.u64(40, "e_shoff")
        guard offset != 0 else { return [] }
        let entrySize = UInt64(try data.u16(58, "e_shentsize"))
        guard entrySize >= 64 else { throw error(.badField(what: "e_shentsize", value: entrySize, expected: "at least 64")) }
        var count = UInt64(try data.u16(60, "e_shnum"))
        if count == 0 {
            // Extended numbering: more than 0xff00 sections, the real count sits in section 0's sh_size.
            let first = try data.range(offset: offset, size: entrySize, what: "section header 0")
            count = try data.u64(first.lowerBound + 32, "section 0 sh_size (extended section count)")
        }
        let table = try data.table(offset: offset, count: count, size: entrySize, what: "the section header table")
        var sections: [Section] = []
        sections.reserveCapacity(Int(count))
        for i in 0..<Int(count) {
            let base = table.lowerBound + i * Int(entrySize)
            sections.append(Section(
                index: i,
                type: try data.u32(base + 4, "sh_type"),
                offset: try data.u64(base + 24, "sh_offset"),
                size: try data.u64(base + 32, "sh_size"),
                link: try data.u32(base + 40, "sh_link"),
                info: try data.u32(base + 44, "sh_info"),
                entrySize: try data.u64(base + 56, "sh_entsize")))
        }
        return sections
    }

    /// The section's bytes; a NOBITS section has none in the file.
    private func contents(_ section: Section, _ what: String) throws(ELFError) -> Range<Int> {
        guard section.type != Self.sectionNoBits else {
            throw error(.badField(what: what + " type", value: UInt64(section.type), expected: "a section with file contents"))
        }
        return try data.range(offset: section.offset, size: section.size, what: what)
    }

    /// The section `owner` links to, which must be of `type`.
    private func linked(_ owner: Section, _ sections: [Section], type: UInt32, ownerName: String,
                        expected: String) throws(ELFError) -> Section {
        let link = Int(owner.link)
        guard link > 0, link < sections.count, sections[link].type == type else {
            throw error(.badLink(section: ownerName, link: owner.link, expected: expected))
        }
        return sections[link]
    }

    private func stringTable(for owner: Section, _ sections: [Section], ownerName: String) throws(ELFError) -> Range<Int> {
        let table = try linked(owner, sections, type: Self.sectionStringTable, ownerName: ownerName,
                               expected: "a string table")
        return try contents(table, "the string table of " + ownerName)
    }

    // MARK: Dynamic section

    private func readNeeded(_ sections: [Section]) throws(ELFError) -> [String] {
        guard let dynamic = sections.first(where: { $0.type == Self.sectionDynamic }) else { return [] }
        let name = ".dynamic"
        let body = try contents(dynamic, name)
        let strings = try stringTable(for: dynamic, sections, ownerName: name)
        var needed: [String] = []
        for i in 0..<(body.count / Int(Self.dynamicEntrySize)) {
            let base = body.lowerBound + i * Int(Self.dynamicEntrySize)
            let tag = try data.u64(base, "d_tag")
            if tag == 0 { break }
            if tag == Self.dynamicNeeded {
                needed.append(try data.string(in: strings, at: try data.u64(base + 8, "d_val"), what: "DT_NEEDED"))
            }
        }
        return needed
    }

    // MARK: Version needs

    /// .gnu.version_r: a chain of Verneed records (one per library), each with a chain of
    /// Vernaux records (one per version). Returns them, and version index -> (name, file).
    private func readVersionNeeds(_ sections: [Section]) throws(ELFError)
        -> ([ELFFile.VersionNeed], [UInt16: (version: String, file: String)]) {
        guard let section = sections.first(where: { $0.type == Self.sectionVersionNeeds }) else { return ([], [:]) }
        let name = ".gnu.version_r"
        let body = try contents(section, name)
        guard !body.isEmpty else { return ([], [:]) }
        let strings = try stringTable(for: section, sections, ownerName: name)
        // Every record is 16 bytes, so no honest chain is longer than this; a loop in the
        // `next` offsets stops here instead of spinning.
        let recordLimit = body.count / Int(Self.versionRecordSize)
        var records = 0
        var needs: [ELFFile.VersionNeed] = []
        var byIndex: [UInt16: (version: String, file: String)] = [:]
        var offset: UInt64 = 0
        while true {
            records += 1
            guard records <= recordLimit else {
                throw error(.badField(what: name + " chain", value: UInt64(records), expected: "at most \(recordLimit) records"))
            }
            let record = try recordRange(body, offset, name + " Verneed")
            let version = try data.u16(record, "vn_version")
            guard version == 1 else { throw error(.badField(what: "vn_version", value: UInt64(version), expected: "1")) }
            let auxCount = Int(try data.u16(record + 2, "vn_cnt"))
            let file = try data.string(in: strings, at: UInt64(try data.u32(record + 4, "vn_file")), what: "vn_file")
            var auxOffset = offset &+ UInt64(try data.u32(record + 8, "vn_aux"))
            var versions: [String] = []
            for _ in 0..<auxCount {
                records += 1
                guard records <= recordLimit else {
                    throw error(.badField(what: name + " chain", value: UInt64(records), expected: "at most \(recordLimit) records"))
                }
                let aux = try recordRange(body, auxOffset, name + " Vernaux")
                let index = try data.u16(aux + 6, "vna_other") & 0x7FFF
                let versionName = try data.string(in: strings, at: UInt64(try data.u32(aux + 8, "vna_name")), what: "vna_name")
                versions.append(versionName)
                byIndex[index] = (versionName, file)
                let next = try data.u32(aux + 12, "vna_next")
                if next == 0 { break }
                auxOffset = auxOffset &+ UInt64(next)
            }
            needs.append(ELFFile.VersionNeed(file: file, versions: versions))
            let next = try data.u32(record + 12, "vn_next")
            if next == 0 || (section.info > 0 && needs.count >= Int(section.info)) { break }
            offset = offset &+ UInt64(next)
        }
        return (needs, byIndex)
    }

    /// The absolute start of a 16-byte record at `offset` inside `body`.
    private func recordRange(_ body: Range<Int>, _ offset: UInt64, _ what: String) throws(ELFError) -> Int {
        guard offset <= UInt64(body.count), UInt64(body.count) - offset >= Self.versionRecordSize else {
            throw error(.badField(what: what + " offset", value: offset,
                                  expected: "a 16-byte record inside the section's \(body.count) bytes"))
        }
        return body.lowerBound + Int(offset)
    }

    // MARK: Symbol versions

    /// Undefined dynamic symbols whose .gnu.version entry names a needed version.
    private func readVersionedImports(_ sections: [Section], versions: [UInt16: (version: String, file: String)])
        throws(ELFError) -> [ELFFile.VersionedImport] {
        guard !versions.isEmpty,
              let versym = sections.first(where: { $0.type == Self.sectionVersionSymbols }) else { return [] }
        let symbols = try linked(versym, sections, type: Self.sectionDynamicSymbols, ownerName: ".gnu.version",
                                 expected: "the dynamic symbol table")
        guard symbols.entrySize == Self.symbolEntrySize || symbols.entrySize == 0 else {
            throw error(.badField(what: ".dynsym sh_entsize", value: symbols.entrySize, expected: "24"))
        }
        let versionBody = try contents(versym, ".gnu.version")
        let symbolBody = try contents(symbols, ".dynsym")
        let names = try stringTable(for: symbols, sections, ownerName: ".dynsym")
        let count = min(versionBody.count / 2, symbolBody.count / Int(Self.symbolEntrySize))
        var imports: [ELFFile.VersionedImport] = []
        // Entry 0 is the null symbol.
        for i in (count > 1 ? 1..<count : 0..<0) {
            let index = try data.u16(versionBody.lowerBound + 2 * i, ".gnu.version entry") & 0x7FFF
            guard let need = versions[index] else { continue }
            let base = symbolBody.lowerBound + i * Int(Self.symbolEntrySize)
            // Only undefined symbols (st_shndx == SHN_UNDEF) are imports.
            guard try data.u16(base + 6, "st_shndx") == 0 else { continue }
            let name = try data.string(in: names, at: UInt64(try data.u32(base, "st_name")), what: "symbol name")
            imports.append(ELFFile.VersionedImport(symbol: name, version: need.version, file: need.file))
        }
        return imports
    }
}
