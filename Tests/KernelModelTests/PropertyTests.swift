import KernelModel
import ModelScenarios
import PropertyBased
import Testing

/// Random API sequences: codes decode to steps (RandomSteps), configs to an arch/kernel/wx mode.
let codes = Gen.int(in: 0...Int.max).array(of: 1...40)
let configCode = Gen.int(in: 0...47)

func runAll(_ calls: [APICall], _ config: ModelConfig) -> (ModelState, [[Violation]], [Violation]) {
    var s = ModelState(config: config)
    var perStep: [[Violation]] = []
    for c in calls { perStep.append(Executor.run(c, on: &s)) }
    let end = Executor.finish(&s)
    return (s, perStep, end)
}

func objectExists(_ o: ObjectRef, in s: ModelState) -> Bool {
    switch o.kind {
    case .area: return o.id >= 0 && o.id < s.areas.count
    case .chunk: return o.id >= 0 && o.id < s.chunks.count
    case .pages: return o.id >= 0 && o.id < s.pageSets.count
    case .page: return o.id >= 0 && o.id < s.pages.count
    case .call: return !o.name.isEmpty
    }
}

@Suite("Model properties")
struct PropertyTests {
    @Test("random sequences never crash the model and always finish")
    func neverCrashes() async {
        await propertyCheck(count: 300, input: codes, configCode) { codes, cc in
            let calls = codes.map { RandomSteps().step(UInt64($0)) }
            let (s, perStep, _) = runAll(calls, RandomSteps.config(cc))
            #expect(s.step == calls.count)
            #expect(perStep.count == calls.count)
        }
    }

    @Test("a sequence that never requests execute permission never reports INV-WX")
    func noExecNoWX() async {
        await propertyCheck(count: 300, input: codes, configCode) { codes, cc in
            let calls = codes.map { RandomSteps(allowExec: false).step(UInt64($0)) }
            let (_, perStep, end) = runAll(calls, RandomSteps.config(cc))
            let wx = (perStep.flatMap { $0 } + end).filter { $0.invariant == .wx }
            #expect(wx.isEmpty, "\(calls.map(\.description)) -> \(wx)")
        }
    }

    @Test("every violation names the step that raised it and an object that exists")
    func violationsNameStepAndObject() async {
        await propertyCheck(count: 300, input: codes, configCode) { codes, cc in
            let calls = codes.map { RandomSteps().step(UInt64($0)) }
            let (s, perStep, end) = runAll(calls, RandomSteps.config(cc))
            for (i, vs) in perStep.enumerated() {
                for v in vs {
                    #expect(v.stepIndex == i + 1, "\(v)")
                    #expect(objectExists(v.object, in: s), "\(v)")
                    #expect(!v.message.isEmpty && !v.rationale.isEmpty && !v.instead.isEmpty)
                }
            }
            for v in end {
                #expect(v.stepIndex == 0, "\(v)")
                #expect(objectExists(v.object, in: s), "\(v)")
            }
        }
    }

    @Test("forked states evolve independently")
    func forksAreIndependent() async {
        await propertyCheck(count: 200, input: codes, codes, configCode) { prefix, suffix, cc in
            let config = RandomSteps.config(cc)
            let gen = RandomSteps()
            let p = prefix.map { gen.step(UInt64($0)) }
            let a = suffix.map { gen.step(UInt64($0)) }
            let b = suffix.reversed().map { gen.step(UInt64($0) &* 31 &+ 7) }
            var base = ModelState(config: config)
            for c in p { _ = Executor.run(c, on: &base) }
            var left = base
            var right = base
            // Interleave the two suffixes so that a shared buffer would show.
            var leftV: [Violation] = [], rightV: [Violation] = []
            for i in 0..<max(a.count, b.count) {
                if i < a.count { leftV += Executor.run(a[i], on: &left) }
                if i < b.count { rightV += Executor.run(b[i], on: &right) }
            }
            leftV += Executor.finish(&left)
            rightV += Executor.finish(&right)
            // Each fork must equal a fresh, unforked run of prefix + its suffix.
            let (freshL, _, _) = runAll(p + a, config)
            let (freshR, _, _) = runAll(p + b, config)
            #expect(left.areas == freshL.areas && left.pages == freshL.pages && left.bindings == freshL.bindings)
            #expect(right.areas == freshR.areas && right.pages == freshR.pages && right.bindings == freshR.bindings)
            // And the base state is untouched by both.
            var again = ModelState(config: config)
            for c in p { _ = Executor.run(c, on: &again) }
            #expect(base.areas == again.areas && base.pages == again.pages && base.step == again.step)
        }
    }
}
