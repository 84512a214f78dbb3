import LambdaLimits

/// Why `lambda-llm package` refused: each message names the file, option or limit at
/// fault and what to do instead. Nothing is written to the output directory before the
/// checks that can throw these have passed, except I/O failures while writing.
public enum PackageError: Error, CustomStringConvertible, Equatable, Sendable {
    case invalidOption(String)
    case model(path: String, message: String)
    case binary(ELFError)
    case unsupportedMachine(path: String, machine: ELFFile.Machine)
    case wrongArchitecture(path: String, found: LambdaArchitecture, requested: LambdaArchitecture)
    case dynamicSwiftRuntime(path: String, libraries: [String])
    case glibcTooNew(path: String, summary: String)
    case study(path: String, message: String)
    case noMatchingVariant(study: String, fileBytes: Int64, fileName: String, variants: [String])
    case ambiguousVariant(study: String, fileName: String, variants: [String])
    case noVerdict(study: String, variant: String)
    case memoryTooLarge(neededMB: Int, limitMB: Int, basis: String)
    case storageTooLarge(neededMB: Int, limitMB: Int)
    case imageTooLarge(bytes: Int64, limit: Int64)
    case zipTooLarge(bytes: Int64, limit: Int64)
    case outputIsNotDirectory(String)
    case outputNotEmpty(String)
    case wouldOverwriteInput(output: String, input: String)
    case io(path: String, message: String)
    case s3(S3ModelLocation.Failure)
    case kvCache(KVCacheEstimate.Failure)
    case zip(ZipError)

    public var description: String {
        switch self {
        case .invalidOption(let message):
            return message
        case .model(let path, let message):
            return message.hasPrefix(path) ? "--model " + message : "--model \(path): \(message)"
        case .binary(let error):
            return "--binary " + error.description
        case .unsupportedMachine(let path, let machine):
            return "--binary \(path) is built for \(machine), which Lambda does not run: Lambda runs x86_64 and arm64"
        case .wrongArchitecture(let path, let found, let requested):
            return "--binary \(path) is built for \(found.rawValue), but --arch is \(requested.rawValue): "
                + RuntimeBinaryCheck.buildAdvice(for: requested)
        case .dynamicSwiftRuntime(let path, let libraries):
            return "--binary \(path) needs the Swift runtime as shared libraries (\(Format.list(libraries))), "
                + "which Lambda's provided.al2023 has not: build it with "
                + "`swift build -c release --static-swift-stdlib --product lambda-llm` "
                + "(or pass --allow-dynamic-stdlib if you ship those libraries yourself)"
        case .glibcTooNew(let path, let summary):
            return "--binary \(path): \(summary). Build on a system with glibc 2.34 or older (e.g. an Amazon Linux 2023 "
                + "or Amazon Linux 2 Swift image), or pass --skip-glibc-check to package it anyway"
        case .study(let path, let message):
            return "--study \(path): \(message)"
        case .noMatchingVariant(let study, let fileBytes, let fileName, let variants):
            return "--study \(study) has no variant of \(Format.grouped(Int(clamping: fileBytes))) bytes, the size of "
                + "\(fileName); it has: \(variants.joined(separator: "; ")). Package one of those files, or run "
                + "`lambda-llm study --model \(fileName)`"
        case .ambiguousVariant(let study, let fileName, let variants):
            return "--study \(study) has several variants of the size of \(fileName) and none of that name: "
                + "\(variants.joined(separator: "; ")). Package the study's file itself (its name picks the variant)"
        case .noVerdict(let study, let variant):
            return "--study \(study): variant \(variant) has no Lambda verdict (its measurement failed?); re-run the study"
        case .memoryTooLarge(let needed, let limit, let basis):
            return "the model needs \(Format.grouped(needed)) MB of memory (\(basis)), more than Lambda's "
                + "\(Format.grouped(limit)) MB: use a smaller quantization (e.g. `lambda-llm convert --type int4-asym`)"
                + (basis.contains("estimate") ? ", a smaller --context, or measure it with `lambda-llm study`" : "")
        case .storageTooLarge(let needed, let limit):
            return "the model needs \(Format.grouped(needed)) MB of /tmp to download from S3, more than Lambda's "
                + "\(Format.grouped(limit)) MB of ephemeral storage: use --source image (up to 10 GB) or a smaller quantization"
        case .imageTooLarge(let bytes, let limit):
            return "the container image would be about \(Format.megabytes(bytes)) (model + binary + base image), over "
                + "Lambda's \(Format.megabytes(limit)) image limit: use a smaller quantization"
        case .zipTooLarge(let bytes, let limit):
            return "the zip's contents would be \(Format.megabytes(bytes)) unzipped, over Lambda's \(Format.megabytes(limit)) "
                + "limit for zip packages: use --source image"
        case .outputIsNotDirectory(let path):
            return "--out \(path) exists and is not a directory"
        case .outputNotEmpty(let path):
            return "--out \(path) is not empty: choose a new directory, or pass --force to replace the files "
                + "`package` writes there (other files are left alone)"
        case .wouldOverwriteInput(let output, let input):
            return "--out \(output) would replace \(input), which is one of this command's inputs: choose another --out"
        case .io(let path, let message):
            return "\(path): \(message)"
        case .s3(let failure):
            return failure.description
        case .kvCache(let failure):
            return failure.description
        case .zip(let error):
            return error.description
        }
    }
}
