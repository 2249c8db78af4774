import t from 'tap'
import type { TaskRequest, TokenEvent } from '../../../sdk/index.js'
import { f0 } from '../../../test/fixtures/dataplane.js'

t.test('metrics frames: every metrics_interval_tokens tokens and a final one before end (§2.2)', async (t) => {
  const h = await f0(t, { mock: { tokens: undefined }, manifest: { sse: { metrics_interval_tokens: 10 } } })
  const body = h.task({ max_tokens: 25, seed: 7 })
  await h.post(body)
  const s = await h.stream(body.task_id as string)
  const events = s.frames.map((f) => f.event)
  const positions = events.flatMap((e, i) => e === 'metrics' ? [i] : [])
  t.same(positions, [11, 22, 28], 'after tokens 11 and 21 (10 tokens apart), then the final one')
  t.match(s.frames[1]!.json.t, /^T[0-9a-f]{4}$/, 'LCG tokens')
  t.equal(s.frames.at(-1)!.json.tokens_out, 25)
  t.match(s.frames[positions[0]!]!.json, { engine_predicted_ms: undefined }, 'adapter metrics arrive only with the final frame')
  t.ok('engine_predicted_ms' in s.frames[positions[2]!]!.json, 'adapter metrics are merged into ours, not duplicated')
})

t.test('the same seed gives the same tokens (mock determinism, §2.6)', async (t) => {
  const h = await f0(t, { mock: { tokens: undefined } })
  const a = h.task({ max_tokens: 5, seed: 42 })
  const b = h.task({ max_tokens: 5, seed: 42 })
  const c = h.task({ max_tokens: 5, seed: 43 })
  for (const x of [a, b, c]) await h.post(x)
  const [sa, sb, sc] = await Promise.all([a, b, c].map((x) => h.stream(x.task_id as string)))
  const toks = (s: typeof sa): unknown[] => s!.frames.filter((f) => f.event === 'token').map((f) => f.json.t)
  t.same(toks(sa), toks(sb))
  t.notSame(toks(sa), toks(sc))
  t.match(toks(sa)[0], /^T[0-9a-f]{4}$/)
})

t.test('a host that throws ends the stream with INTERNAL and releases the lease', async (t) => {
  const h = await f0(t)
  const host = h.app.adapterHost
  host.submit = (async function * (): AsyncGenerator<TokenEvent> { throw new Error('host bug') }) as typeof host.submit
  const body = h.task()
  await h.post(body)
  const s = await h.stream(body.task_id as string)
  t.same(s.frames.map((f) => f.event), ['started', 'error'])
  t.equal(s.frames[1]!.json.code, 'INTERNAL')
  t.notMatch(s.frames[1]!.json.message, /host bug/)
  t.equal(h.app.pool.registry.getActiveLeases('pool0'), 0)
  t.ok(h.capture.find({ action: 'error', task_id: body.task_id }).length >= 1)
})

t.test('a stream that ends silently is a WORKER_RESET; unknown worker kinds map to INTERNAL', async (t) => {
  const h = await f0(t)
  const host = h.app.adapterHost
  let mode = 'silent'
  host.submit = (async function * (_pool: string, req: TaskRequest): AsyncGenerator<TokenEvent> {
    yield { kind: 'started', data: { engine: req.engine, engine_version: 'x', pool_id: 'pool0', replica_id: 'r0' } }
    if (mode === 'odd') yield { kind: 'error', data: { kind: 'WEIRD' as 'INTERNAL', message: 'odd', retriable: false, engine: req.engine } }
  }) as typeof host.submit
  const a = h.task()
  await h.post(a)
  t.equal((await h.stream(a.task_id as string)).frames.at(-1)!.json.code, 'WORKER_RESET')
  mode = 'odd'
  const b = h.task()
  await h.post(b)
  t.equal((await h.stream(b.task_id as string)).frames.at(-1)!.json.code, 'INTERNAL')
})

t.test('workloads the engine does not list are refused (§2.1)', async (t) => {
  const h = await f0(t)
  const res = await h.post(h.task({ workload: 'embedding', inputs: ['a'] }))
  t.equal(res.status, 400)
  t.match(res.json.message, /\/workload embedding is not supported by llamacpp/)
})

t.test('a session deleted while its task runs: the stream still ends cleanly', async (t) => {
  const h = await f0(t, { mock: { tokens: undefined, inter_token_ms: 5 } })
  const body = h.task({ max_tokens: 4 })
  await h.post(body)
  await h.call('DELETE', `/v1/sessions/${body.session_id}`)
  const s = await h.stream(body.task_id as string)
  t.equal(s.frames.at(-1)!.event, 'end')
  t.equal(s.frames.find((f) => f.event === 'metrics')!.json.kv_warmth, false)
})

t.test('DELETE /v1/sessions/{id} asks the replica that served the session to free its KV (§2.4); a failure is narrated, never thrown', async (t) => {
  const h = await f0(t)
  const body = h.task({ max_tokens: 2 })
  await h.post(body)
  await h.stream(body.task_id as string)
  t.equal((await h.call('DELETE', `/v1/sessions/${body.session_id}`)).status, 204)
  t.same(h.mock.freed, [body.session_id])
  t.match(h.capture.find({ action: 'free-session' })[0], { session_id: body.session_id, pool_id: 'pool0', replica_id: 'r0' })
  t.equal((await h.call('DELETE', `/v1/sessions/${body.session_id}`)).status, 204, 'idempotent')
  t.equal(h.mock.freed.length, 1, 'a session that is gone has nothing to free')

  const other = h.task({ max_tokens: 1 })
  await h.post(other)
  await h.stream(other.task_id as string)
  h.mock.freeSession = async () => { throw new Error('engine said no') }
  t.equal((await h.call('DELETE', `/v1/sessions/${other.session_id}`)).status, 204)
  await new Promise((resolve) => setImmediate(resolve))
  t.match(h.capture.find({ action: 'free-session', session_id: other.session_id })[0], { level: 40, error: 'engine said no' })
})
