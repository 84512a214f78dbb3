import Foundation

/// Writes into the output directory and nowhere else, and remembers what it wrote.
/// Modes are set explicitly: Lambda runs the code as a user that is not the file's owner,
/// so everything must be world-readable and `bootstrap` executable.
final class OutputWriter {
    let directory: String
    private(set) var written: [WrittenFile] = []

    init(directory: String) {
        self.directory = directory
    }

    private func path(_ relative: String) -> String {
        (directory as NSString).appendingPathComponent(relative)
    }

    private func makeParent(of relative: String) throws(PackageError) {
        let parent = (path(relative) as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        } catch {
            throw .io(path: parent, message: "cannot create it (\(error.localizedDescription))")
        }
    }

    private func setMode(_ mode: Int, _ relative: String) throws(PackageError) {
        do {
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path(relative))
        } catch {
            throw .io(path: path(relative), message: "cannot set its permissions (\(error.localizedDescription))")
        }
    }

    private func record(_ relative: String, note: String?) {
        let size = (try? FileManager.default.attributesOfItem(atPath: path(relative))[.size] as? NSNumber)?.int64Value ?? 0
        written.append(WrittenFile(path: relative, bytes: size, note: note))
    }

    func write(_ text: String, to relative: String) throws(PackageError) {
        try write(Data(text.utf8), to: relative, mode: 0o644, note: nil)
    }

    func write(_ data: Data, to relative: String, mode: Int, note: String?) throws(PackageError) {
        try makeParent(of: relative)
        do {
            try data.write(to: URL(fileURLWithPath: path(relative)))
        } catch {
            throw .io(path: path(relative), message: "cannot write it (\(error.localizedDescription))")
        }
        try setMode(mode, relative)
        record(relative, note: note)
    }

    func copyExecutable(from source: String, to relative: String) throws(PackageError) {
        try makeParent(of: relative)
        do {
            try FileManager.default.copyItem(atPath: source, toPath: path(relative))
        } catch {
            throw .io(path: path(relative), message: "cannot copy \(source) there (\(error.localizedDescription))")
        }
        try setMode(0o755, relative)
        record(relative, note: "executable")
    }

    /// A hard link when the model is world-readable and on the same file system (no copy
    /// of gigabytes), else a copy made world-readable: changing the mode through a link
    /// would change the user's own file.
    func linkOrCopyModel(from source: String, to relative: String) throws(PackageError) {
        try makeParent(of: relative)
        let fm = FileManager.default
        let mode = (try? fm.attributesOfItem(atPath: source)[.posixPermissions] as? NSNumber)?.intValue ?? 0
        if mode & 0o444 == 0o444 {
            do {
                try fm.linkItem(atPath: source, toPath: path(relative))
                record(relative, note: "hard link")
                return
            } catch {
                // Another file system, or links not allowed: copy instead.
            }
        }
        do {
            try fm.copyItem(atPath: source, toPath: path(relative))
        } catch {
            throw .io(path: path(relative), message: "cannot copy \(source) there (\(error.localizedDescription))")
        }
        try setMode(0o644, relative)
        record(relative, note: "copy")
    }

    /// `function.zip` holding the executable under `name` with mode 0755; returns its size.
    func writeZip(executable source: String, named name: String, to relative: String) throws(PackageError) -> Int64 {
        let contents: Data
        do {
            contents = try Data(contentsOf: URL(fileURLWithPath: source))
        } catch {
            throw .io(path: source, message: "cannot read it (\(error.localizedDescription))")
        }
        let archive: [UInt8]
        do {
            archive = try ZipWriter.archive([ZipEntry(name: name, data: Array(contents), mode: 0o755)])
        } catch {
            throw .zip(error)
        }
        try write(Data(archive), to: relative, mode: 0o644, note: "zip of \(name), mode 0755")
        return Int64(archive.count)
    }
}
