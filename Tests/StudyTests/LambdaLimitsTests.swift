import LambdaLimits
import Testing

@Suite struct LambdaLimitsTests {
    let limits = LambdaLimits.current

    @Test("memory settings run from 128 to 10,240 MB in 1 MB steps")
    func memoryRange() {
        #expect(!limits.isValidMemory(127))
        #expect(limits.isValidMemory(128))
        #expect(limits.isValidMemory(1_000))
        #expect(limits.isValidMemory(10_240))
        #expect(!limits.isValidMemory(10_241))
        #expect(!limits.isValidMemory(-1))
    }

    @Test("/tmp settings run from 512 to 10,240 MB, 512 of them free")
    func ephemeralStorageRange() {
        #expect(!limits.isValidEphemeralStorage(511))
        #expect(limits.isValidEphemeralStorage(512))
        #expect(limits.isValidEphemeralStorage(10_240))
        #expect(!limits.isValidEphemeralStorage(10_241))
        #expect(limits.freeEphemeralStorageMB == 512)
    }

    @Test("1,769 MB buys one vCPU of credits, 3,538 two, and the share is fractional below")
    func vcpuShare() {
        #expect(limits.vcpuShare(memoryMB: 1_769) == 1.0)
        #expect(limits.vcpuShare(memoryMB: 3_538) == 2.0)
        #expect(abs(limits.vcpuShare(memoryMB: 128) - 128.0 / 1_769.0) < 1e-12)
        // The documented ratio stops short of the advertised 6 at the largest setting.
        #expect(abs(limits.vcpuShare(memoryMB: 10_240) - 5.788581119276428) < 1e-12)
    }

    @Test("the vCPU share never exceeds 6, even if memory grew past 10,240 MB")
    func vcpuShareCapped() {
        var bigger = limits
        bigger.maxMemoryMB = 20_000
        #expect(bigger.vcpuShare(memoryMB: 20_000) == 6)
        #expect(bigger.vcpuShare(memoryMB: 10_614) == 6)
        #expect(bigger.vcpuShare(memoryMB: 10_613) < 6)
    }

    @Test("visible cores step up at the measured band edges", arguments: [
        (128, 2), (3_008, 2), (3_009, 3), (5_307, 3), (5_308, 4), (7_076, 4),
        (7_077, 5), (8_845, 5), (8_846, 6), (10_240, 6),
    ])
    func visibleCores(memoryMB: Int, cores: Int) {
        #expect(limits.visibleCores(memoryMB: memoryMB) == cores)
    }

    @Test("memory outside Lambda's range clamps to the nearest core band")
    func visibleCoresClamp() {
        #expect(limits.visibleCores(memoryMB: 64) == 2)
        #expect(limits.visibleCores(memoryMB: 50_000) == 6)
    }

    @Test("arm64 costs about 20% less per GB-second than x86_64, and a request costs $0.20 per million")
    func prices() {
        #expect(limits.pricePerGBSecond(.x86_64) == 0.0000166667)
        #expect(limits.pricePerGBSecond(.arm64) == 0.0000133334)
        #expect(LambdaArchitecture.arm64.pricePerGBSecond() == 0.0000133334)
        #expect(abs(limits.pricePerGBSecond(.arm64) / limits.pricePerGBSecond(.x86_64) - 0.8) < 1e-5)
        #expect(abs(limits.pricePerRequest - 0.000_000_2) < 1e-18)
    }

    @Test("sizes are in mebibytes: zip 250 MB unzipped, image 10 GiB, payload 6 MB, stream 200 MB")
    func packageAndPayloadSizes() {
        #expect(LambdaLimits.bytesPerMB == 1_048_576)
        #expect(limits.zipUploadBytes == 52_428_800)
        #expect(limits.zipUnzippedBytes == 262_144_000)
        #expect(limits.containerImageBytes == 10_737_418_240)
        #expect(limits.payloadBytes == 6_291_456)
        #expect(limits.streamedResponseBytes == 209_715_200)
        #expect(limits.maxLayers == 5)
    }

    @Test("time limits: 900 s per invocation, 10 s of init; 1,024 descriptors and threads")
    func timeAndProcessLimits() {
        #expect(limits.timeoutSeconds == 900)
        #expect(limits.initPhaseSeconds == 10)
        #expect(limits.fileDescriptors == 1_024)
        #expect(limits.processesAndThreads == 1_024)
        #expect(limits.mbPerVCPU == 1_769)
        #expect(limits.maxVCPUs == 6)
    }
}
