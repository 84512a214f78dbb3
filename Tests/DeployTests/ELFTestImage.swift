import Foundation
import TestSupport

/// Builds small ELF64 little-endian images byte by byte: a header, an optional PT_INTERP,
/// and the sections the packager reads (.dynstr, .dynsym, .gnu.version, .gnu.version_r,
/// .dynamic). Enough to test the reader on shapes no real toolchain here produces
/// (arm64, a too-new glibc, libswiftCore.so) and to fuzz it cheaply.
struct ELFTestImage {
    var machine: UInt16 = 62
    var type: UInt16 = 3
    var interpreter: String? = "/lib64/ld-linux-x86-64.so.2"
    var needed: [String] = ["libc.so.6"]
    var versionNeeds: [(file: String, versions: [String])] = [("libc.so.6", ["GLIBC_2.2.5", "GLIBC_2.34"])]
    /// Undefined symbols and the version each is bound to (nil: unversioned).
    var imports: [(symbol: String, version: String?)] = [("memcpy", "GLIBC_2.2.5"), ("__libc_start_main", "GLIBC_2.34")]
    /// Defined symbols, bound to a version index that a too-new need also uses: they must not be listed.
    var defined: [(symbol: String, version: String?)] = [("main", nil)]
    /// Bytes appended after the tables (a stand-in for code, to make the file bigger).
    var padding = 0
    /// A PT_LOAD segment's file range (offset, size), after PT_INTERP; nil: none.
    var loadSegment: (offset: UInt64, size: UInt64)?

    static let sht = (strtab: UInt32(3), dynamic: UInt32(6), dynsym: UInt32(11), verneed: UInt32(0x6FFF_FFFE),
                      versym: UInt32(0x6FFF_FFFF))

    func bytes() -> [UInt8] {
        var strings: [UInt8] = [0]
        var offsets: [String: UInt32] = [:]
        func str(_ s: String) -> UInt32 {
            if let o = offsets[s] { return o }
            let o = UInt32(strings.count)
            strings += Array(s.utf8) + [0]
            offsets[s] = o
            return o
        }
        // Version indices 2, 3, ... in order of the needs.
        var versionIndex: [String: UInt16] = [:]
        var next: UInt16 = 2
        for need in versionNeeds {
            for v in need.versions where versionIndex[v] == nil {
                versionIndex[v] = next
                next += 1
            }
        }

        var dynsym = [UInt8](repeating: 0, count: 24)
        var versym: [UInt8] = [0, 0]
        for (symbol, version) in imports + defined {
            let isDefined = defined.contains { $0.symbol == symbol }
            dynsym.le32(str(symbol))
            dynsym += [0x12, 0]
            dynsym.le16(isDefined ? 5 : 0)
            dynsym.le64(0)
            dynsym.le64(0)
            versym.le16(version.flatMap { versionIndex[$0] } ?? 1)
        }

        var verneed: [UInt8] = []
        for (i, need) in versionNeeds.enumerated() {
            verneed.le16(1)
            verneed.le16(UInt16(need.versions.count))
            verneed.le32(str(need.file))
            verneed.le32(16)
            verneed.le32(i == versionNeeds.count - 1 ? 0 : UInt32(16 + 16 * need.versions.count))
            for (j, v) in need.versions.enumerated() {
                verneed.le32(0x0D69_6914)
                verneed.le16(0)
                verneed.le16(versionIndex[v] ?? 0)
                verneed.le32(str(v))
                verneed.le32(j == need.versions.count - 1 ? 0 : 16)
            }
        }

        var dynamic: [UInt8] = []
        for library in needed {
            dynamic.le64(1)
            dynamic.le64(UInt64(str(library)))
        }
        dynamic.le64(0)
        dynamic.le64(0)

        // Layout: header, program header, interpreter, sections, section headers.
        var out = [UInt8](repeating: 0, count: 64)
        let phnum = (interpreter == nil ? 0 : 1) + (loadSegment == nil ? 0 : 1)
        out += [UInt8](repeating: 0, count: 56 * phnum)
        var interpOffset = 0
        var interpSize = 0
        if let interpreter {
            interpOffset = out.count
            out += Array(interpreter.utf8) + [0]
            interpSize = out.count - interpOffset
        }
        func place(_ data: [UInt8]) -> (UInt64, UInt64) {
            while out.count % 8 != 0 { out.append(0) }
            let at = out.count
            out += data
            return (UInt64(at), UInt64(data.count))
        }
        let strtab = place(strings)
        let symtab = place(dynsym)
        let vers = place(versym)
        let needs = place(verneed)
        let dyn = place(dynamic)
        out += [UInt8](repeating: 0x90, count: padding)
        while out.count % 8 != 0 { out.append(0) }
        let shoff = out.count
        // (type, offset/size, link, info, entsize)
        let sections: [(UInt32, (UInt64, UInt64), UInt32, UInt32, UInt64)] = [
            (0, (0, 0), 0, 0, 0),
            (Self.sht.strtab, strtab, 0, 0, 0),
            (Self.sht.dynsym, symtab, 1, 1, 24),
            (Self.sht.versym, vers, 2, 0, 2),
            (Self.sht.verneed, needs, 1, UInt32(versionNeeds.count), 0),
            (Self.sht.dynamic, dyn, 1, 0, 16),
        ]
        for (type, range, link, info, entsize) in sections {
            out.le32(0)
            out.le32(type)
            out.le64(0)
            out.le64(0)
            out.le64(range.0)
            out.le64(range.1)
            out.le32(link)
            out.le32(info)
            out.le64(8)
            out.le64(entsize)
        }

        // The ELF header.
        var header: [UInt8] = [0x7F, 0x45, 0x4C, 0x46, 2, 1, 1, 0] + [UInt8](repeating: 0, count: 8)
        header.le16(type)
        header.le16(machine)
        header.le32(1)
        header.le64(0)
        header.le64(phnum > 0 ? 64 : 0)
        header.le64(UInt64(shoff))
        header.le32(0)
        header.le16(64)
        header.le16(56)
        header.le16(UInt16(phnum))
        header.le16(64)
        header.le16(UInt16(sections.count))
        header.le16(0)
        out.replaceSubrange(0..<64, with: header)
        var ph: [UInt8] = []
        func segment(type: UInt32, offset: UInt64, size: UInt64) {
            ph.le32(type)
            ph.le32(4)
            ph.le64(offset)
            ph.le64(0)
            ph.le64(0)
            ph.le64(size)
            ph.le64(size)
            ph.le64(1)
        }
        if interpreter != nil { segment(type: 3, offset: UInt64(interpOffset), size: UInt64(interpSize)) }
        if let loadSegment { segment(type: 1, offset: loadSegment.offset, size: loadSegment.size) }
        out.replaceSubrange(64..<(64 + ph.count), with: ph)
        return out
    }

    func write(name: String = "bootstrap-test") throws -> String {
        let url = URL(fileURLWithPath: try GGUFTestFiles.temporaryDirectory()).appendingPathComponent(name)
        try Data(bytes()).write(to: url)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
        return url.path
    }

    /// A statically linked executable: no interpreter, no dynamic tables.
    static func staticExecutable(machine: UInt16 = 62) -> ELFTestImage {
        var image = ELFTestImage()
        image.machine = machine
        image.type = 2
        image.interpreter = nil
        image.needed = []
        image.versionNeeds = []
        image.imports = []
        image.defined = []
        return image
    }
}

extension Array where Element == UInt8 {
    mutating func le16(_ v: UInt16) { Swift.withUnsafeBytes(of: v.littleEndian) { append(contentsOf: $0) } }
    mutating func le32(_ v: UInt32) { Swift.withUnsafeBytes(of: v.littleEndian) { append(contentsOf: $0) } }
    mutating func le64(_ v: UInt64) { Swift.withUnsafeBytes(of: v.littleEndian) { append(contentsOf: $0) } }
}
