import Foundation
import LambdaLimits
import ModelFiles
import Study

/// `lambda-llm package` from start to finish: every check that can refuse (options, the
/// model's header, the binary's machine, Swift runtime and glibc needs, the sizing, the
/// size limits, the output directory) runs before the first file is written; then the
/// files go into the output directory and nowhere else.
public enum Packager {
    /// Everything `package` may write in the output directory, and all that --force replaces.
    public static let ownedPaths = ["Dockerfile", ".dockerignore", "bootstrap", "model", "zip", "function.zip",
                                    "template.yaml", "README.md"]
    /// The base image and its layers, added to model + binary for the 10 GB image limit:
    /// an allowance, not a measurement (provided.al2023 is a minimal Amazon Linux).
    public static let baseImageAllowanceBytes: Int64 = 100 * LambdaLimits.bytesPerMB
    /// Lambda's rule for a function name given without an ARN.
    static let maximumFunctionNameLength = 64

    public static func package(_ request: PackageRequest, limits: LambdaLimits = .current) throws(PackageError) -> PackageResult {
        let s3 = try checkOptions(request)

        // The model: a GGUF we can read, and its KV cache shape.
        let model = try ModelFacts(path: request.modelPath, context: request.contextLength)

        // The binary: machine, Swift runtime, glibc.
        var warnings: [String] = []
        let binary = try inspectBinary(request, limits: limits, warnings: &warnings)
        guard let architecture = binary.architecture else {
            throw .unsupportedMachine(path: request.binaryPath, machine: binary.elf.machine)
        }

        // Sizes, then Lambda's packaging limits.
        let planned: DeploymentSizing
        if let studyPath = request.studyPath {
            let results = try loadStudy(studyPath)
            let (variant, byName) = try DeploymentSizer.matchVariant(in: results, fileBytes: model.bytes,
                                                                     fileName: model.fileName, studyPath: studyPath)
            planned = try DeploymentSizer.fromStudy(variant: variant, matchedByName: byName, studyPath: studyPath,
                                                    settings: results.settings, source: request.source,
                                                    fileBytes: model.bytes, kvCache: model.kvCache, limits: limits)
        } else {
            planned = try DeploymentSizer.estimate(fileBytes: model.bytes, kvCache: model.kvCache, source: request.source,
                                                   modelPath: request.modelPath, limits: limits)
        }
        let sizing = try DeploymentSizer.overriding(planned, memoryMB: request.memoryMB,
                                                    timeoutSeconds: request.timeoutSeconds, limits: limits)
        switch request.source {
        case .image:
            let imageBytes = model.bytes + binary.bytes + baseImageAllowanceBytes
            guard imageBytes <= limits.containerImageBytes else {
                throw .imageTooLarge(bytes: imageBytes, limit: limits.containerImageBytes)
            }
        case .s3:
            guard binary.bytes <= limits.zipUnzippedBytes else {
                throw .zipTooLarge(bytes: binary.bytes, limit: limits.zipUnzippedBytes)
            }
        }

        let inputs = [request.modelPath, request.binaryPath] + (request.studyPath.map { [$0] } ?? [])
        try prepareOutputDirectory(request.outputDirectory, force: request.force, inputs: inputs)
        let writer = OutputWriter(directory: request.outputDirectory)

        // The files.
        let imageFileName = DockerfileText.safeFileName(model.fileName)
        let dockerfile = DockerfileText(architecture: architecture, modelFileName: imageFileName,
                                        contextLength: request.contextLength)
        var zipBytes: Int64?
        switch request.source {
        case .image:
            try writer.linkOrCopyModel(from: request.modelPath, to: "model/" + imageFileName)
            try writer.copyExecutable(from: request.binaryPath, to: "bootstrap")
            try writer.write(dockerfile.render(limits: limits), to: "Dockerfile")
            try writer.write(DockerfileText.dockerignore, to: ".dockerignore")
        case .s3:
            try writer.copyExecutable(from: request.binaryPath, to: "zip/bootstrap")
            zipBytes = try writer.writeZip(executable: request.binaryPath, named: "bootstrap", to: "function.zip")
            if let zipBytes, zipBytes > limits.zipUploadBytes {
                warnings.append("function.zip is \(Format.megabytes(zipBytes)), over the \(Format.megabytes(limits.zipUploadBytes)) "
                    + "direct-upload limit: deploy it through S3 (`sam deploy` does; see README.md)")
            }
        }
        let modelLocation = request.source == .image ? dockerfile.modelPathInImage : (s3?.uri ?? "")
        let template = SAMTemplate(
            source: request.source, architecture: architecture, sizing: sizing, modelLocation: modelLocation, s3: s3,
            modelDescription: "\(model.fileName) (\(Format.grouped(Int(clamping: model.bytes))) bytes)",
            functionName: request.functionName, contextLength: request.contextLength, modelName: model.stem,
            dockerTag: dockerTag(model.stem), glibcSummary: binary.glibc.summary)
        try writer.write(template.render(limits: limits), to: "template.yaml")
        let readme = PackageReadme(source: request.source, architecture: architecture, modelFileName: model.fileName,
                                   modelPath: request.modelPath, modelBytes: model.bytes, s3: s3, sizing: sizing,
                                   binary: binary, zipBytes: zipBytes, servedModelName: model.stem)
        try writer.write(readme.render(limits: limits), to: "README.md")

        return PackageResult(outputDirectory: request.outputDirectory, source: request.source, architecture: architecture,
                             files: writer.written, sizing: sizing, binary: binary, warnings: warnings)
    }

    // MARK: Checks

    /// Option combinations and values; returns the parsed S3 location for `.s3`.
    static func checkOptions(_ request: PackageRequest) throws(PackageError) -> S3ModelLocation? {
        if let name = request.functionName {
            let allowed = name.unicodeScalars.allSatisfy {
                ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_"
            }
            guard allowed, (1...maximumFunctionNameLength).contains(name.count) else {
                throw .invalidOption("--name '\(name)' is not a Lambda function name: 1-\(maximumFunctionNameLength) "
                    + "letters, digits, '-' or '_'")
            }
        }
        if let context = request.contextLength, !(1...1_048_576).contains(context) {
            throw .invalidOption("--context \(context) is outside 1...1048576 tokens")
        }
        switch request.source {
        case .image:
            guard request.s3URI == nil else {
                throw .invalidOption("--s3-uri only applies to --source s3 (a container image carries its model)")
            }
            return nil
        case .s3:
            guard let uri = request.s3URI else {
                throw .invalidOption("--source s3 needs --s3-uri s3://BUCKET/KEY: where the function downloads the model from")
            }
            do {
                return try S3ModelLocation(uri: uri)
            } catch {
                throw .s3(error)
            }
        }
    }

    /// Symbols and debug info past this size get a warning suggesting `strip`.
    static let strippableWarningBytes: Int64 = 16 << 20

    static func inspectBinary(_ request: PackageRequest, limits: LambdaLimits,
                              warnings: inout [String]) throws(PackageError) -> BinaryInspection {
        let elf: ELFFile
        do {
            elf = try ELFFile.read(path: request.binaryPath)
        } catch {
            throw .binary(error)
        }
        let binary = BinaryInspection(path: request.binaryPath, elf: elf, limits: limits)
        let unmapped = elf.fileBytes - elf.loadedBytes
        if elf.loadedBytes > 0, unmapped > strippableWarningBytes {
            let study = RuntimeBinaryCheck.strippedBytes(of: elf).map {
                " (`lambda-llm study` counts a binary at its stripped size, \(Format.megabytes($0)) for this one)"
            } ?? ""
            warnings.append("the binary carries \(Format.megabytes(unmapped)) that the loader never maps (symbol tables, "
                + "debug info): `strip` it before packaging to make "
                + (request.source == .s3 ? "function.zip" : "the image") + " that much smaller" + study)
        }
        if let found = binary.architecture, let requested = request.architecture, found != requested {
            throw .wrongArchitecture(path: request.binaryPath, found: found, requested: requested)
        }
        if !binary.swiftRuntimeLibraries.isEmpty {
            guard request.allowDynamicStdlib else {
                throw .dynamicSwiftRuntime(path: request.binaryPath, libraries: binary.swiftRuntimeLibraries)
            }
            warnings.append("the binary needs \(Format.list(binary.swiftRuntimeLibraries)), which "
                + "\(limits.providedAL2023Runtime) does not have: the function will not start unless you ship them "
                + "(e.g. in a layer, with LD_LIBRARY_PATH); build with --static-swift-stdlib instead")
        }
        if !binary.glibc.passes {
            guard request.skipGlibcCheck else {
                throw .glibcTooNew(path: request.binaryPath, summary: binary.glibc.summary)
            }
            warnings.append("--skip-glibc-check: " + binary.glibc.summary + "; the function will fail to start on Lambda")
        }
        if binary.libstdcxx.isNeeded && !binary.libstdcxx.passes {
            // A warning, not a refusal: AWS names the GCC (11.2), not the GLIBCXX version it implies.
            warnings.append(binary.libstdcxx.summary + ". The image's libstdc++ is likely to refuse it: build where "
                + "libstdc++ is GCC 11's (e.g. in an Amazon Linux 2023 container)")
        }
        return binary
    }

    static func loadStudy(_ path: String) throws(PackageError) -> StudyResults {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw .study(path: path, message: "cannot read it (\(error.localizedDescription))")
        }
        do {
            return try JSONDecoder().decode(StudyResults.self, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            throw .study(path: path, message: "not a study results.json: '\(codingPath(context.codingPath + [key]))' is missing")
        } catch let DecodingError.typeMismatch(_, context) {
            throw .study(path: path, message: "not a study results.json: '\(codingPath(context.codingPath))' has the wrong type")
        } catch let DecodingError.valueNotFound(_, context) {
            throw .study(path: path, message: "not a study results.json: '\(codingPath(context.codingPath))' is null")
        } catch {
            throw .study(path: path, message: "not valid JSON from `lambda-llm study` (\(error.localizedDescription))")
        }
    }

    static func codingPath(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            .replacingOccurrences(of: ".[", with: "[")
    }

    /// Creates the directory, or accepts an empty one; a non-empty one only with --force,
    /// and then only after making sure no input lives where a written file will go.
    static func prepareOutputDirectory(_ directory: String, force: Bool, inputs: [String]) throws(PackageError) {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: directory, isDirectory: &isDirectory) else {
            do {
                try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw .io(path: directory, message: "cannot create the output directory (\(error.localizedDescription))")
            }
            return
        }
        guard isDirectory.boolValue else { throw .outputIsNotDirectory(directory) }
        let contents: [String]
        do {
            contents = try fm.contentsOfDirectory(atPath: directory)
        } catch {
            throw .io(path: directory, message: "cannot list the output directory (\(error.localizedDescription))")
        }
        guard !contents.isEmpty else { return }
        guard force else { throw .outputNotEmpty(directory) }
        let resolvedDirectory = resolved(directory)
        for input in inputs {
            let path = resolved(input)
            for owned in ownedPaths {
                let target = resolvedDirectory + "/" + owned
                if path == target || path.hasPrefix(target + "/") {
                    throw .wouldOverwriteInput(output: directory, input: input)
                }
            }
        }
        for owned in ownedPaths {
            let target = (directory as NSString).appendingPathComponent(owned)
            // fileExists follows links; a dangling one still has to go.
            guard (try? fm.attributesOfItem(atPath: target)) != nil else { continue }
            do {
                try fm.removeItem(atPath: target)
            } catch {
                throw .io(path: target, message: "cannot replace it (\(error.localizedDescription))")
            }
        }
    }

    static func resolved(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
    }

    /// A Docker tag from the model's name: [A-Za-z0-9_.-], at most 128 characters, lower-cased.
    static func dockerTag(_ stem: String) -> String {
        String(DockerfileText.safeFileName(stem.lowercased()).prefix(128))
    }
}

/// The model's facts the packager uses, read once.
struct ModelFacts {
    var fileName: String
    /// The name without its extension: what the runtime and clients call the model.
    var stem: String
    var bytes: Int64
    var kvCache: KVCacheEstimate

    init(path: String, context: Int?) throws(PackageError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw .model(path: path, message: "no such file (give the GGUF file to deploy)")
        }
        let file: GGUFFile
        do {
            file = try GGUFFile(path: path)
        } catch {
            throw .model(path: path, message: error.description)
        }
        fileName = (path as NSString).lastPathComponent
        stem = (fileName as NSString).deletingPathExtension
        bytes = Int64(file.fileSize)
        do {
            kvCache = try KVCacheEstimate(metadata: file.metadata, context: context)
        } catch {
            throw .kvCache(error)
        }
        if let context, context > kvCache.modelContextLength {
            throw .invalidOption("--context \(context) is longer than the model's context_length "
                + "\(kvCache.modelContextLength)")
        }
    }
}
