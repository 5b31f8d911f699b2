import XCTest
import Foundation
@testable import FaultlineCLI

/// What every CLI test class shares: the package root as the working directory, the goldens, a
/// fresh temporary directory per test, and a command run in process (`Subprocess` runs the binary).
class CLITestCase: XCTestCase {
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()
    let golden = "Tests/FaultlineCLITests/Golden"
    /// This test's own directory for the files it writes (removed after it).
    var dir = ""

    override func setUpWithError() throws {
        _ = FileManager.default.changeCurrentDirectoryPath(CLITestCase.root)
        dir = NSTemporaryDirectory() + "faultline-\(getpid())-\(name.filter { $0.isLetter })"
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    /// Writes `text` to `name` under `dir` (making its directories): the path.
    @discardableResult
    func write(_ name: String, _ text: String) -> String {
        let path = dir + "/" + name
        try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        return path
    }

    /// In process: exit code, stdout, stderr.
    func run(_ args: [String]) -> (Int32, String, String) {
        let o = Output(streaming: false)
        let rc = CLI.run(args, output: o)
        return (rc, o.out, o.err)
    }
}

/// The built binary as a child process, for what an in-process run cannot show: signals, exit
/// statuses, peak memory, a closed stdout, a terminal on stderr.
enum Subprocess {
    /// The release binary when `make test` built it, else the debug one.
    static var binary: String {
        let release = CLITestCase.root + "/.build/release/faultline"
        return FileManager.default.isExecutableFile(atPath: release) ? release : CLITestCase.root + "/.build/debug/faultline"
    }

    struct Exit { var status: Int32; var seconds: Double; var peakKB: Int; var out: String; var err: String }

    /// Runs the binary with stdout and stderr in files under `dir` (or on the paths given: then
    /// they are not read back); `signal` is sent after `after` seconds. Peak RSS from wait4.
    static func run(_ args: [String], in dir: String, signal sig: Int32 = 0, after: Double = 0, stdout: String? = nil, stderr: String? = nil,
                    ignorePipe: Bool = false) -> Exit {
        let outPath = stdout ?? dir + "/out-\(UUID().uuidString)", errPath = stderr ?? dir + "/err-\(UUID().uuidString)"
        if stderr == nil { _ = FileManager.default.createFile(atPath: errPath, contents: nil) }
        if stdout == nil { _ = FileManager.default.createFile(atPath: outPath, contents: nil) }
        var actions: posix_spawn_file_actions_t = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_RDWR | O_NOCTTY, 0)
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        var sigs = sigset_t()
        sigemptyset(&sigs)
        if ignorePipe { signal(SIGPIPE, SIG_IGN) } else { sigaddset(&sigs, SIGPIPE); sigaddset(&sigs, SIGINT); sigaddset(&sigs, SIGTERM) }
        posix_spawnattr_setsigdefault(&attr, &sigs)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGDEF))
        let argv = ([binary] + args).map { strdup($0) } + [nil]
        var pid: pid_t = 0
        let t0 = Date()
        let rc = posix_spawn(&pid, binary, &actions, &attr, argv, environ)
        precondition(rc == 0, "spawn failed")
        if sig != 0 { Thread.sleep(forTimeInterval: after); kill(pid, sig) }
        var status: Int32 = 0
        var usage = rusage()
        wait4(pid, &status, 0, &usage)
        let seconds = Date().timeIntervalSince(t0)
        for p in argv { free(p) }
        posix_spawn_file_actions_destroy(&actions)
        posix_spawnattr_destroy(&attr)
        let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        let read = { (p: String) in (try? String(contentsOfFile: p, encoding: .utf8)) ?? "" }
        return Exit(status: code, seconds: seconds, peakKB: Int(usage.ru_maxrss), out: stdout == nil ? read(outPath) : "",
                    err: stderr == nil ? read(errPath) : "")
    }

    /// Runs the binary with stderr on a pseudo-terminal `columns` wide: the exit, and what the
    /// terminal received.
    static func onTerminal(columns: Int, _ args: [String], in dir: String) -> (Exit, String) {
        // posix_openpt/unlockpt/ptsname by hand (Glibc does not export them to Swift): Linux's
        // TIOCSPTLCK and TIOCGPTN.
        let master = open("/dev/ptmx", O_RDWR | O_NOCTTY)
        var unlock: Int32 = 0, number: UInt32 = 0
        precondition(master >= 0 && ioctl(master, 0x4004_5431, &unlock) == 0 && ioctl(master, 0x8004_5430, &number) == 0, "no pseudo-terminal")
        defer { close(master) }
        let slave = "/dev/pts/\(number)"
        var size = winsize(ws_row: 24, ws_col: UInt16(columns), ws_xpixel: 0, ws_ypixel: 0)
        _ = ioctl(master, UInt(TIOCSWINSZ), &size)
        // Held open here too, so the terminal is not hung up when the child exits; the child's
        // output (a few progress lines) fits in the terminal's buffer, read once it is done.
        let held = open(slave, O_RDWR | O_NOCTTY)
        defer { close(held) }
        let e = run(args, in: dir, stderr: slave)
        _ = fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK)
        var bytes: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(master, &buf, buf.count)
            if n <= 0 { break }
            bytes += buf[0..<n]
        }
        return (e, String(decoding: bytes, as: UTF8.self))
    }
}
