import t from 'tap'
import { parseExposition, familyOf } from '../exposition.js'
import { lintScrape, lintUrl, formatLintReport } from '../lint.js'
import { createContractRegistry } from '../registry.js'
import { contractDocument } from '../contract.js'
import { build } from '../../../test/helpers/build.js'
import { fakeMetricsServer } from '../../../test/helpers/fake-metrics.js'

const fresh = async () => (await createContractRegistry([50, 100]).registry.metrics())

t.test('the exposition parser handles labels, escapes, special values and timestamps', async (t) => {
  const e = parseExposition([
    '# HELP a_total x', '# TYPE a_total counter',
    'a_total{engine="llama\\"cpp",path="C:\\\\x",msg="a\\nb"} 3 1700000000000',
    'ns:metric 1.5e3', 'h_bucket{le="+Inf"} +Inf', 'n NaN', 'broken{', 'b{x="1"} notanumber', 'c{x=1} 1', 'd{x="1"', '', '  ',
    'e{x="1" y="2"} 1', 'f{x="\\q"} 1', 'g 1 2 3', 'u{x="open',
  ].join('\n'))
  t.same(e.types.get('a_total'), 'counter')
  t.same(e.samples[0], { name: 'a_total', labels: { engine: 'llama"cpp', path: 'C:\\x', msg: 'a\nb' }, value: 3 })
  t.same(e.samples[1], { name: 'ns:metric', labels: {}, value: 1500 })
  t.equal(e.samples[2]!.value, Infinity)
  t.ok(Number.isNaN(e.samples[3]!.value))
  t.equal(e.errors.length, 8)
  t.match(e.errors[0], /^line 7: cannot parse "broken\{"$/)
  t.equal(familyOf('h_bucket', new Map([['h', 'histogram']])), 'h')
  t.equal(familyOf('x_total', new Map([['x', 'counter']])), 'x', 'OpenMetrics-style counter family')
  t.equal(familyOf('orphan_sum', new Map()), 'orphan_sum')
  t.same(parseExposition('m -Inf').samples[0]!.value, -Infinity)
})

t.test('a fresh registry passes; a scrape missing a metric fails', async (t) => {
  const ok = lintScrape(await fresh())
  t.ok(ok.ok)
  t.equal(ok.metrics_checked, 15)
  const without = (await fresh()).replace(/^# (HELP|TYPE) queue_depth .*$/gm, '')
  const r = lintScrape(without)
  t.notOk(r.ok)
  t.same(r.missing, ['queue_depth'])
  t.match(formatLintReport(r), ['missing: queue_depth has no # TYPE line', /FAILED \(1 problem\)/])
})

t.test('wrong type, extra label and missing label are each reported (scenario 30)', async (t) => {
  const text = (await fresh()).replace('# TYPE model_state gauge', '# TYPE model_state counter') + [
    'tasks_rejected_total{engine="llamacpp",engine_version="b1",reason="ADMISSION_REJECT"} 1',
    'queue_depth{engine="llamacpp",pool_id="p0",priority="batch"} 2',
    'queue_depth{engine="llamacpp",pool_id="p1",priority="batch"} 2',
  ].join('\n')
  const r = lintScrape(text)
  t.same(r.type_mismatch, [{ metric: 'model_state', expected: 'gauge', found: 'counter' }])
  t.same(r.label_mismatch, [
    { metric: 'tasks_rejected_total', expected: ['engine', 'reason'], found: ['engine', 'engine_version', 'reason'] },
    { metric: 'queue_depth', expected: ['engine', 'engine_version', 'pool_id', 'priority'], found: ['engine', 'pool_id', 'priority'] },
  ], 'one report per distinct label set')
  t.notOk(r.ok)
  t.match(formatLintReport(r).join('\n'), /type mismatch: model_state is a counter, the contract says gauge[\s\S]*label mismatch: tasks_rejected_total/)
})

t.test('a fifth engine value breaks the engine budget (scenario 31); unbudgeted labels are named', async (t) => {
  const { registry, metrics } = createContractRegistry([50])
  for (const engine of ['llamacpp', 'vllm', 'tgi', 'triton', 'mock']) metrics.tasks_rejected_total.inc({ engine, reason: 'INVALID_PARAMS' })
  const r = lintScrape(await registry.metrics())
  t.same(r.budget_violation, [{ label: 'engine', budget: 4, distinct: 5 }])
  const budgets = { ...contractDocument(), label_cardinality_budget: { ...contractDocument().label_cardinality_budget } }
  delete (budgets.label_cardinality_budget as Record<string, number>).device
  const u = lintScrape(`${await fresh()}\ngpu_utilization{engine="e",engine_version="v",pool_id="p",replica_id="r",device="0"} 50`, budgets)
  t.same(u.unbudgeted_label, [{ metric: 'gpu_utilization', label: 'device' }])
  t.match(formatLintReport(u).join('\n'), /unbudgeted label: device on gpu_utilization/)
})

t.test('metrics outside the contract are warnings; process_ and nodejs_ are allowed', async (t) => {
  const r = lintScrape(`${await fresh()}\n# TYPE my_extra gauge\nmy_extra 1\n# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total 1\n`)
  t.ok(r.ok)
  t.same(r.unknown_metric, ['my_extra'])
  t.match(formatLintReport(r), ['warning: my_extra is not in the contract', /OK/])
})

t.test('histograms must be cumulative with +Inf equal to _count (§5.3)', async (t) => {
  const labels = 'engine="e",engine_version="v",pool_id="p",priority="interactive"'
  const bad = `${await fresh()}
latency_decode_ms_bucket{le="50",${labels}} 3
latency_decode_ms_bucket{le="100",${labels}} 2
latency_decode_ms_bucket{le="+Inf",${labels}} 4
latency_decode_ms_sum{${labels}} 10
latency_decode_ms_count{${labels}} 5
latency_first_token_ms_bucket{le="50",${labels}} 1
latency_first_token_ms_count{${labels}} 1
`
  const r = lintScrape(bad)
  t.same(r.histogram_mismatch.map((h) => [h.metric, h.problem]), [
    ['latency_first_token_ms', 'no le="+Inf" bucket'],
    ['latency_decode_ms', 'bucket counts decrease as le grows (buckets must be cumulative)'],
    ['latency_decode_ms', 'le="+Inf" bucket (4) differs from _count (5)'],
  ])
  t.same(r.label_mismatch, [], 'le is not a label mismatch on _bucket samples')
  t.match(formatLintReport(lintScrape(`${await fresh()}\nbroken{`)).join('\n'), /parse error: line/)
  t.match(formatLintReport(lintScrape(await fresh(), { ...contractDocument(), label_cardinality_budget: { ...contractDocument().label_cardinality_budget, engine: 0 } })).join('\n'), /contract: budget of label engine/)
})

t.test('lintUrl scrapes a live server; non-200 is an error', async (t) => {
  const { app } = await build(t)
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  const r = await lintUrl(`${url}/metrics`)
  t.ok(r.ok)
  t.equal(r.scrape_url, `${url}/metrics`)
  t.match(formatLintReport(r).at(-1), `at ${url}/metrics`)
  const fake = await fakeMetricsServer(t, 'nope', 503)
  await t.rejects(lintUrl(fake), /answered 503/)
})

t.test('GET /metrics serves Prometheus text 0.0.4 with a correlation id', async (t) => {
  const { app } = await build(t)
  const res = await app.inject({ url: '/metrics' })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8')
  t.ok(res.headers['x-correlation-id'])
  t.ok(lintScrape(res.body).ok)
  t.equal(app.metrics.tasks_enqueued_total, app.metrics.tasks_enqueued_total)
  t.ok(app.metrics.registry)
})
