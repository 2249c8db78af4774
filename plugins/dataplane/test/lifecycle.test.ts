import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { f0, poolF0 } from '../../../test/fixtures/dataplane.js'

t.test('F31, F32: session GET/DELETE, sliding TTL, eviction by the sweep and a fresh session after', async (t) => {
  const h = await f0(t)
  const sid = '00000000-0000-4000-8000-00000000000a'
  const r = await h.post(h.task({ session_id: sid }))
  await h.stream(r.json.task_id as string)
  const info = await h.call('GET', `/v1/sessions/${sid}`)
  t.equal(info.status, 200)
  t.same(info.json, { ttl_ms_remaining: 600000, turns: 1, kv_bytes: 0, kv_warmth: true }, 'F31 (and F33: warm after the first token)')
  h.clock.advance(599_999)
  t.equal((await h.call('GET', `/v1/sessions/${sid}`)).json.ttl_ms_remaining, 1)
  await h.post(h.task({ session_id: sid }))
  t.equal((await h.call('GET', `/v1/sessions/${sid}`)).json.ttl_ms_remaining, 600000, 'admission slides the TTL')
  h.clock.advance(600_000)
  h.app.dataplane.sweep()
  t.equal(h.app.sessions.size, 0, 'the sweep evicts it')
  t.same(h.mock.freed, [sid], 'and asks its replica to free its KV')
  const gone = await h.call('GET', `/v1/sessions/${sid}`)
  t.equal(gone.status, 404, 'F32: expired → 404 (D10)')
  t.equal(gone.json.code, 'INVALID_PARAMS')
  await h.post(h.task({ session_id: sid }))
  t.equal((await h.call('GET', `/v1/sessions/${sid}`)).json.turns, 1, 'a new POST starts a fresh session')
  const del = await h.call('DELETE', `/v1/sessions/${sid}`, { 'x-correlation-id': 'f31' })
  t.equal(del.status, 204)
  t.equal(del.headers['x-correlation-id'], 'f31')
  t.equal((await h.call('GET', `/v1/sessions/${sid}`)).status, 404)
  t.equal((await h.call('DELETE', `/v1/sessions/${sid}`)).status, 204, 'DELETE is idempotent')
  const expiring = '00000000-0000-4000-8000-00000000000b'
  await h.stream((await h.post(h.task({ session_id: expiring }))).json.task_id as string)
  h.clock.advance(600_000)
  t.equal((await h.call('GET', `/v1/sessions/${expiring}`)).status, 404, 'found expired on access')
  t.equal(h.mock.freed.at(-1), expiring, 'lazy expiry frees the KV too')
  h.clock.advance(700_000)
  t.equal((await h.call('GET', `/v1/sessions/${sid}`)).status, 404, 'lazy expiry on access too')
})

t.test('F33: affinity keeps a session on its pool; failover says kv_warmth:false, kv_migrated:false', async (t) => {
  const h = await f0(t, { pools: [poolF0('pool0'), poolF0('pool1')] })
  const sid = '00000000-0000-4000-8000-00000000000b'
  const a = await h.post(h.task({ session_id: sid, max_tokens: 2 }))
  await h.stream(a.json.task_id as string)
  const first = h.app.dataplane.task(a.json.task_id as string)!.poolId
  const b = await h.post(h.task({ session_id: sid, max_tokens: 2 }))
  t.equal(h.app.dataplane.task(b.json.task_id as string)!.poolId, first, 'the affine pool wins the tie')
  await h.stream(b.json.task_id as string)
  h.app.pool.registry.upsert(first, { health: { live: true, ready: false } })
  const c = await h.post(h.task({ session_id: sid, max_tokens: 2 }))
  t.not(h.app.dataplane.task(c.json.task_id as string)!.poolId, first, 'failover to the other pool')
  const s = await h.stream(c.json.task_id as string)
  t.match(s.frames.find((f) => f.event === 'metrics')!.json, { kv_warmth: false, kv_migrated: false })
  const d = await h.post(h.task({ session_id: sid, max_tokens: 2, kv_hint: 'cold' }))
  t.equal((await h.stream(d.json.task_id as string)).status, 200, 'kv_hint cold ignores affinity')
})

t.test('D23, D24: adapter faults reach the stream as error frames with engine; INTERNAL never leaks the cause', async (t) => {
  const cases: Array<[Record<string, unknown>, string, number]> = [
    [{ fail_before_start: 'INTERNAL' }, 'INTERNAL', 0],
    [{ fail_before_start: 'ADAPTER' }, 'INTERNAL', 0],
    [{ throw_after_tokens: 1 }, 'INTERNAL', 1],
    [{ fail_after_tokens: { n: 1, kind: 'DECODE_TIMEOUT' } }, 'DECODE_TIMEOUT', 1],
    [{ fail_after_tokens: { n: 2, kind: 'WORKER_RESET' } }, 'WORKER_RESET', 2],
    [{ drop_after_tokens: 1 }, 'WORKER_RESET', 1],
  ]
  const h = await f0(t, { mock: { tokens: undefined } })
  for (const [plan, code, tokens] of cases) {
    h.mock.plan = () => plan
    const body = h.task({ max_tokens: 3 })
    await h.post(body)
    const s = await h.stream(body.task_id as string)
    const events = s.frames.map((f) => f.event)
    t.equal(events.at(-1), 'error', `${JSON.stringify(plan)} ends with error`)
    t.notOk(events.includes('end'), 'and no end frame')
    t.equal(events.filter((e) => e === 'token').length, tokens)
    t.match(s.frames.at(-1)!.json, { code, engine: 'llamacpp' })
    t.ok(typeof s.frames.at(-1)!.json.message === 'string')
    if (code === 'INTERNAL') t.notMatch(s.frames.at(-1)!.json.message, /secret/, 'the cause stays in the log')
  }
  t.ok(h.capture.text().includes('secret cause 42'), 'the cause is logged for the operator')
  t.equal(h.app.pool.registry.getActiveLeases('pool0'), 0)
})

t.test('the sweep: queued and running deadlines, wall and idle timeouts, retention', async (t) => {
  const h = await f0(t, {
    pools: [poolF0('pool0', { timeouts: { wall_ms: 10_000, idle_ms: 2_000 } })],
    manifest: { tasks: { retention_ms: 1000 } },
  })
  h.mock.plan = () => ({ hang_after_tokens: 1 })
  const running = h.task({ max_tokens: 3, deadline_ms: 60_000 })
  await h.post(running)
  const queued = h.task({ deadline_ms: 500 })
  await h.post(queued)
  await sleep(20)
  h.clock.advance(500)
  h.app.dataplane.sweep()
  const q = await h.stream(queued.task_id as string)
  t.same(q.frames.map((f) => f.event), ['started', 'error'])
  t.equal(q.frames[1]!.json.code, 'DEADLINE_UNMET', 'a queued task is removed at its deadline')
  t.equal(h.app.dataplane.inspect().queue('pool0')!.len(), 0)
  h.clock.advance(1500)
  h.app.dataplane.sweep()
  const r = await h.stream(running.task_id as string)
  t.same(r.frames.map((f) => f.event), ['started', 'token', 'error'])
  t.match(r.frames[2]!.json, { code: 'DECODE_TIMEOUT', message: /idle timeout/ })
  t.equal(h.app.pool.registry.getActiveLeases('pool0'), 0)
  t.equal(await h.metric(/^tasks_canceled_total\{.*reason="watchdog"\}/), 1)

  h.mock.plan = () => ({ tokens: undefined, inter_token_ms: 0, hang_after_tokens: 1 })
  const wall = h.task({ max_tokens: 3, deadline_ms: 60_000 })
  await h.post(wall)
  await sleep(20)
  h.app.dataplane.inspect().task(wall.task_id as string)!.lastTokenAt = h.clock.nowMs() + 9_000
  h.clock.advance(10_000)
  h.app.dataplane.sweep()
  t.match(h.app.dataplane.task(wall.task_id as string), { state: 'failed', abortedWith: 'DECODE_TIMEOUT' }, 'wall timeout')
  const late = h.task({ max_tokens: 3, deadline_ms: 100 })
  await h.post(late)
  await sleep(20)
  h.clock.advance(100)
  h.app.dataplane.sweep()
  t.match(h.app.dataplane.task(late.task_id as string), { abortedWith: 'DEADLINE_UNMET' }, 'running past its deadline')
  h.clock.advance(1000)
  h.app.dataplane.sweep()
  t.equal((await h.stream(late.task_id as string)).status, 404, 'retention over: 404 (D12)')
  t.equal((await h.stream(queued.task_id as string)).status, 404)
})

t.test('a pool that becomes Ready later gets its queued work on the next sweep or kick', async (t) => {
  const h = await f0(t)
  h.mock.hold()
  await h.post(h.task())
  const q = h.task()
  await h.post(q)
  const health = await h.call('GET', '/v1/pools/pool0/health')
  t.match(health.json.metrics, { queue_depth: 1, active_leases: 1 }, 'pool health shows the data plane\'s queue (H38)')
  h.app.pool.registry.upsert('pool0', { slots_total: 2 })
  h.app.dataplane.kick('pool0')
  t.equal(h.app.dataplane.task(q.task_id as string)!.state, 'running')
  h.mock.release()
})

t.test('keep-alive comments on idle streams; the server closes open streams on shutdown', async (t) => {
  const h = await f0(t, { manifest: { sse: { keepalive_ms: 100 } } })
  h.mock.hold()
  const body = h.task()
  await h.post(body)
  const res = await fetch(`${h.base}/v1/tasks/${body.task_id}/stream`)
  const reader = res.body!.getReader()
  let text = ''
  while (!text.includes(': keep-alive\n\n')) text += new TextDecoder().decode((await reader.read()).value)
  t.match(text, /^id: 0\nevent: started/)
  t.equal(h.app.dataplane.subscribers, 1)
  h.mock.release()
  await h.app.close()
  t.equal(h.app.dataplane.subscribers, 0)
})
