import t from 'tap'
import { readFileSync } from 'node:fs'
import { CONTRACT_METRICS, LABEL_BUDGETS, contractDocument, contractProblems, readContract, CONTRACT_FILE } from '../contract.js'
import { createContractRegistry } from '../registry.js'
import { lintScrape } from '../lint.js'

t.test('specs/metrics.lint.json is exactly the contract the code registers (regenerate with npm run gen)', async (t) => {
  const onDisk = readFileSync(CONTRACT_FILE, 'utf8')
  t.equal(onDisk, `${JSON.stringify(contractDocument(), null, 2)}\n`)
  t.same(readContract(), contractDocument())
})

t.test('the contract holds the 15 required metrics of spec §5.1 with their exact labels', async (t) => {
  t.same(Object.keys(CONTRACT_METRICS).sort(), [
    'admission_backpressure_events_total', 'catalog_verifications_total', 'gpu_utilization', 'kv_cache_usage_ratio',
    'latency_decode_ms', 'latency_first_token_ms', 'model_state', 'queue_depth', 'tasks_canceled_total', 'tasks_enqueued_total',
    'tasks_rejected_total', 'tasks_started_total', 'tokens_in_total', 'tokens_out_total', 'vram_used_bytes'])
  t.same(CONTRACT_METRICS.tasks_rejected_total.labels, ['engine', 'reason'], 'normative exception: no engine_version')
  t.same(CONTRACT_METRICS.queue_depth.labels, ['engine', 'engine_version', 'pool_id', 'priority'])
  t.same(CONTRACT_METRICS.tasks_canceled_total.labels, ['engine', 'engine_version', 'pool_id', 'replica_id', 'reason'])
  t.same(CONTRACT_METRICS.gpu_utilization.labels, ['engine', 'engine_version', 'pool_id', 'replica_id', 'device'])
  t.same(CONTRACT_METRICS.model_state.labels, ['model_id', 'state'])
  t.same(LABEL_BUDGETS, {
    engine: 4,
    engine_version: 64,
    pool_id: 256,
    replica_id: 1024,
    priority: 8,
    reason: 16,
    result: 4,
    state: 8,
    model_id: 1024,
    device: 16,
    policy: 4,
  })
  t.same(contractProblems(contractDocument()), [])
})

t.test('static checks of a contract file catch duplicates, bad budgets, unbudgeted labels (§5.6 step 1)', async (t) => {
  const doc = contractDocument()
  const broken = {
    ...doc,
    required_metrics: [...doc.required_metrics, { ...doc.required_metrics[0]! }, { name: 'x', type: 'summary' as never, labels: ['color'], help: '' },
      { name: 'tasks_rejected_total', type: 'counter' as const, labels: ['engine', 'engine_version', 'reason'], help: '' }],
    label_cardinality_budget: { ...doc.label_cardinality_budget, policy: 0 },
  }
  t.same(contractProblems(broken), [
    'metric tasks_enqueued_total is listed twice',
    'metric x has unknown type summary',
    'label color of x has no cardinality budget',
    'metric tasks_rejected_total is listed twice',
    'budget of label policy must be a positive integer',
    'tasks_rejected_total must have exactly the labels engine and reason',
  ])
  t.same(contractProblems({} as never), ['the contract needs `required_metrics` (array) and `label_cardinality_budget` (object)'])
})

t.test('every metric is pre-registered with its type and labels and no sample (ORCH-3460, scenario 29)', async (t) => {
  const { registry } = createContractRegistry([50, 100, 200, 500, 1000, 5000, 10000])
  const text = await registry.metrics()
  for (const [name, def] of Object.entries(CONTRACT_METRICS)) t.match(text, new RegExp(`^# TYPE ${name} ${def.type}$`, 'm'), name)
  const samples = text.split('\n').filter((l) => l.length > 0 && !l.startsWith('#'))
  t.same(samples, [], 'no fabricated samples before traffic')
  t.ok(lintScrape(text).ok)
})

t.test('histograms use the configured ms buckets and stay cumulative (scenario 33)', async (t) => {
  const { registry, metrics } = createContractRegistry([50, 100, 200, 500, 1000, 5000, 10000])
  const labels = { engine: 'llamacpp', engine_version: 'b1', pool_id: 'p0', priority: 'interactive' }
  for (const v of [10, 75, 75, 300, 20000]) metrics.latency_first_token_ms.observe(labels, v)
  const text = await registry.metrics()
  const bucket = (le: string) => Number(new RegExp(`latency_first_token_ms_bucket\\{le="${le.replace('+', '\\+')}"[^}]*\\} (\\d+)`).exec(text)?.[1])
  t.same(['50', '100', '200', '500', '1000', '5000', '10000', '+Inf'].map(bucket), [1, 3, 3, 4, 4, 4, 4, 5])
  t.match(text, /latency_first_token_ms_count\{[^}]*\} 5/)
  t.ok(lintScrape(text).ok)
})
