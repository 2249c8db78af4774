import t from 'tap'
import { createContractRegistry } from '../../../plugins/metrics/registry.js'
import { analyseScrape, withRenamedLabel, without } from './analysis.js'
import { classifyPromtool, runPromtool } from './promtool.js'
import { summarise } from './run.js'
import type { WorkloadCounts } from './workload.js'

// A test of the harness itself (ORCH-3282): breaking one thing on purpose must turn its
// verdict false. The scrape is built on the contract registry, filled as traffic would fill it,
// so no app is needed; the analysis and the promtool classification are pure over text.

const WORKLOAD: WorkloadCounts = {
  native_streams: 1,
  native_202_streams: 0,
  openai_completions: 0,
  openai_chats: 0,
  cancels: 1,
  rejected_429: 1,
  rejected_400: 1,
  engine_errors: 0,
  catalog_verifications: 1,
  unexpected: [],
}

async function trafficScrape (): Promise<string> {
  const { registry, metrics: m } = createContractRegistry([50, 100])
  for (const [engine, v] of [['llamacpp', 'b1'], ['vllm', '0.10']] as const) {
    const task = { engine, engine_version: v, pool_id: `p-${engine}`, replica_id: 'r0' }
    for (const priority of ['interactive', 'batch']) {
      m.tasks_enqueued_total.inc({ ...task, priority })
      m.tasks_started_total.inc({ ...task, priority })
      m.latency_first_token_ms.observe({ engine, engine_version: v, pool_id: task.pool_id, priority }, 12)
      m.latency_decode_ms.observe({ engine, engine_version: v, pool_id: task.pool_id, priority }, 30)
      m.queue_depth.set({ engine, engine_version: v, pool_id: task.pool_id, priority }, 0)
    }
    m.tokens_in_total.inc(task, 4)
    m.tokens_out_total.inc(task, 5)
    m.kv_cache_usage_ratio.set(task, 0.25)
    m.tasks_canceled_total.inc({ ...task, reason: 'client' })
  }
  m.tasks_rejected_total.inc({ engine: 'llamacpp', reason: 'ADMISSION_REJECT' })
  m.tasks_rejected_total.inc({ engine: 'llamacpp', reason: 'INVALID_PARAMS' })
  m.admission_backpressure_events_total.inc({ engine: 'llamacpp', policy: 'reject' })
  m.catalog_verifications_total.inc({ result: 'pass', reason: 'digest_match', engine: 'llamacpp' })
  m.model_state.set({ model_id: 'file:/m/tiny.gguf', state: 'Active' }, 1)
  return registry.metrics()
}

const promtoolOn = (scrape: string) => classifyPromtool(runPromtool(scrape))
const HAVE_PROMTOOL = runPromtool('').available

t.test('ORCH-3282 harness: the unbroken traffic scrape passes, so each failure below is the breakage', async (t) => {
  const a = analyseScrape(await trafficScrape(), WORKLOAD)
  t.ok(a.lint_ok)
  t.ok(a.counters_moved, a.movement.filter((m) => !m.ok).map((m) => m.check).join(', '))
  t.ok(a.probes_ok)
  t.same(a.value_set_warnings, [])
})

t.test('OC-METRICS-7101 harness: a contract metric missing makes lint_ok false in the report', async (t) => {
  const a = analyseScrape(without(await trafficScrape(), 'queue_depth'), WORKLOAD)
  t.same(a.lint.missing, ['queue_depth'])
  t.equal(a.lint_ok, false)
  t.equal(a.probes_ok, false, 'a scrape that fails unbroken proves nothing by failing broken')
  const s = summarise(a, classifyPromtool({ available: true, rc: 0, output: '' }), WORKLOAD, 1)
  t.match(s, { lint_ok: false, promtool_ok: true })
})

t.test('OC-METRICS-7101 harness: a renamed label makes lint_ok false', async (t) => {
  const a = analyseScrape(withRenamedLabel(await trafficScrape(), 'tasks_enqueued_total', 'replica_id', 'replica'), WORKLOAD)
  t.equal(a.lint_ok, false)
  t.match(a.lint.label_mismatch, [{ metric: 'tasks_enqueued_total', found: ['engine', 'engine_version', 'pool_id', 'priority', 'replica'] }])
})

t.test('ORCH-3282 harness: a scrape the traffic did not move is caught even though it lints', async (t) => {
  const a = analyseScrape(await createContractRegistry([50]).registry.metrics(), WORKLOAD)
  t.ok(a.lint_ok, 'an empty registry lints: that is why movement is checked')
  t.equal(a.counters_moved, false)
  t.ok(a.movement.find((m) => m.check === 'tokens_out_total' && !m.ok))
})

t.test('OC-METRICS-7102 harness: values outside the §5.1 sets are reported', async (t) => {
  const text = (await trafficScrape()).replace('policy="reject"', 'policy="rate-limit"')
  t.same(analyseScrape(text, WORKLOAD).value_set_warnings,
    ['admission_backpressure_events_total{policy="rate-limit"} is outside the §5.1 set {reject,drop-lru,shed-low-priority}'])
})

t.test('promtool classification (texts as promtool 2.42 prints them)', async (t) => {
  const parseError = 'error while linting: text format parsing error in line 1: unexpected end of label value "b"\n'
  const parse = classifyPromtool({ available: true, rc: 1, output: parseError })
  t.equal(parse.promtool_ok, false)
  t.same(parse.warnings, [])
  t.match(parse.errors, [/text format parsing error/])
  const ms = classifyPromtool({ available: true, rc: 3, output: 'latency_decode_ms metric names should not contain abbreviated units\n' })
  t.match(ms, { promtool_ok: true, errors: [], warnings: [{ metric: 'latency_decode_ms', text: 'metric names should not contain abbreviated units' }] })
  t.equal(classifyPromtool({ available: true, rc: 3, output: '' }).promtool_ok, false, 'lint exit without findings is not trusted')
  t.equal(classifyPromtool({ available: true, rc: 2, output: 'foo no help text\n' }).promtool_ok, false, 'an unknown exit status fails')
  t.match(classifyPromtool({ available: false, rc: null, output: '' }), { promtool_ok: null, message: /not installed/ })
  const s = summarise(analyseScrape(await trafficScrape(), WORKLOAD), parse, WORKLOAD, 1)
  t.match(s, { lint_ok: true, promtool_ok: false, promtool_warnings: 0 })
})

t.test('promtool itself on broken expositions', { skip: !HAVE_PROMTOOL && process.env.REQUIRE_PROMTOOL !== '1' && 'promtool not installed' }, async (t) => {
  t.ok(HAVE_PROMTOOL, 'REQUIRE_PROMTOOL=1 needs promtool on the PATH (or $PROMTOOL)')
  const scrape = await trafficScrape()
  const clean = promtoolOn(scrape)
  t.equal(clean.promtool_ok, true, 'the contract scrape: exposition OK')
  t.same(clean.warnings.map((w) => w.metric).sort(), ['latency_decode_ms', 'latency_first_token_ms'], 'only the _ms unit warnings')
  t.equal(promtoolOn(`${scrape}foo{a="b" 1\n`).promtool_ok, false, 'an unterminated label set')
  t.equal(promtoolOn(`${scrape}# TYPE queue_depth gauge\n`).promtool_ok, false, 'a second TYPE line')
  const counter = promtoolOn('# HELP foo x\n# TYPE foo counter\nfoo 1\n')
  t.match(counter, { promtool_ok: true, warnings: [{ metric: 'foo', text: 'counter metrics should have "_total" suffix' }] })
})
