import XCTest
import Foundation
@testable import FaultlineCLI

/// What the trace, schema and HTML test classes share: the package root as the working
/// directory, the goldens, and a command run in process.
class CLITestCase: XCTestCase {
    let golden = "Tests/FaultlineCLITests/Golden"

    override func setUp() {
        FileManager.default.changeCurrentDirectoryPath(CLITests.root)
    }

    func run(_ args: [String]) -> (Int32, String, String) {
        let o = Output(streaming: false)
        let rc = CLI.run(args, output: o)
        return (rc, o.out, o.err)
    }
}
