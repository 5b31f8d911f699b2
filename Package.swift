// swift-tools-version:6.0
// Faultline: a deterministic concurrency race explorer for the Linux kernel's page-fault paths.
// No package dependencies: the toolchain's Foundation, Dispatch, XCTest and Swift Testing only.
import PackageDescription

// The interpreter and the search loops are the hot path: in release builds, dynamic exclusivity
// checks (swift_beginAccess, ~7% of instructions on a dpor run under callgrind) are turned off there.
let hotPath: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

let package = Package(
    name: "Faultline",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "faultline", targets: ["faultline"]),
    ],
    targets: [
        // Layers, dependencies pointing one way: Language → Machine → Check → Explore → Report → CLI.
        .target(name: "FaultlineLanguage"),
        .target(name: "FaultlineMachine", dependencies: ["FaultlineLanguage"], swiftSettings: hotPath),
        .target(name: "FaultlineCheck", dependencies: ["FaultlineLanguage", "FaultlineMachine"]),
        .target(name: "FaultlineExplore", dependencies: ["FaultlineLanguage", "FaultlineMachine", "FaultlineCheck"], swiftSettings: hotPath),
        .target(name: "FaultlineReport", dependencies: ["FaultlineLanguage", "FaultlineMachine", "FaultlineCheck", "FaultlineExplore"]),
        .target(name: "FaultlineCLI", dependencies: ["FaultlineLanguage", "FaultlineMachine", "FaultlineCheck", "FaultlineExplore", "FaultlineReport"]),
        .executableTarget(name: "faultline", dependencies: ["FaultlineCLI"]),
        // Measurements, outside the shipped binary: `faultline-bench` (make bench). AllocationCounter
        // (C) replaces malloc & co in the binaries that link it, to count a thread's allocations.
        .target(name: "AllocationCounter"),
        .target(name: "FaultlineBench", dependencies: ["FaultlineLanguage", "FaultlineMachine", "FaultlineCheck", "FaultlineExplore", "FaultlineCLI", "AllocationCounter"], swiftSettings: hotPath),
        .executableTarget(name: "faultline-bench", dependencies: ["FaultlineBench", "FaultlineCLI"]),
        .testTarget(name: "FaultlineLanguageTests", dependencies: ["FaultlineLanguage"]),
        .testTarget(name: "FaultlineMachineTests", dependencies: ["FaultlineLanguage", "FaultlineMachine"]),
        .testTarget(name: "FaultlineExploreTests", dependencies: ["FaultlineLanguage", "FaultlineMachine", "FaultlineCheck", "FaultlineExplore"]),
        .testTarget(name: "FaultlineCLITests", dependencies: ["FaultlineCLI"], exclude: ["Golden"]),
        .testTarget(name: "FaultlineBenchTests", dependencies: ["FaultlineBench", "FaultlineCLI"]),
    ],
    swiftLanguageModes: [.v6]
)
