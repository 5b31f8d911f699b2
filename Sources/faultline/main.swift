import FaultlineCLI
#if canImport(Glibc)
import Glibc
#endif

exit(CLI.run(Array(CommandLine.arguments.dropFirst()), output: Output(streaming: true)))
