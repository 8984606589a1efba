/**
 * V8 flags the language server wants from the start: they cannot be set once it runs
 * (`v8.setFlagsFromString` changes no heap already configured). The VS Code client starts
 * the server with them (`execArgv`); `iommu-lens-server --node-flags` prints them, for other
 * editors' configurations and for the benchmarks, which start the server as VS Code does.
 *
 * `--max-semi-space-size=32`: a young generation of 32 MiB per semi-space, not 16. Loading a
 * workspace allocates its parses and models as fast as it can, and most of that lives on, so
 * with 16 MiB the scavenger ran every few milliseconds, copying the survivors each time. At
 * 200k lines: first diagnostics 4.1 to 4.7 s against 4.2 to 6.2 s, peak 408 to 441 MiB against
 * 408 to 456 (three runs each, alternated; bench/RESULTS.md). Node's documentation: "Increasing
 * the max size of a semi-space may improve throughput for Node.js at the cost of more memory
 * consumption" (doc/api/cli.md, `--max-semi-space-size`). 64 was faster still but peaked at
 * 470 MiB, too near the 500 MB the server is held to.
 */
export const SERVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=32'];
