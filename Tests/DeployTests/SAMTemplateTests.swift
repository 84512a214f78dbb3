import Deploy
import LambdaLimits
import Study
import Testing

@Suite struct SAMTemplateTests {
    func sizing(source: DeploymentSource) throws -> DeploymentSizing {
        let variant = DeployFixtures.variant()
        return try DeploymentSizer.fromStudy(variant: variant, matchedByName: true, studyPath: "study-out/results.json",
                                             settings: DeployFixtures.settings, source: source,
                                             fileBytes: variant.fileBytes, kvCache: nil)
    }

    func template(source: DeploymentSource, s3: S3ModelLocation? = nil, name: String? = nil,
                  modelName: String = "model") throws -> SAMTemplate {
        SAMTemplate(source: source, architecture: .arm64, sizing: try sizing(source: source),
                    modelLocation: s3?.uri ?? "/opt/model/model.gguf", s3: s3, modelDescription: "model.gguf (1 bytes)",
                    functionName: name, contextLength: nil, modelName: modelName, dockerTag: "model",
                    glibcSummary: "glibc: needs up to GLIBC_2.34: OK")
    }

    func lines(_ text: String) -> [String] { text.split(separator: "\n").map(String.init) }

    @Test("the verdict's numbers land in MemorySize, EphemeralStorage.Size and Timeout, each with its reason")
    func numbers() throws {
        let s3 = try S3ModelLocation(uri: "s3://models-bucket/llm/model.gguf")
        let text = try template(source: .s3, s3: s3).render()
        let all = lines(text)
        #expect(all.contains("      MemorySize: 4613"))
        #expect(all.contains("        Size: 4169"))
        #expect(all.contains("      Timeout: 95"))
        #expect(all.contains("        - arm64"))
        #expect(text.contains("# Memory: measured: peak RSS"))
        #expect(text.contains("variant int4-asym in study-out/results.json"))
        #expect(text.contains("# Timeout: 3 x the measured request"))
        let image = try template(source: .image).render()
        #expect(lines(image).contains("      Timeout: 54"))
        #expect(lines(image).contains("        Size: 512"))
    }

    @Test("an S3 function may GetObject exactly its model and sidecar ARNs, nothing broader")
    func policy() throws {
        let s3 = try S3ModelLocation(uri: "s3://models-bucket/llm/model.gguf")
        let text = try template(source: .s3, s3: s3).render()
        #expect(s3.objectARN == "arn:aws:s3:::models-bucket/llm/model.gguf")
        #expect(s3.sidecarARN == "arn:aws:s3:::models-bucket/llm/model.gguf.sha256")
        let resources = lines(text).filter { $0.contains("arn:aws") }
        #expect(resources == [
            "                - \"arn:aws:s3:::models-bucket/llm/model.gguf\"",
            "                - \"arn:aws:s3:::models-bucket/llm/model.gguf.sha256\"",
        ])
        #expect(lines(text).filter { $0.contains("Action:") } == ["              Action: s3:GetObject"])
        #expect(!text.contains("s3:*") && !text.contains("ListBucket\n"))
        #expect(lines(text).contains("      Runtime: provided.al2023"))
        #expect(lines(text).contains("      Handler: bootstrap"))
        #expect(lines(text).contains("      CodeUri: zip/"))
        #expect(lines(text).contains("          LAMBDA_LLM_MODEL: \"s3://models-bucket/llm/model.gguf\""))
    }

    @Test("IAM wildcards in an S3 key are escaped so the policy still names one object")
    func wildcardKey() throws {
        let s3 = try S3ModelLocation(uri: "s3://b-1/odd*name?$x.gguf")
        #expect(s3.objectARN == "arn:aws:s3:::b-1/odd${*}name${?}${$}x.gguf")
        #expect(s3.sidecarARN == "arn:aws:s3:::b-1/odd${*}name${?}${$}x.gguf.sha256")
        #expect(s3.key == "odd*name?$x.gguf")
    }

    @Test("bad S3 URIs are refused with the rule they break")
    func badURIs() {
        for uri in ["https://b/k", "s3://bucket", "s3://bucket/", "s3://Bucket/k", "s3://ab/k", "s3://-bucket/k",
                    "s3://a..b/k", "s3://bucket/dir/", "s3://bucket/a\nb"] {
            #expect(throws: S3ModelLocation.Failure.self) { try S3ModelLocation(uri: uri) }
        }
    }

    @Test("odd names are quoted: the template's strings read back exactly")
    func quoting() throws {
        let s3 = try S3ModelLocation(uri: "s3://bucket/a \"quoted\" #1: name\\x.gguf")
        let text = try template(source: .s3, s3: s3, name: "fn-1", modelName: "yes: #no").render()
        #expect(text.contains(#"LAMBDA_LLM_MODEL: "s3://bucket/a \"quoted\" #1: name\\x.gguf""#))
        #expect(text.contains(#"LAMBDA_LLM_MODEL_NAME: "yes: #no""#))
        #expect(text.contains(#"FunctionName: "fn-1""#))
    }

    @Test("an image template builds from the Dockerfile and has no S3 policy")
    func imageTemplate() throws {
        let text = try template(source: .image).render()
        let all = lines(text)
        #expect(all.contains("      PackageType: Image"))
        #expect(all.contains("      Dockerfile: Dockerfile"))
        #expect(all.contains("      DockerContext: ."))
        #expect(!text.contains("Policies") && !text.contains("CodeUri"))
        #expect(text.contains("Transform: AWS::Serverless-2016-10-31"))
        #expect(all.contains("        InvokeMode: RESPONSE_STREAM"))
        #expect(all.contains("        AuthType: !Ref FunctionUrlAuthType"))
        #expect(all.contains("    Value: !GetAtt LambdaLLMFunctionUrl.FunctionUrl"))
        #expect(all.contains("          LAMBDA_LLM_INVOKE_MODE: \"RESPONSE_STREAM\""))
    }

    @Test("the Dockerfile starts from provided.al2023 for the architecture and copies only what package writes")
    func dockerfile() {
        let text = DockerfileText(architecture: .arm64, modelFileName: "m.gguf", contextLength: 2048).render()
        #expect(text.contains("FROM --platform=linux/arm64 public.ecr.aws/lambda/provided:al2023\n"))
        #expect(text.contains("COPY bootstrap ${LAMBDA_RUNTIME_DIR}/bootstrap\n"))
        #expect(text.contains("COPY model/m.gguf /opt/model/m.gguf\n"))
        #expect(text.contains("LAMBDA_LLM_MODEL=/opt/model/m.gguf"))
        #expect(text.contains("LAMBDA_LLM_INVOKE_MODE=RESPONSE_STREAM"))
        #expect(text.contains("LAMBDA_LLM_CONTEXT=2048"))
        #expect(DockerfileText.safeFileName("my model (v2).gguf") == "my_model__v2_.gguf")
        #expect(DockerfileText.safeFileName(".hidden") == "model.hidden")
        #expect(DockerfileText.safeFileName("modèle.gguf") == "mod_le.gguf")
    }
}
