import FaultlineBench
import FaultlineCLI
#if canImport(Glibc)
import Glibc
#endif

exit(Bench.run(Array(CommandLine.arguments.dropFirst()), output: Output(streaming: true)))
