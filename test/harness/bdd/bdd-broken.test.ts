/**
 * The BDD harness fails loudly on broken features (spec adapters-observability-testing.md §6.2
 * and §7 scenario 27, ORCH-3279): an undefined step and an ambiguous step are both reported with
 * the step text and the file, by the static check and by the strict run, and fail the run.
 */
import t from 'tap'
import { join } from 'node:path'
import { HARNESS_ROOT, featurePaths, loadSteps, runBdd } from './runner.js'

const fixture = (name: string): string[] => [join(HARNESS_ROOT, 'fixtures', name)]

t.test('the runner fails on an undefined step and an ambiguous one, naming step and file (ORCH-3279, scenario 27)', async (t) => {
  t.setTimeout(30_000)
  // one load per process (ES modules are cached): the steps plus a file that duplicates a pattern
  const support = await loadSteps(['fixtures/ambiguous-steps.ts'])

  const undef = await runBdd({ paths: fixture('undefined.feature'), support })
  t.equal(undef.success, false, 'an undefined step fails the run')
  t.same(undef.undefinedSteps, ["undefined step 'I frobnicate the orchestrator' in fixtures/undefined.feature"], 'the static check names it')
  t.same(undef.ambiguousSteps, [])
  t.match(undef.steps.find((s) => s.step === 'When I frobnicate the orchestrator'), { status: 'UNDEFINED', feature: 'fixtures/undefined.feature', line: 5 })
  t.match(undef.steps.find((s) => s.step === 'Then the response status is 200'), { status: 'SKIPPED' }, 'what follows is skipped, and a skip fails too')
  t.ok(undef.problems.some((p) => p.kind === 'skipped'), 'skipped steps are problems')
  t.match(undef.steps.find((s) => s.step === 'Given a server with no pools'), { status: 'PASSED' }, 'the defined steps ran')

  const amb = await runBdd({ paths: fixture('ambiguous.feature'), support })
  t.equal(amb.success, false, 'an ambiguous step fails the run')
  t.same(amb.ambiguousSteps, ["ambiguous step 'the readiness answer is in' in fixtures/ambiguous.feature (2 matches)"])
  t.same(amb.undefinedSteps, [])
  t.match(amb.steps.find((s) => s.step === 'And the readiness answer is in'), { status: 'AMBIGUOUS' })
  t.match(amb.steps.find((s) => s.step === 'When I GET "/readyz"'), { status: 'PASSED' }, 'the steps before it ran against a real server')
})

t.test('LLORCH_BDD_FEATURE_PATH picks a file or folder, relative to the harness root or absolute', async (t) => {
  t.same(featurePaths({}), [join(HARNESS_ROOT, 'features', '**/*.feature')])
  t.same(featurePaths({ LLORCH_BDD_FEATURE_PATH: 'fixtures/undefined.feature' }), [join(HARNESS_ROOT, 'fixtures', 'undefined.feature')])
  t.same(featurePaths({ LLORCH_BDD_FEATURE_PATH: join(HARNESS_ROOT, 'fixtures') }), [join(HARNESS_ROOT, 'fixtures', '**/*.feature')])
  t.throws(() => featurePaths({ LLORCH_BDD_FEATURE_PATH: 'nope/none.feature' }), /no such file or folder/)
})
