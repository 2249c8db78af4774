/**
 * The BDD harness (spec adapters-observability-testing.md §6.2, ORCH-3279, ORCH-3202): the
 * spec's cross-plugin Given/When/Then scenarios in features/*.feature, run by cucumber in strict
 * mode against a real server per scenario over HTTP, with a static step check first. Any step
 * that is not passed fails this test, naming the step and its file. Evidence goes to the `bdd`
 * proof bundle (§6.7).
 */
import t from 'tap'
import { openSuite } from '../bundle.js'
import { evidence, resetEvidence } from './evidence.js'
import { featurePaths, loadSteps, runBdd, type BddReport } from './runner.js'

const slug = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 80)

function story (report: BddReport, scenario: { feature: string, name: string, tags: string[], status: string }): string {
  const lines = [`Feature file: ${scenario.feature}`, `Scenario: ${scenario.name}`, `Tags: ${scenario.tags.join(' ')}`, `Status: ${scenario.status}`, '']
  for (const s of report.steps.filter((x) => x.feature === scenario.feature && x.scenario === scenario.name)) {
    lines.push(`  [${s.status.padEnd(9)}] ${s.step}${s.line ? `  (line ${s.line})` : ''}  ${s.duration_ms.toFixed(1)} ms`)
    if (s.message) lines.push(...s.message.split('\n').slice(0, 6).map((l) => `      ${l}`))
  }
  return lines.join('\n') + '\n'
}

t.test('BDD features pass in strict mode: every step defined once and passed (ORCH-3279, ORCH-3202)', async (t) => {
  t.setTimeout(120_000)
  resetEvidence()
  const support = await loadSteps()
  const report = await runBdd({ paths: featurePaths(), support })
  const bundle = await openSuite('bdd')

  await bundle.writeLines('results.ndjson', report.steps)
  const used = new Map<string, number>()
  for (const sc of report.scenarios) {
    const base = slug(sc.name)
    const n = (used.get(base) ?? 0) + 1
    used.set(base, n)
    const name = n === 1 ? base : `${base}-${n}`
    await bundle.write(`story/${name}.txt`, story(report, sc))
    const sse = evidence.sse.get(sc.name)
    if (sse && n === 1) await bundle.write(`sse/${name}.sse`, sse.join('\n'))
  }
  if (evidence.metricsSample !== null) await bundle.write('metrics_sample.prom', evidence.metricsSample)
  await bundle.write('step_registry_report.json', {
    patterns: report.registry,
    unused: report.registry.filter((r) => r.uses === 0).map((r) => `${r.pattern} (${r.file}:${r.line})`),
  })
  await bundle.narration(evidence.narration)
  const stepRows = report.steps.filter((s) => !s.step.endsWith(' hook'))
  const failedScenarios = report.scenarios.filter((s) => s.status !== 'PASSED')
  await bundle.finish({
    scenarios: report.scenarios.length,
    passed: report.scenarios.length - failedScenarios.length,
    failed: failedScenarios.length,
    undefined_steps: report.undefinedSteps.length,
    ambiguous_steps: report.ambiguousSteps.length,
    steps: stepRows.length,
    features: report.features.length,
    duration_ms: report.duration_ms,
  }, { env: { LLORCH_BDD_FEATURE_PATH: process.env.LLORCH_BDD_FEATURE_PATH } })

  for (const p of report.problems) t.comment(p.text)
  t.same(report.problems.map((p) => p.text), [], 'no undefined, ambiguous, failed, pending or skipped step')
  t.ok(report.success, 'cucumber itself reports success (strict)')
  const counts = `${report.scenarios.length} in ${report.features.length} feature files, ${stepRows.length} steps, ${report.duration_ms} ms`
  t.ok(report.scenarios.length > 0, `scenarios ran (${counts})`)
  t.ok(stepRows.length > 0 && stepRows.every((s) => s.status === 'PASSED'), 'every step passed')
  t.ok(evidence.metricsSample === null || evidence.metricsSample.includes('# TYPE'), 'the metrics sample is a scrape')
})
