import Foundation
import KernelModel
import ModelScenarios

// kpolicy-bench: throughput of the reference model on random API sequences.
// Build and run in release mode:
//   swift build -c release --product kpolicy-bench && .build/release/kpolicy-bench
// Speed goals (docs/model.md): >= 1M API steps/s on one core; >= 100k state forks/s.

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

let args = CommandLine.arguments
let totalSteps = args.count > 1 ? Int(args[1]) ?? 3_000_000 : 3_000_000
let noExec = args.count > 2 && args[2] == "noexec"
let pathLength = 24

// 1. Steps: random paths of `pathLength` steps, each on a fresh state (as a
//    checker runs one path), cycling through every arch and kernel.
var rng = SplitMix64(seed: 0x6b706f6c)
let gen = RandomSteps(allowExec: !noExec)
let pool = (0..<4096).map { _ in gen.step(rng.next()) }
let configs = (0..<12).map { RandomSteps.config($0) }
var fresh = configs.map { ModelState(config: $0) }
var steps = 0, violations = 0
let t0 = now()
var path = 0
while steps < totalSteps {
    var s = fresh[path % fresh.count]
    for _ in 0..<pathLength {
        violations &+= Executor.run(pool[Int(rng.next() % UInt64(pool.count))], on: &s).count
    }
    violations &+= Executor.finish(&s).count
    steps += pathLength
    path += 1
}
let t1 = now()
let stepsPerSec = Double(steps) / (t1 - t0)

// 2. Forks: a state with a few live areas is copied and the copy takes one
//    step (a checker forks at a branch and runs one side).
var base = ModelState(config: ModelConfig(arch: .x86_64, generation: .v6_12))
for c in [APICall.execmemAlloc(.moduleText, size: 16384, bind: "a"), .vmalloc(.vmalloc, size: 8192, bind: "b"),
          .execmemAlloc(.moduleData, size: 8192, bind: "c"), .write(.sym("a"), length: 16384)] {
    _ = Executor.run(c, on: &base)
}
let forkCount = 1_000_000
let branch: [APICall] = [.setMemory(.rox, .sym("a"), pages: 4, checked: true), .free(.vfree, .sym("b")),
                         .write(.sym("c"), length: 64), .setMemory(.ro, .sym("c"), pages: 1, checked: true)]
var sink = 0
let t2 = now()
for i in 0..<forkCount {
    var fork = base
    sink &+= Executor.run(branch[i & 3], on: &fork).count &+ fork.step
}
let t3 = now()
let forksPerSec = Double(forkCount) / (t3 - t2)

// 3. Plain copies (no step): the cost of the fork itself.
let t4 = now()
var copies: [ModelState] = []
copies.reserveCapacity(1024)
for i in 0..<forkCount {
    if copies.count == 1024 { copies.removeAll(keepingCapacity: true) }
    var c = base
    if i & 1 == 0 { c.context.exec = .irq }
    copies.append(c)
}
let t5 = now()

print(String(format: "steps:  %d API steps in %.3f s = %.0f steps/s (%d violations, paths of %d)", steps, t1 - t0, stepsPerSec, violations, pathLength))
print(String(format: "forks:  %d fork+step in %.3f s = %.0f forks/s (checksum %d)", forkCount, t3 - t2, forksPerSec, sink))
print(String(format: "copies: %d state copies in %.3f s = %.0f copies/s", forkCount, t5 - t4, Double(forkCount) / (t5 - t4)))

// 4. Real-code paths: the corpus scenarios replayed on every arch/kernel they
//    name (mostly valid code, few violations), as a checker's paths would be.
let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Corpus/model")
let files = ((try? FileManager.default.contentsOfDirectory(atPath: corpus.path)) ?? []).filter { $0.hasSuffix(".yaml") }.sorted()
var runs: [(ModelState, [APICall])] = []
for f in files {
    guard let sc = try? ScenarioLoader.load(path: corpus.appendingPathComponent(f).path) else { continue }
    for c in ScenarioRunner.configs(sc) { runs.append((ModelState(config: c), sc.steps.map(\.call))) }
}
if !runs.isEmpty {
    var realSteps = 0, realViolations = 0
    let t6 = now()
    while realSteps < totalSteps / 2 {
        for (start, calls) in runs {
            var s = start
            for c in calls { realViolations &+= Executor.run(c, on: &s).count }
            realViolations &+= Executor.finish(&s).count
            realSteps += calls.count
        }
    }
    let t7 = now()
    print(String(format: "corpus: %d API steps of %d real-code runs in %.3f s = %.0f steps/s (%d violations)", realSteps, runs.count, t7 - t6, Double(realSteps) / (t7 - t6), realViolations))
}
