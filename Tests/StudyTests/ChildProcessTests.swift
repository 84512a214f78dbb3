import Foundation
import Study
import Testing

@Suite struct ChildProcessTests {
    @Test("output, error text and exit status of a child come back separately")
    func capturesStreamsAndStatus() throws {
        let child = ChildProcess(executable: "/bin/sh", arguments: ["-c", "echo out; echo err >&2; exit 3"])
        let outcome = try child.launch()
        #expect(outcome.exitCode == 3)
        #expect(outcome.signal == nil)
        #expect(String(decoding: outcome.standardOutput, as: UTF8.self) == "out\n")
        #expect(outcome.standardError == "err")
        #expect(outcome.peakRSSBytes > 0)
    }

    @Test("run throws for a failing child and names the command and the last error line")
    func runThrowsOnFailure() {
        let child = ChildProcess(executable: "/bin/sh", arguments: ["-c", "echo 'bad thing' >&2; exit 2"])
        #expect {
            try child.run()
        } throws: { error in
            let text = String(describing: error)
            return text.contains("/bin/sh") && text.contains("status 2") && text.contains("bad thing")
        }
    }

    @Test("a child killed by a signal is reported as such")
    func reportsSignal() throws {
        let outcome = try ChildProcess(executable: "/bin/sh", arguments: ["-c", "kill -9 $$"]).launch()
        #expect(outcome.signal == 9)
        #expect(outcome.exitCode == -1)
    }

    @Test("peak RSS is the child's own: a child touching 200 MB reports at least that")
    func peakRSSIsTheChilds() throws {
        let outcome = try ChildProcess(
            executable: "/usr/bin/env",
            arguments: ["python3", "-c", "b = bytearray(200 * 1024 * 1024); b[::4096] = b'x' * len(b[::4096])"]
        ).launch()
        try #require(outcome.exitCode == 0, "python3 is needed for this test")
        #expect(outcome.peakRSSBytes >= 200 << 20)
    }

    @Test("a missing executable is a clear error, not a crash")
    func missingExecutable() {
        #expect(throws: ChildProcess.Failure.self) {
            try ChildProcess(executable: "/nonexistent/program", arguments: []).run()
        }
    }

    @Test("large output does not deadlock on a full pipe")
    func largeOutput() throws {
        let outcome = try ChildProcess(executable: "/bin/sh", arguments: ["-c", "head -c 3000000 /dev/zero; head -c 300000 /dev/zero >&2"]).run()
        #expect(outcome.standardOutput.count == 3_000_000)
    }
}
