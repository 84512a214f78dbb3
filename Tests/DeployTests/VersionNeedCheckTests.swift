import Deploy
import LambdaLimits
import Testing

@Suite struct VersionNeedCheckTests {
    func elf(_ needs: [(String, [String])], _ imports: [(String, String?)]) throws -> ELFFile {
        var image = ELFTestImage()
        image.versionNeeds = needs
        image.imports = imports
        return try ELFFile(bytes: image.bytes(), file: "t")
    }

    func check(_ needs: [(String, [String])], _ imports: [(String, String?)]) throws -> VersionNeedCheck {
        VersionNeedCheck(elf: try elf(needs, imports), family: .glibc())
    }

    @Test("versions compare number by number: 2.4 < 2.34, 2.2.5 < 2.3, 2.34 == 2.34.0")
    func ordering() {
        let v = { (s: String) in SymbolVersion(s)! }
        #expect(v("2.4") < v("2.34"))
        #expect(v("2.2.5") < v("2.3"))
        #expect(v("2.34") == v("2.34.0"))
        #expect(!(v("2.35") < v("2.34")))
        #expect(SymbolVersion(versionName: "GLIBC_2.38") == v("2.38"))
        #expect(SymbolVersion(versionName: "GLIBC_PRIVATE") == nil)
        #expect(SymbolVersion(versionName: "GLIBCXX_3.4.30") == nil)
        #expect(SymbolVersion(versionName: "GLIBCXX_3.4.30", prefix: "GLIBCXX_") == v("3.4.30"))
        #expect(SymbolVersion("2..3") == nil && SymbolVersion("") == nil && SymbolVersion("2.x") == nil)
    }

    @Test("Amazon Linux 2023's glibc is 2.34 and its libstdc++ GLIBCXX_3.4.29 in the limits table")
    func ceiling() {
        #expect(VersionFamily.glibc().ceiling == SymbolVersion("2.34")!)
        #expect(VersionFamily.libstdcxx().ceiling == SymbolVersion("3.4.29")!)
    }

    @Test("needing up to GLIBC_2.34 passes and says so")
    func passes() throws {
        let result = try check([("libc.so.6", ["GLIBC_2.2.5", "GLIBC_2.34", "GLIBC_2.17"])],
                               [("memcpy", "GLIBC_2.2.5"), ("__libc_start_main", "GLIBC_2.34")])
        #expect(result.passes)
        #expect(result.required.map(\.description) == ["2.2.5", "2.17", "2.34"])
        #expect(result.summary == "glibc: needs up to GLIBC_2.34: OK for Amazon Linux 2023 (glibc 2.34)")
    }

    @Test("a version above 2.34 fails and lists the symbols that need it")
    func tooNew() throws {
        let result = try check([("libc.so.6", ["GLIBC_2.2.5", "GLIBC_2.38", "GLIBC_2.36"])],
                               [("strlcpy", "GLIBC_2.38"), ("__isoc23_strtol", "GLIBC_2.38"), ("memcpy", "GLIBC_2.2.5")])
        #expect(!result.passes)
        #expect(result.symbolsAboveCeiling == ["GLIBC_2.38": ["__isoc23_strtol", "strlcpy"], "GLIBC_2.36": []])
        #expect(result.summary.contains("needs up to GLIBC_2.38, newer than Amazon Linux 2023"))
        #expect(result.summary.contains("GLIBC_2.36; GLIBC_2.38 (__isoc23_strtol, strlcpy)"))
    }

    @Test("GLIBC_ names that are not versions (GLIBC_ABI_DT_RELR, GLIBC_PRIVATE) fail")
    func unrecognized() throws {
        let result = try check([("libc.so.6", ["GLIBC_2.17", "GLIBC_ABI_DT_RELR"])], [("memcpy", "GLIBC_2.17")])
        #expect(!result.passes)
        #expect(result.unrecognized == ["GLIBC_ABI_DT_RELR"])
        #expect(result.summary.contains("GLIBC_ABI_DT_RELR"))
    }

    @Test("libstdc++ versions are judged apart: GLIBCXX_3.4.30 passes glibc and fails libstdc++ (GCC 11)")
    func libstdcxx() throws {
        let binary = try elf([("libc.so.6", ["GLIBC_2.17"]), ("libstdc++.so.6", ["GLIBCXX_3.4.29", "GLIBCXX_3.4.30", "CXXABI_1.3"])],
                             [("_ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE", "GLIBCXX_3.4.30"),
                              ("_Znwm", "GLIBCXX_3.4.29")])
        let glibc = VersionNeedCheck(elf: binary, family: .glibc())
        #expect(glibc.passes && glibc.required == [SymbolVersion("2.17")!])
        let cxx = VersionNeedCheck(elf: binary, family: .libstdcxx())
        #expect(cxx.isNeeded && !cxx.passes)
        #expect(cxx.symbolsAboveCeiling == ["GLIBCXX_3.4.30": ["_ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE"]])
        #expect(cxx.summary.hasPrefix("libstdc++: needs up to GLIBCXX_3.4.30, newer than Amazon Linux 2023"))
        let none = VersionNeedCheck(elf: try elf([("libc.so.6", ["GLIBC_2.17"])], []), family: .libstdcxx())
        #expect(!none.isNeeded && none.passes)
    }

    @Test("a static executable needs no glibc")
    func staticBinary() throws {
        let result = VersionNeedCheck(elf: try ELFFile(bytes: ELFTestImage.staticExecutable().bytes(), file: "s"),
                                      family: .glibc())
        #expect(result.passes && result.staticallyLinked)
        #expect(result.summary.hasPrefix("glibc: statically linked"))
    }

    @Test("many too-new symbols are abbreviated")
    func abbreviation() throws {
        let symbols = (0..<20).map { ("f\($0)", Optional("GLIBC_2.39")) }
        let result = try check([("libc.so.6", ["GLIBC_2.39"])], symbols)
        #expect(result.summary.contains("and 12 more"))
    }
}
