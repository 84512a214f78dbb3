import Testing
@testable import ModelSource

@Suite struct DiskSpaceTests {
    @Test("too little space names the directory, needed and free MB, and EphemeralStorage")
    func tooSmall() throws {
        let dir = try TemporaryDirectory()
        let free = try DiskSpace.available(in: dir.path)
        #expect(free > 0)
        let huge = Int64(1) << 60
        #expect {
            try DiskSpace.require(huge, in: dir.path)
        } throws: { error in
            guard case .insufficientSpace(let directory, let needed, let reported) = error as? ModelSourceError else { return false }
            let text = String(describing: error)
            return directory == dir.path && needed == huge + DiskSpace.slackBytes && reported > 0
                && text.contains("not enough space in \(dir.path)") && text.contains("\(ModelSourceError.megabytes(needed)) MB")
                && text.contains("EphemeralStorage")
        }
        try DiskSpace.require(1 << 20, in: dir.path)
    }

    @Test("a directory that cannot be inspected is a file-system error naming it")
    func missingDirectory() {
        #expect {
            try DiskSpace.available(in: "/nonexistent/dir/for/test")
        } throws: { String(describing: $0).contains("/nonexistent/dir/for/test") }
    }
}
