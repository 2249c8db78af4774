import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { request } from 'undici'
import { f0, parseSse, type F0 } from '../../../test/fixtures/dataplane.js'
import { wantsEventStream } from '../routes.js'

const SSE = { accept: 'text/event-stream' }

/** POST /v1/tasks and read the whole answer, whatever it is. */
async function postRead (h: F0, body: Record<string, unknown>, headers: Record<string, string> = SSE, query = ''): Promise<{
  status: number
  headers: Record<string, string>
  raw: string
}> {
  const res = await request(`${h.base}/v1/tasks${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  })
  const raw = await res.body.text()
  return { status: res.statusCode, headers: res.headers as Record<string, string>, raw }
}

/** POST /v1/tasks with Accept: text/event-stream, kept open: resolves once `re` is in the stream. */
async function postOpen (h: F0, body: Record<string, unknown>, query = ''): Promise<{ seen: (re: RegExp) => Promise<void>, abort: () => void }> {
  const ac = new AbortController()
  const res = await request(`${h.base}/v1/tasks${query}`, {
    method: 'POST', signal: ac.signal, headers: { 'content-type': 'application/json', ...SSE }, body: JSON.stringify(body),
  })
  let raw = ''
  const waiters: Array<[RegExp, () => void]> = []
  void (async () => {
    try { for await (const chunk of res.body) { raw += chunk.toString(); for (const [re, go] of waiters) if (re.test(raw)) go() } } catch {}
  })()
  return {
    seen: (re) => re.test(raw) ? Promise.resolve() : new Promise((resolve) => { waiters.push([re, resolve]) }),
    abort: () => ac.abort(),
  }
}

t.test('issue 11 item 4: POST /v1/tasks with Accept: text/event-stream streams the task on the same connection', async (t) => {
  const h = await f0(t, { manifest: { sessions: { budgets: { tokens: 100 } } } })
  const body = h.task({ max_tokens: 2 })
  const res = await postRead(h, body)
  t.equal(res.status, 200)
  t.match(res.headers['content-type'], /^text\/event-stream/)
  t.equal(res.headers.location, `/v1/tasks/${body.task_id}/stream`, 'Location, as on the 202')
  t.equal(res.headers['x-budget-tokens-remaining'], '98', 'the session budget headers, as on the 202')
  t.ok(res.headers['x-correlation-id'])
  const frames = parseSse(res.raw)
  t.same(frames.map((f) => f.event), ['started', 'token', 'token', 'metrics', 'end'], 'started, tokens, metrics, end')
  t.same(frames[0]!.json, { queue_position: 0, predicted_start_ms: 0, engine_version: 'mock-1.0.0' })
  const get = await h.stream(body.task_id as string)
  t.equal(get.raw, res.raw, 'byte for byte the frames of GET /v1/tasks/{id}/stream')
  const replay = await postRead(h, body)
  t.equal(replay.raw, res.raw, 'D11: the same body again replays, streamed from the first frame')
  t.equal(h.app.dataplane.subscribers, 0, 'writers are released at the end')

  const plain = await f0(t)
  const sparse = await postRead(plain, { model_ref: 'model0', prompt: 'Count: 3' })
  t.equal(sparse.status, 200, 'the one-line task: model_ref and prompt')
  t.same(parseSse(sparse.raw).filter((f) => f.event === 'token').map((f) => f.json.t), ['Hello', ' world'])
  t.match(sparse.headers.location, /^\/v1\/tasks\/[0-9a-f-]{36}\/stream$/)
})

t.test('issue 11 item 4: refusals stay JSON ErrorEnvelopes with their status; other Accept values get the 202', async (t) => {
  const h = await f0(t)
  const bad = await postRead(h, h.task({ model_ref: 'model9' }))
  t.equal(bad.status, 400)
  t.match(bad.headers['content-type'], /^application\/json/)
  t.match(JSON.parse(bad.raw), { code: 'INVALID_PARAMS', message: /\/model_ref: no pool serves/ })
  t.notOk(bad.headers.location, 'no Location for a task that does not exist')
  h.mock.hold()
  for (let i = 0; i < 9; i++) t.equal((await h.post(h.task())).status, 202, 'one running, eight queued')
  const full = await postRead(h, h.task())
  t.equal(full.status, 429)
  t.match(JSON.parse(full.raw), { code: 'ADMISSION_REJECT', retry_after_ms: Number })
  t.ok(full.headers['retry-after'])
  h.mock.release()
  for (const accept of ['*/*', 'application/json', 'text/event-stream;q=0']) {
    const r = await h.post(h.task(), { accept })
    t.equal(r.status, 202, `Accept: ${accept} → the JSON 202`)
  }
})

t.test('issue 11 item 4: closing the POST stream does not cancel; ?cancel_on_disconnect=true does, like the stream route', async (t) => {
  const h = await f0(t, { mock: { tokens: undefined } })
  h.mock.plan = () => ({ hang_after_tokens: 1 })
  const canceled = (): Promise<number> => h.metric(/^tasks_canceled_total\{.*reason="client"/)
  const a = h.task({ max_tokens: 5, deadline_ms: 60_000 })
  const sa = await postOpen(h, a)
  await sa.seen(/"i":0/)
  sa.abort()
  await sleep(30)
  t.equal(h.app.dataplane.task(a.task_id as string)!.state, 'running', 'still running after the client left')
  t.equal(await canceled(), 0)
  h.app.dataplane.cancel(a.task_id as string)
  const before = await canceled()
  const b = h.task({ max_tokens: 5, deadline_ms: 60_000 })
  const sb = await postOpen(h, b, '?cancel_on_disconnect=true')
  await sb.seen(/"i":0/)
  sb.abort()
  await sleep(30)
  t.equal(h.app.dataplane.task(b.task_id as string)!.state, 'canceled', 'canceled by the disconnect')
  t.equal(await canceled(), before + 1, 'counted as reason client')
  t.equal(h.app.pool.registry.getActiveLeases('pool0'), 0)

  const noStream = await h.call('POST', '/v1/tasks?cancel_on_disconnect=true', {}, h.task())
  t.equal(noStream.status, 400, 'honour or reject: a 202 has no stream whose close could cancel')
  t.match(noStream.json, { code: 'INVALID_PARAMS', message: /^querystring\/cancel_on_disconnect needs Accept: text\/event-stream/ })
  t.equal(h.app.dataplane.inspect().queue('pool0')!.len(), 0, 'nothing enqueued')
})

t.test('issue 11 item 4: which Accept values ask for the stream', async (t) => {
  t.ok(wantsEventStream('text/event-stream'))
  t.ok(wantsEventStream('application/json, text/event-stream'))
  t.ok(wantsEventStream('Text/Event-Stream; q=0.5'))
  t.notOk(wantsEventStream(undefined))
  t.notOk(wantsEventStream('*/*'), 'curl\'s default keeps the 202')
  t.notOk(wantsEventStream('text/*'))
  t.notOk(wantsEventStream('text/event-stream;q=0'))
  t.notOk(wantsEventStream('text/event-stream; q=0.000'))
})
