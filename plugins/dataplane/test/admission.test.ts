import t from 'tap'
import { f0, poolF0 } from '../../../test/fixtures/dataplane.js'

const depth = (h: Awaited<ReturnType<typeof f0>>): number => h.app.dataplane.inspect().queue('pool0')!.len()

t.test('D18–D20, invalid bodies: 400 INVALID_PARAMS naming the field, nothing enqueued', async (t) => {
  const h = await f0(t)
  h.mock.hold()
  await h.post(h.task()) // the blocker holds pool0's only slot
  const before = depth(h)
  const enqueued = await h.metric(/^tasks_enqueued_total\{/)
  // issue 11 item 4: model_ref is the one field a body cannot leave out (the others have defaults)
  const { model_ref: _omit, ...noModel } = h.task()
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['missing field', noModel, /\/model_ref is required/],
    ['wrong type', h.task({ max_tokens: 'many' }), /\/max_tokens/],
    ['ctx -1 (D18)', h.task({ ctx: -1 }), /\/ctx must be >= 0/],
    ['max_tokens 0 (D19)', h.task({ max_tokens: 0 }), /\/max_tokens must be >= 1/],
    ['non-UUID task_id (D19)', h.task({ task_id: 'not-a-uuid' }), /\/task_id must match format "uuid"/],
    ['non-UUID session_id', h.task({ session_id: 's-0' }), /\/session_id/],
    ['unknown engine (decision 7)', h.task({ engine: 'nope' }), /\/engine "nope" is not served here; registered engines: llamacpp/],
    ['ctx over the pool limit', h.task({ ctx: 40000 }), /\/ctx 40000 is over the largest ctx_max \(32768\)/],
    ['prompt + max_tokens over ctx', h.task({ ctx: 8, max_tokens: 4, prompt: 'x'.repeat(40) }), /\/max_tokens 4 plus ~10 prompt tokens exceed ctx 8/],
    ['max_tokens over ctx_max', h.task({ max_tokens: 40000 }), /exceed ctx_max 32768/],
    ['unsafe int64 seed (D13)', h.task({ seed: 2 ** 63 }), /\/seed must be <=/],
    ['embedding without inputs', h.task({ workload: 'embedding' }), /\/inputs is required/],
    ['bad enum', h.task({ priority: 'urgent' }), /\/priority/],
  ]
  for (const [label, body, message] of cases) {
    const res = await h.post(body)
    t.equal(res.status, 400, label)
    t.equal(res.json.code, 'INVALID_PARAMS', label)
    t.match(res.json.message, message, label)
    t.equal(res.json.retriable, false)
    t.ok(res.headers['x-correlation-id'], 'correlation id present')
    if (label !== 'unknown engine (decision 7)' && body.engine) t.equal(res.json.engine, body.engine, `${label}: engine present (D18)`)
  }
  const malformed = await h.call('POST', '/v1/tasks', {}, '{"task_id":')
  t.equal(malformed.status, 400)
  t.equal(malformed.json.code, 'INVALID_PARAMS', 'malformed JSON is INVALID_PARAMS too')
  t.equal(depth(h), before, 'queue_depth unchanged')
  t.equal(await h.metric(/^tasks_enqueued_total\{/), enqueued, 'nothing enqueued')
  t.equal(await h.metric(/^queue_depth\{.*priority="interactive"/), 0)
  const unknownField = await h.post({ ...h.task(), surprise: true })
  t.equal(unknownField.status, 400, 'issue 10 #7: an unknown field is refused, not dropped')
  t.match(unknownField.json.message, /body\/surprise is not a field of this request/)
  h.mock.release()
})

t.test('D20, D21, D22: deadline, no pool, pool not ready', async (t) => {
  const h = await f0(t, { pools: [poolF0(), poolF0('pool1', { model: 'model1' })] })
  const zero = await h.post(h.task({ deadline_ms: 0 }))
  t.equal(zero.status, 400)
  t.equal(zero.json.code, 'DEADLINE_UNMET')
  const none = await h.post(h.task({ model_ref: 'model9' }))
  t.equal(none.status, 400, 'issue 10 #10: a model no configured pool serves can never be served: 400, not 503')
  t.match(none.json, { code: 'INVALID_PARAMS', engine: 'llamacpp', retriable: false })
  t.match(none.json.message, /\/model_ref: no pool serves model model9 on engine llamacpp \(configured: pool0 serves model model0 on engine llamacpp; pool1 serves model model1/)
  t.notOk(none.headers['retry-after'], 'no retry advice for what waiting cannot fix')
  t.ok(none.headers['x-correlation-id'])
  h.app.pool.registry.upsert('pool1', { state: 'Preloading', health: { live: true, ready: false } })
  const unready = await h.post(h.task({ model_ref: 'model1' }))
  t.equal(unready.status, 503)
  t.match(unready.json, { code: 'POOL_UNREADY', retriable: true, pool_id: 'pool1', message: /pool1 is not Ready yet/ })
  t.equal(unready.headers['retry-after'], '1', 'a pool that is coming up: 503 with retry advice')
  h.app.pool.registry.upsert('pool1', { state: 'Ready', health: { live: true, ready: true }, draining: true })
  t.equal((await h.post(h.task({ model_ref: 'model1' }))).json.code, 'POOL_UNREADY', 'H39: a draining pool is excluded')
  h.app.pool.registry.upsert('pool1', { draining: false })
  t.equal((await h.post(h.task({ model_ref: 'model1' }))).status, 202, 'Ready again: placed')
  t.equal(await h.metric(/^tasks_rejected_total\{engine="llamacpp",reason="POOL_UNREADY"\}/), 2)
})

t.test('predicted start past the deadline is DEADLINE_UNMET before enqueue (§2.1 step 8)', async (t) => {
  const h = await f0(t)
  h.mock.hold()
  await h.post(h.task())
  await h.post(h.task())
  const late = await h.post(h.task({ deadline_ms: 150 }))
  t.equal(late.status, 400, 'position 1 × 100 ms/item... predicted 200 ms ≥ 150')
  t.equal(late.json.code, 'DEADLINE_UNMET')
  t.equal(depth(h), 1)
  h.mock.release()
})

t.test('C12, C13, C16, C17: reject policy answers 429 with headers and body from the live queue', async (t) => {
  const h = await f0(t, { pools: [poolF0('pool0', { queue: { capacity: 1, full_policy: 'reject' } })] })
  h.mock.hold()
  await h.post(h.task()) // running
  const queued = h.task()
  const q = await h.post(queued)
  t.equal(q.json.queue_position, 0)
  t.equal(q.json.predicted_start_ms, 100, 'no history: eta_per_item_ms × (position + 1)')
  t.equal(q.json.backoff_ms, 250, 'occupancy 1/1 ≥ 0.8: backoff is the retry advice')
  const res = await h.post(h.task(), { 'x-correlation-id': 'c12' })
  t.equal(res.status, 429)
  t.match(res.json, { code: 'ADMISSION_REJECT', policy_label: 'reject', retriable: true, engine: 'llamacpp', pool_id: 'pool0' })
  t.equal(res.json.retry_after_ms, 250, 'decision 6: depth 1 × 100 ms per slot, clamped to 250')
  t.equal(res.headers['retry-after'], '1')
  t.equal(res.headers['x-backoff-ms'], '250')
  t.equal(res.headers['x-correlation-id'], 'c12')
  t.equal(await h.metric(/^admission_backpressure_events_total\{engine="llamacpp",policy="reject"\}/), 1, 'C16')
  t.equal(await h.metric(/^tasks_rejected_total\{engine="llamacpp",reason="ADMISSION_REJECT"\}/), 1, 'C16')
  h.mock.release()
  const s = await h.stream(queued.task_id as string)
  t.match(s.frames[0]!.json, { queue_position: 0, predicted_start_ms: 100 }, 'C17: the started frame keeps the admission values')
  t.equal(s.frames.at(-1)!.event, 'end')
})

t.test('C14, C15: drop-lru evicts the oldest batch task; a batch arrival never evicts interactive work', async (t) => {
  const h = await f0(t, { pools: [poolF0('pool0', { queue: { capacity: 1, full_policy: 'drop-lru' } })] })
  h.mock.hold()
  await h.post(h.task())
  const x = h.task({ priority: 'batch' })
  t.equal((await h.post(x)).status, 202)
  const y = h.task({ priority: 'interactive' })
  t.equal((await h.post(y)).status, 202, 'C14: Y is admitted')
  const sx = await h.stream(x.task_id as string)
  t.same(sx.frames.map((f) => f.event), ['started', 'error'])
  t.match(sx.frames[1]!.json, { code: 'QUEUE_FULL_DROP_LRU', engine: 'llamacpp' })
  t.same(h.app.dataplane.inspect().queue('pool0')!.snapshot('interactive'), [y.task_id])
  const b = await h.post(h.task({ priority: 'batch' }))
  t.equal(b.status, 429, 'C15')
  t.match(b.json, { code: 'QUEUE_FULL_DROP_LRU', policy_label: 'drop-lru', retriable: true })
  t.ok(b.headers['retry-after'])
  t.equal(await h.metric(/^tasks_rejected_total\{engine="llamacpp",reason="QUEUE_FULL_DROP_LRU"\}/), 2, 'victim and refusal both count')
  t.equal(await h.metric(/^admission_backpressure_events_total\{engine="llamacpp",policy="drop-lru"\}/), 1)
  h.mock.release()
})

t.test('D11: a duplicate task_id replays the first 202 with the same body, else 400', async (t) => {
  const h = await f0(t)
  const body = h.task()
  const first = await h.post(body)
  const again = await h.post(Object.fromEntries(Object.entries(body).reverse()))
  t.equal(again.status, 202)
  t.same(again.json, first.json, 'identical canonical body (fields in another order): the original answer')
  const diff = await h.post({ ...body, max_tokens: 2 })
  t.equal(diff.status, 400)
  t.match(diff.json.message, /already exists with a different body/)
  t.equal(await h.metric(/^tasks_enqueued_total\{/), 1, 'enqueued once')
  t.equal(h.app.sessions.get(body.session_id as string)!.turns, 1, 'one turn')
})

t.test('B8–B11: budgets, headers and turns', async (t) => {
  const h = await f0(t, { manifest: { sessions: { budgets: { tokens: 10, time_ms: 45_000, cost: 0.5 } } } })
  const sid = '00000000-0000-4000-8000-000000000001'
  const res = await h.post(h.task({ session_id: sid, max_tokens: 2 }))
  t.equal(res.headers['x-budget-tokens-remaining'], '8', 'B8: remaining after the reservation')
  t.equal(res.headers['x-budget-time-remaining-ms'], '45000')
  t.equal(res.headers['x-budget-cost-remaining'], '0.499996')
  const s = await h.stream(res.json.task_id as string)
  t.ok(s.headers['x-budget-tokens-remaining'], 'B9: the stream reply carries them too')
  t.ok(s.headers['x-budget-time-remaining-ms'])
  t.ok(s.headers['x-budget-cost-remaining'])
  t.match(s.frames.find((f) => f.event === 'metrics')!.json, { tokens_budget_remaining: 8, time_budget_remaining_ms: 45000 })
  const over = await h.post(h.task({ session_id: sid, max_tokens: 11 }))
  t.equal(over.status, 400, 'B10')
  t.equal(over.json.code, 'INVALID_PARAMS')
  t.match(over.json.message, /token budget/)
  const info = await h.call('GET', `/v1/sessions/${sid}`)
  t.match(info.json, { turns: 1, tokens_budget_remaining: 8, cost_budget_remaining: 0.499996 })

  const h2 = await f0(t)
  const sid2 = '00000000-0000-4000-8000-000000000002'
  for (let i = 0; i < 8; i++) {
    const r = await h2.post(h2.task({ session_id: sid2 }))
    await h2.stream(r.json.task_id as string)
  }
  const ninth = await h2.post(h2.task({ session_id: sid2 }))
  t.equal(ninth.status, 400, 'B11: the 9th turn is refused before enqueue')
  t.match(ninth.json.message, /used its 8 turns/)
  t.equal((await h2.call('GET', `/v1/sessions/${sid2}`)).json.turns, 8, 'turns stays 8')
})

t.test('I49: a Retired model gets 403 MODEL_DEPRECATED when the catalog knows lifecycle', async (t) => {
  const h = await f0(t)
  Object.assign(h.app.catalog, { lifecycle: (id: string) => id === 'model0' ? 'Retired' : 'Active' })
  const res = await h.post(h.task())
  t.equal(res.status, 403)
  t.match(res.json, { code: 'MODEL_DEPRECATED', retriable: false })
})

t.test('I49: tasks name the pool\'s logical model (D12); a Retired catalog model behind it is MODEL_DEPRECATED too', async (t) => {
  const h = await f0(t)
  h.app.pool.registry.upsert('pool0', { model_id: 'file:/models/m0.gguf' })
  t.equal((await h.post(h.task())).status, 202, 'model0 still places on pool0 while it serves file:/models/m0.gguf')
  Object.assign(h.app.catalog, { lifecycle: (id: string) => id === 'file:/models/m0.gguf' ? 'Retired' : undefined })
  const res = await h.post(h.task())
  t.equal(res.status, 403)
  t.match(res.json, { code: 'MODEL_DEPRECATED', message: 'model model0 is Retired in the catalog; pick an Active model' })
})
