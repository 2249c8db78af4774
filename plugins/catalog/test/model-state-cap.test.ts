import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { build } from '../../../test/helpers/build.js'
import { lintUrl, formatLintReport } from '../../metrics/lint.js'
import { LABEL_BUDGETS } from '../../metrics/contract.js'
import { parseExposition } from '../../metrics/exposition.js'
import { MODEL_STATE_MAX_MODELS, reportedModels } from '../model-state.js'
import type { ModelEntry } from '../../../lib/catalog-store/entries.js'

const D = `sha256:${'a'.repeat(64)}`
const entry = (id: string, lifecycle: ModelEntry['lifecycle']): ModelEntry =>
  ({ id, local_path: null, lifecycle, digest: D, last_verified_ms: null, created_ms: 1, updated_ms: 1 })
const pad = (i: number) => `m-${String(i).padStart(4, '0')}`

t.test('issue 10 #4: the cap is the contract\'s model_id budget', async (t) => {
  t.equal(MODEL_STATE_MAX_MODELS, LABEL_BUDGETS.model_id)
  const picked = reportedModels([entry('c', 'Active'), entry('a', 'Retired'), entry('b', 'Active'), entry('d', 'Retired')], 3)
  t.same(picked.map((e) => e.id), ['b', 'c', 'a'], 'Active first, then by id')
})

t.test('issue 10 #4: 2,100 catalog models keep /metrics within the model_id budget and `metrics lint` passes', async (t) => {
  const root = t.testdir()
  // written directly: 2,100 POSTs would each rewrite the whole index
  const entries: Record<string, ModelEntry> = { 'a"b': entry('a"b', 'Active') }
  for (let i = 0; i < 2100; i++) entries[pad(i)] = entry(pad(i), i < 100 ? 'Retired' : 'Active')
  writeFileSync(join(root, 'index.json'), JSON.stringify({ schema_version: 1, entries }))
  const { app } = await build(t, { catalog: { root } })
  const url = await app.listen({ port: 0, host: '127.0.0.1' })

  const scrape = async () => {
    const body = await (await fetch(`${url}/metrics`)).text()
    const samples = parseExposition(body).samples.filter((s) => s.name === 'model_state')
    return { body, samples, ids: new Set(samples.map((s) => s.labels.model_id!)) }
  }
  const first = await scrape()
  t.equal(first.ids.size, LABEL_BUDGETS.model_id, 'series for exactly the budgeted number of models')
  t.equal(first.samples.length, 2 * LABEL_BUDGETS.model_id, 'one per model and state')
  t.ok(first.body.length < 2 * LABEL_BUDGETS.model_id * 64, `/metrics stays small (${first.body.length} bytes)`)
  t.ok(first.ids.has('a"b'), 'a quote in an id is escaped, and the scrape parses')
  t.match(first.body, 'model_state{model_id="a\\"b",state="Active"} 1')
  t.notOk(first.ids.has(pad(0)), 'Retired models come after Active ones')
  t.ok(first.ids.has(pad(1122)))
  t.notOk(first.ids.has(pad(1123)))

  const report = await lintUrl(`${url}/metrics`)
  t.ok(report.ok, formatLintReport(report).join('\n'))

  const res = await app.inject({ method: 'POST', url: '/v1/catalog/models', payload: { id: 'a-new', digest: D } })
  t.equal(res.statusCode, 201)
  const after = await scrape()
  t.equal(after.ids.size, LABEL_BUDGETS.model_id, 'a new model does not grow the scrape')
  t.ok(after.ids.has('a-new'), 'it takes its place by id')
  t.notOk(after.ids.has(pad(1122)), 'and the last one loses its series')
  t.ok((await lintUrl(`${url}/metrics`)).ok)
})
