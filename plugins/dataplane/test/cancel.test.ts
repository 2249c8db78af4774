import t from 'tap'
import fc from 'fast-check'
import { setTimeout as sleep } from 'node:timers/promises'
import { request } from 'undici'
import { f0, parseSse, poolF0 } from '../../../test/fixtures/dataplane.js'

/** Opens a stream and collects its raw text, resolving once `until` matches. */
async function open (base: string, id: string, query = ''): Promise<{
  text: () => string
  done: Promise<string>
  abort: () => void
  seen: (re: RegExp) => Promise<void>
}> {
  const ac = new AbortController()
  const res = await request(`${base}/v1/tasks/${id}/stream${query}`, { signal: ac.signal, headers: { accept: 'text/event-stream' } })
  let raw = ''
  const waiters: Array<[RegExp, () => void]> = []
  const done = (async () => {
    try { for await (const chunk of res.body) { raw += chunk.toString(); for (const [re, go] of waiters) if (re.test(raw)) go() } } catch {}
    return raw
  })()
  return {
    text: () => raw,
    done,
    abort: () => ac.abort(),
    seen: (re) => re.test(raw) ? Promise.resolve() : new Promise((resolve) => { waiters.push([re, resolve]) }),
  }
}

t.test('E25, E26: cancel of a queued task: 204, out of the queue, started → end{canceled, tokens_out:0}', async (t) => {
  const h = await f0(t)
  h.mock.hold()
  await h.post(h.task())
  const q = h.task()
  await h.post(q)
  t.same(h.app.dataplane.inspect().queue('pool0')!.snapshot('interactive'), [q.task_id])
  const res = await h.call('POST', `/v1/tasks/${q.task_id}/cancel`, { 'x-correlation-id': 'e25' })
  t.equal(res.status, 204)
  t.equal(res.body, '')
  t.equal(res.headers['x-correlation-id'], 'e25')
  t.same(h.app.dataplane.inspect().queue('pool0')!.snapshot('interactive'), [], 'no longer in the queue snapshot')
  const s = await h.stream(q.task_id as string)
  t.same(s.frames.map((f) => f.event), ['started', 'end'])
  t.same(s.frames[1]!.json, { tokens_out: 0, decode_time_ms: 0, decode_ms: 0, canceled: true })
  t.equal(await h.metric(/^tasks_canceled_total\{.*reason="client"\}/), 1)
  t.match(h.capture.find({ action: 'cancel', task_id: q.task_id })[0], { canceled: true })
  h.mock.release()
})

t.test('E27, E28: cancel between tokens: exactly the tokens sent, no metrics after, lease released, signal reached the adapter', async (t) => {
  for (const [maxTokens, sent] of [[2, 1], [3, 2]] as const) {
    const h = await f0(t, { mock: { tokens: ['a', 'b', 'c'], inter_token_ms: 0 } })
    h.mock.plan = () => ({ hang_after_tokens: sent })
    const body = h.task({ max_tokens: maxTokens, deadline_ms: 60_000 })
    await h.post(body)
    const s = await open(h.base, body.task_id as string)
    await s.seen(new RegExp(`"i":${sent - 1}`))
    const res = await h.call('POST', `/v1/tasks/${body.task_id}/cancel`)
    t.equal(res.status, 204)
    const frames = parseSse(await s.done)
    const events = frames.map((f) => f.event)
    t.equal(events.filter((e) => e === 'token').length, sent, `exactly ${sent} token(s)`)
    t.equal(events.at(-1), 'end')
    t.same(frames.at(-1)!.json.canceled, true)
    t.equal(frames.at(-1)!.json.tokens_out, sent, 'D15: tokens_out = token frames sent')
    t.notOk(events.includes('metrics'), 'no metrics frame at all')
    await sleep(20)
    t.same(h.mock.aborted, [body.task_id], 'the AbortSignal reached the adapter')
    t.same(h.mock.canceled, [body.task_id], 'adapter.cancel was called')
    t.equal(h.app.pool.registry.getActiveLeases('pool0'), 0, 'lease released')
    t.equal(await h.metric(/^tasks_canceled_total\{engine="llamacpp",engine_version="mock-1.0.0",pool_id="pool0",replica_id="r0",reason="client"\}/), 1)
  }
})

t.test('E29 property: for random cancel times, no token frame has a sequence number after the cancel point', async (t) => {
  const h = await f0(t, {
    pools: [poolF0('pool0', { slots_total: 8, queue: { capacity: 64, full_policy: 'reject' } })],
    mock: { tokens: undefined, inter_token_ms: 1 },
  })
  await fc.assert(fc.asyncProperty(fc.integer({ min: 0, max: 25 }), fc.integer({ min: 1, max: 40 }), async (delayMs, maxTokens) => {
    const body = h.task({ max_tokens: maxTokens, deadline_ms: 60_000 })
    await h.post(body)
    await sleep(delayMs)
    h.app.dataplane.cancel(body.task_id as string)
    // the terminal frame is appended synchronously by cancel: its index is the cancel point
    const task = h.app.dataplane.task(body.task_id as string)!
    const cancelPoint = task.log.next - 1
    await sleep(5)
    const frames = parseSse(task.log.read(0))
    const end = frames.at(-1)!
    return frames.every((f) => f.event !== 'token' || f.id! < cancelPoint) && frames.length === cancelPoint + 1 &&
      end.event === 'end' && end.json.tokens_out === frames.filter((f) => f.event === 'token').length
  }), { numRuns: 40 })
  t.pass('property held')
})

t.test('E30: cancel of unknown or finished tasks is 204 with no change; a non-UUID id is 400', async (t) => {
  const h = await f0(t)
  t.equal((await h.call('POST', '/v1/tasks/00000000-0000-4000-8000-000000000000/cancel')).status, 204)
  const body = h.task()
  await h.post(body)
  const before = (await h.stream(body.task_id as string)).raw
  t.equal((await h.call('POST', `/v1/tasks/${body.task_id}/cancel`)).status, 204)
  t.equal((await h.stream(body.task_id as string)).raw, before, 'a finished transcript never changes')
  t.equal(await h.metric(/^tasks_canceled_total\{/), 0)
  t.equal((await h.call('POST', '/v1/tasks/nope/cancel')).status, 400)
})

t.test('a disconnect does not cancel by default; ?cancel_on_disconnect=true does', async (t) => {
  const h = await f0(t, { mock: { tokens: undefined } })
  h.mock.plan = () => ({ hang_after_tokens: 1 })
  const a = h.task({ max_tokens: 5, deadline_ms: 60_000 })
  await h.post(a)
  const sa = await open(h.base, a.task_id as string)
  await sa.seen(/"i":0/)
  sa.abort()
  await sleep(30)
  t.equal(h.app.dataplane.task(a.task_id as string)!.state, 'running', 'still running after the client left')
  h.app.dataplane.cancel(a.task_id as string)
  const b = h.task({ max_tokens: 5, deadline_ms: 60_000 })
  await h.post(b)
  const sb = await open(h.base, b.task_id as string, '?cancel_on_disconnect=true')
  await sb.seen(/"i":0/)
  sb.abort()
  await sleep(30)
  t.equal(h.app.dataplane.task(b.task_id as string)!.state, 'canceled', 'canceled by the disconnect')
  t.equal(h.app.pool.registry.getActiveLeases('pool0'), 0)
})

t.test('late subscribers get the log then the live tail; several subscribers fan out the same bytes', async (t) => {
  const h = await f0(t, { mock: { tokens: undefined, inter_token_ms: 2 } })
  const body = h.task({ max_tokens: 30, deadline_ms: 60_000 })
  await h.post(body)
  const first = await open(h.base, body.task_id as string)
  await first.seen(/"i":5/)
  const late = await open(h.base, body.task_id as string)
  const [a, b] = await Promise.all([first.done, late.done])
  t.equal(a, b, 'identical transcripts')
  t.equal(parseSse(a).filter((f) => f.event === 'token').length, 30)
  t.equal(h.app.dataplane.subscribers, 0, 'writers are released at the end')
})
