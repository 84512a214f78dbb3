import Deploy
import Foundation
import LambdaLimits
import ModelFiles
import Study
import TestSupport
import Testing

@Suite struct PackagerTests {
    func request(model: String, binary: String, source: DeploymentSource = .image, out: String? = nil,
                 edit: (inout PackageRequest) -> Void = { _ in }) throws -> PackageRequest {
        var r = PackageRequest(modelPath: model, outputDirectory: try out ?? GGUFTestFiles.temporaryDirectory() + "/pkg",
                               source: source, binaryPath: binary)
        if source == .s3 { r.s3URI = "s3://my-models/llm/tiny-llama.gguf" }
        edit(&r)
        return r
    }

    func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    func mode(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions]) as? NSNumber)?.intValue ?? -1
    }

    @Test("--source image writes Dockerfile, bootstrap, model, template, README and .dockerignore; every COPY source exists")
    func imagePackage() throws {
        let model = try DeployFixtures.tinyModel()
        let binary = try ELFTestImage().write()
        let r = try request(model: model, binary: binary)
        let result = try Packager.package(r)
        let out = r.outputDirectory
        #expect(Set(result.files.map(\.path)) == ["model/tiny-llama.gguf", "bootstrap", "Dockerfile", ".dockerignore",
                                                  "template.yaml", "README.md"])
        #expect(mode(out + "/bootstrap") & 0o111 == 0o111)
        #expect(DeployFixtures.fileSize(out + "/model/tiny-llama.gguf") == DeployFixtures.fileSize(model))
        let dockerfile = DeployFixtures.read(out + "/Dockerfile")
        let sources = dockerfile.split(separator: "\n").filter { $0.hasPrefix("COPY ") }.map { $0.split(separator: " ")[1] }
        #expect(sources.count == 2)
        for source in sources { #expect(exists(out + "/" + source), "COPY source \(source) missing") }
        #expect(dockerfile.contains("FROM --platform=linux/amd64 public.ecr.aws/lambda/provided:al2023"))
        let template = DeployFixtures.read(out + "/template.yaml")
        #expect(template.contains("PackageType: Image"))
        #expect(template.contains("LAMBDA_LLM_MODEL: \"/opt/model/tiny-llama.gguf\""))
        #expect(result.sizing.isEstimate)
        #expect(result.architecture == .x86_64)
        #expect(result.summaryLines.contains { $0.contains("glibc: needs up to GLIBC_2.34: OK for Amazon Linux 2023") })
        #expect(DeployFixtures.read(out + "/README.md").contains("sam deploy --guided"))
    }

    @Test("--source s3 writes zip/bootstrap and a function.zip whose bootstrap is executable, and no model")
    func s3Package() throws {
        let model = try DeployFixtures.tinyModel()
        let binary = try ELFTestImage().write()
        let r = try request(model: model, binary: binary, source: .s3)
        let result = try Packager.package(r)
        let out = r.outputDirectory
        #expect(Set(result.files.map(\.path)) == ["zip/bootstrap", "function.zip", "template.yaml", "README.md"])
        #expect(!exists(out + "/model"))
        let zip = try Data(contentsOf: URL(fileURLWithPath: out + "/function.zip"))
        let entries = try ZipReader.entries(Array(zip))
        #expect(entries.map(\.name) == ["bootstrap"])
        #expect(entries.first?.mode == 0o100755)
        #expect(entries.first?.data == Array(try Data(contentsOf: URL(fileURLWithPath: binary))))
        let template = DeployFixtures.read(out + "/template.yaml")
        #expect(template.contains("\"arn:aws:s3:::my-models/llm/tiny-llama.gguf\""))
        #expect(template.contains("\"arn:aws:s3:::my-models/llm/tiny-llama.gguf.sha256\""))
        #expect(DeployFixtures.read(out + "/README.md").contains("--metadata sha256=$SHA"))
    }

    @Test("with --study the template carries the matched variant's verdict")
    func studySizing() throws {
        let model = try DeployFixtures.tinyModel()
        let size = DeployFixtures.fileSize(model)
        let study = try DeployFixtures.writeResults(DeployFixtures.results([
            DeployFixtures.variant(type: "int8", file: "x/other.gguf", fileBytes: size + 1),
            DeployFixtures.variant(type: "int4-asym", file: "x/abc-int4-asym.gguf", fileBytes: size,
                                   verdict: DeployFixtures.verdict(memoryMB: 777, requestSeconds: 20, coldStartS3: 3,
                                                                   coldStartImage: 0.5)),
        ]))
        let binary = try ELFTestImage().write()
        let r = try request(model: model, binary: binary, source: .s3) { $0.studyPath = study }
        let result = try Packager.package(r)
        #expect(result.sizing.memoryMB.value == 777)
        #expect(result.sizing.timeoutSeconds.value == 63)  // ceil(3 x 20 + 3)
        #expect(result.sizing.ephemeralStorageMB.value == 512)
        let template = DeployFixtures.read(r.outputDirectory + "/template.yaml")
        #expect(template.contains("      MemorySize: 777\n"))
        #expect(template.contains("      Timeout: 63\n"))
        #expect(template.contains("variant int4-asym"))
    }

    @Test("a study that is not results.json is refused, naming the missing field")
    func badStudy() throws {
        let model = try DeployFixtures.tinyModel()
        let binary = try ELFTestImage().write()
        let study = try GGUFTestFiles.temporaryFile(Array("{\"variants\": []}".utf8), name: "r.json")
        #expect {
            try Packager.package(try request(model: model, binary: binary) { $0.studyPath = study })
        } throws: { error in
            (error as? PackageError)?.description.contains("is missing") == true
        }
    }

    @Test("a non-empty output directory is refused without --force; --force replaces only package's files")
    func outputDirectory() throws {
        let model = try DeployFixtures.tinyModel()
        let binary = try ELFTestImage().write()
        let out = try GGUFTestFiles.temporaryDirectory()
        try Data("mine".utf8).write(to: URL(fileURLWithPath: out + "/notes.txt"))
        try Data("old".utf8).write(to: URL(fileURLWithPath: out + "/Dockerfile"))
        #expect(throws: PackageError.outputNotEmpty(out)) {
            try Packager.package(try request(model: model, binary: binary, out: out))
        }
        #expect(DeployFixtures.read(out + "/Dockerfile") == "old")
        _ = try Packager.package(try request(model: model, binary: binary, out: out) { $0.force = true })
        #expect(DeployFixtures.read(out + "/notes.txt") == "mine")
        #expect(DeployFixtures.read(out + "/Dockerfile").contains("provided:al2023"))
        // Switching to s3 removes the image files.
        _ = try Packager.package(try request(model: model, binary: binary, source: .s3, out: out) { $0.force = true })
        #expect(!exists(out + "/Dockerfile") && !exists(out + "/model") && exists(out + "/function.zip"))
    }

    @Test("--force refuses when an input lives where a written file goes")
    func selfOverwrite() throws {
        let model = try DeployFixtures.tinyModel()
        let binary = try ELFTestImage().write()
        let r = try request(model: model, binary: binary)
        _ = try Packager.package(r)
        let packaged = r.outputDirectory + "/model/tiny-llama.gguf"
        #expect(throws: PackageError.wouldOverwriteInput(output: r.outputDirectory, input: packaged)) {
            try Packager.package(try request(model: packaged, binary: binary, out: r.outputDirectory) { $0.force = true })
        }
        #expect(exists(packaged))
    }

    @Test("a binary for the other architecture is refused with how to build the right one")
    func wrongArchitecture() throws {
        let model = try DeployFixtures.tinyModel()
        let x86 = try ELFTestImage().write()
        let armRequest = try request(model: model, binary: x86) { $0.architecture = .arm64 }
        do {
            _ = try Packager.package(armRequest)
            Issue.record("expected a refusal")
        } catch {
            #expect(error == .wrongArchitecture(path: x86, found: .x86_64, requested: .arm64))
            #expect(error.description.contains("arm64 Linux machine"))
        }
        var image = ELFTestImage()
        image.machine = 183
        image.interpreter = "/lib/ld-linux-aarch64.so.1"
        let arm = try image.write()
        let result = try Packager.package(try request(model: model, binary: arm))
        #expect(result.architecture == .arm64)
        #expect(DeployFixtures.read(result.outputDirectory + "/template.yaml").contains("        - arm64\n"))
        var risc = ELFTestImage()
        risc.machine = 243
        let riscPath = try risc.write()
        #expect(throws: PackageError.unsupportedMachine(path: riscPath, machine: .other(243))) {
            try Packager.package(try request(model: model, binary: riscPath))
        }
    }

    @Test("a binary needing libswiftCore.so is refused unless --allow-dynamic-stdlib, then warned about")
    func dynamicStdlib() throws {
        let model = try DeployFixtures.tinyModel()
        var image = ELFTestImage()
        image.needed = ["libswiftCore.so", "libFoundation.so", "libc.so.6"]
        let binary = try image.write()
        #expect(throws: PackageError.dynamicSwiftRuntime(path: binary, libraries: ["libswiftCore.so", "libFoundation.so"])) {
            try Packager.package(try request(model: model, binary: binary))
        }
        let result = try Packager.package(try request(model: model, binary: binary) { $0.allowDynamicStdlib = true })
        #expect(result.warnings.contains { $0.contains("libswiftCore.so") })
        #expect(PackageError.dynamicSwiftRuntime(path: "b", libraries: ["libswiftCore.so"]).description
            .contains("--static-swift-stdlib"))
    }

    @Test("a binary carrying more than 16 MB past its loaded segments is packaged with advice to strip it")
    func strippable() throws {
        let model = try DeployFixtures.tinyModel()
        var image = ELFTestImage()
        image.loadSegment = (offset: 0, size: 4096)
        image.padding = 17 << 20
        let unstripped = try Packager.package(try request(model: model, binary: try image.write(name: "unstripped")))
        #expect(unstripped.warnings.contains { $0.contains("`strip` it") && $0.contains("the image") }, "\(unstripped.warnings)")
        image.padding = 1 << 20
        let lean = try Packager.package(try request(model: model, binary: try image.write(name: "lean")))
        #expect(!lean.warnings.contains { $0.contains("strip") }, "\(lean.warnings)")
    }

    @Test("a binary needing glibc newer than 2.34 is refused unless --skip-glibc-check")
    func glibcTooNew() throws {
        let model = try DeployFixtures.tinyModel()
        var image = ELFTestImage()
        image.versionNeeds = [("libc.so.6", ["GLIBC_2.2.5", "GLIBC_2.38"])]
        image.imports = [("memcpy", "GLIBC_2.2.5"), ("strlcpy", "GLIBC_2.38")]
        let binary = try image.write()
        let s3Request = try request(model: model, binary: binary, source: .s3)
        do {
            _ = try Packager.package(s3Request)
            Issue.record("expected a refusal")
        } catch {
            #expect(error.description.contains("GLIBC_2.38 (strlcpy)"))
        }
        let result = try Packager.package(try request(model: model, binary: binary) { $0.skipGlibcCheck = true })
        #expect(result.warnings.contains { $0.contains("--skip-glibc-check") })
    }

    @Test("a binary needing libstdc++ newer than GCC 11's is packaged with a warning naming the symbols")
    func libstdcxxTooNew() throws {
        let model = try DeployFixtures.tinyModel()
        var image = ELFTestImage()
        image.needed = ["libstdc++.so.6", "libc.so.6"]
        image.versionNeeds = [("libc.so.6", ["GLIBC_2.17"]), ("libstdc++.so.6", ["GLIBCXX_3.4.30"])]
        image.imports = [("memcpy", "GLIBC_2.17"), ("_ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE", "GLIBCXX_3.4.30")]
        let result = try Packager.package(try request(model: model, binary: try image.write()))
        #expect(result.warnings.contains { $0.contains("GLIBCXX_3.4.30 (_ZNSt18condition_variable") })
        #expect(result.summaryLines.contains { $0.hasPrefix("libstdc++: needs up to GLIBCXX_3.4.30") })
        #expect(result.binary.otherLibraries == ["libstdc++.so.6"])
    }

    @Test("a file that is not ELF, or a model that is not GGUF, is refused before anything is written")
    func badInputs() throws {
        let model = try DeployFixtures.tinyModel()
        let notELF = try GGUFTestFiles.temporaryFile(Array("#!/bin/sh\necho hi\n".utf8), name: "script")
        let r = try request(model: model, binary: notELF)
        #expect(throws: PackageError.self) { try Packager.package(r) }
        #expect(!exists(r.outputDirectory))
        let binary = try ELFTestImage().write()
        let notGGUF = try GGUFTestFiles.temporaryFile(Array("hello".utf8), name: "x.gguf")
        let r2 = try request(model: notGGUF, binary: binary)
        #expect(throws: PackageError.self) { try Packager.package(r2) }
        #expect(!exists(r2.outputDirectory))
    }

    @Test("option combinations: s3 needs --s3-uri, image refuses it; names and contexts are checked")
    func options() throws {
        let model = try DeployFixtures.tinyModel()
        let binary = try ELFTestImage().write()
        #expect(throws: PackageError.self) {
            try Packager.package(try request(model: model, binary: binary, source: .s3) { $0.s3URI = nil })
        }
        #expect(throws: PackageError.self) {
            try Packager.package(try request(model: model, binary: binary) { $0.s3URI = "s3://b-b/k" })
        }
        #expect(throws: PackageError.self) {
            try Packager.package(try request(model: model, binary: binary) { $0.functionName = "bad name" })
        }
        // The tiny model's context_length is 128.
        #expect(throws: PackageError.self) {
            try Packager.package(try request(model: model, binary: binary) { $0.contextLength = 256 })
        }
        let result = try Packager.package(try request(model: model, binary: binary) { $0.contextLength = 64 })
        #expect(DeployFixtures.read(result.outputDirectory + "/template.yaml").contains("LAMBDA_LLM_CONTEXT: \"64\""))
    }

    @Test("over Lambda's image or zip limits is refused")
    func packagingLimits() throws {
        let model = try DeployFixtures.tinyModel()
        let binary = try ELFTestImage().write()
        var limits = LambdaLimits.current
        limits.containerImageBytes = 1000
        limits.zipUnzippedBytes = 10
        #expect(throws: PackageError.self) { try Packager.package(try request(model: model, binary: binary), limits: limits) }
        #expect(throws: PackageError.self) {
            try Packager.package(try request(model: model, binary: binary, source: .s3), limits: limits)
        }
    }

    @Test("the tiny model's KV cache comes from its header: 2 layers x 128 positions x 32 values x 2 bytes (F16)")
    func kvFromHeader() throws {
        let file = try GGUFFile(path: try DeployFixtures.tinyModel())
        let kv = try KVCacheEstimate(metadata: file.metadata)
        #expect(kv.layers == 2 && kv.contextLength == 128 && kv.valuesPerPosition == 32)
        #expect(kv.bytes == 2 * 128 * 32 * 2)
        #expect(try KVCacheEstimate(metadata: file.metadata, context: 64).bytes == 2 * 64 * 32 * 2)
    }
}
