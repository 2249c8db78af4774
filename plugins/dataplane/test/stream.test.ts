import t from 'tap'
import { f0, poolF0 } from '../../../test/fixtures/dataplane.js'

const UUIDV4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

t.test('A1–A4, A7: 202 with the contract body, then started < token < metrics < end over real SSE', async (t) => {
  const h = await f0(t)
  const body = h.task({ max_tokens: 2 })
  const res = await h.post(body)
  t.equal(res.status, 202)
  t.match(res.headers['x-correlation-id'], UUIDV4, 'A1: a fresh correlation id')
  t.same(Object.keys(res.json).sort(), ['backoff_ms', 'predicted_start_ms', 'queue_position', 'task_id'])
  t.equal(res.json.task_id, body.task_id)
  t.equal(res.json.queue_position, 0, 'nothing ahead')
  t.equal(res.json.predicted_start_ms, 0, 'a free slot and position 0 start now (§4.4)')
  t.equal(res.json.backoff_ms, 0)
  t.notOk('x-budget-tokens-remaining' in res.headers, 'no budget headers when no budget is configured (D9)')

  const s = await h.stream(body.task_id as string)
  t.equal(s.status, 200)
  t.match(s.headers['content-type'], /^text\/event-stream/)
  t.equal(s.headers['cache-control'], 'no-cache')
  t.equal(s.headers['x-accel-buffering'], 'no')
  t.ok(s.headers['x-correlation-id'], 'the SSE reply carries the correlation id')
  t.notOk(s.headers['content-encoding'], 'never compressed (ORCH-3450)')
  const events = s.frames.map((f) => f.event)
  t.same(events, ['started', 'token', 'token', 'metrics', 'end'], 'A4: a metrics frame after the first token, the final one before end')
  t.same(s.frames.map((f) => f.id), [0, 1, 2, 3, 4], 'id: is the 0-based frame index')
  t.same(s.frames[0]!.json, { queue_position: 0, predicted_start_ms: 0, engine_version: 'mock-1.0.0' },
    'A3: started equals the 202 body, plus the engine version (D20)')
  t.same(s.frames.filter((f) => f.event === 'token').map((f) => f.json), [{ t: 'Hello', i: 0 }, { t: ' world', i: 1 }], 'A7: i is 0..n-1')
  const m = s.frames[3]!.json
  t.equal(m.queue_depth, 0)
  t.equal(m.on_time_probability, 1)
  t.equal(m.kv_warmth, true, 'F33: warm after the first token')
  t.ok(!('tokens_budget_remaining' in m), 'no budget fields without budgets')
  t.equal(s.frames.at(-1)!.json.tokens_out, 2, 'A7: tokens_out = token frames')
  t.equal(s.frames.at(-1)!.json.decode_ms, s.frames.at(-1)!.json.decode_time_ms, 'decision 9: both, equal')
  t.ok(s.raw.endsWith('\n\n'), 'the last frame ends with a blank line')

  const replay = await h.stream(body.task_id as string)
  t.equal(replay.raw, s.raw, 'a second GET after the end replays the whole transcript')
  const resumed = await h.stream(body.task_id as string, { 'last-event-id': '2' })
  t.same(resumed.frames.map((f) => f.id), [3, 4], 'Last-Event-ID resumes after the given frame')
  const unknown = await h.stream('00000000-0000-4000-8000-000000000000')
  t.equal(unknown.status, 404, 'D12: unknown task')
  t.match(JSON.parse(unknown.raw), { code: 'INVALID_PARAMS', message: /unknown or its retention has expired/ })
  t.equal((await h.stream('not-a-uuid')).status, 400)
  const junk = await h.stream(body.task_id as string, { 'last-event-id': 'x' })
  t.equal(junk.frames.length, 5, 'an unparsable Last-Event-ID replays everything')
})

t.test('D20: started names the sampler profile and the pinned model digest, never a replica', async (t) => {
  const h = await f0(t, {
    pools: [poolF0('pool0', {
      sampler_profile_version: 'v1',
      provisioning: { mode: 'external', compute_policy: 'cpu-only', ports: [18080], model: { ref: 'model0', checksum: 'sha256:' + 'a'.repeat(64) } },
    })],
  })
  const body = h.task({ max_tokens: 1 })
  t.equal((await h.post(body)).status, 202)
  const started = (await h.stream(body.task_id as string)).frames[0]!
  t.same(started.json, {
    queue_position: 0,
    predicted_start_ms: 0,
    engine_version: 'mock-1.0.0',
    sampler_profile_version: 'v1',
    model_digest: 'sha256:' + 'a'.repeat(64),
  })
})

t.test('A5: a given X-Correlation-Id is echoed on 202, SSE, 204 and 4xx', async (t) => {
  const h = await f0(t)
  const hdr = { 'x-correlation-id': 'abc-123' }
  const body = h.task()
  t.equal((await h.post(body, hdr)).headers['x-correlation-id'], 'abc-123')
  t.equal((await h.stream(body.task_id as string, hdr)).headers['x-correlation-id'], 'abc-123')
  t.equal((await h.call('POST', `/v1/tasks/${body.task_id}/cancel`, hdr)).headers['x-correlation-id'], 'abc-123')
  const bad = await h.post({ ...h.task(), ctx: -1 }, hdr)
  t.equal(bad.status, 400)
  t.equal(bad.headers['x-correlation-id'], 'abc-123')
  const log = h.capture.records().find((r) => r.action === 'admission' && r.task_id === body.task_id)
  t.equal(log?.correlation_id, 'abc-123', 'the admission log carries it too')
})

t.test('K58: the admission log line carries queue_position and predicted_start_ms; K57 metrics', async (t) => {
  const h = await f0(t)
  const body = h.task()
  await h.post(body)
  await h.stream(body.task_id as string)
  const line = JSON.stringify(h.capture.records().filter((r) => r.action === 'admission').at(-1))
  t.match(line, /"queue_position":0/)
  t.match(line, /"predicted_start_ms":0/)
  const scrape = (await h.call('GET', '/metrics')).body
  t.match(scrape, /# TYPE tasks_enqueued_total counter/)
  t.match(scrape, /# TYPE queue_depth gauge/)
  t.match(scrape, /engine_version="mock-1\.0\.0"/)
  t.match(scrape, /tasks_started_total\{engine="llamacpp",engine_version="mock-1.0.0",pool_id="pool0",replica_id="r0",priority="interactive"\} 1/)
  t.match(scrape, /tokens_out_total\{engine="llamacpp",engine_version="mock-1.0.0",pool_id="pool0",replica_id="r0"\} 1/)
  t.match(scrape, /tokens_in_total\{[^}]*\} 3/, 'tokens_in from the adapter')
  t.match(scrape, /latency_first_token_ms_count\{[^}]*priority="interactive"\} 1/)
  t.match(scrape, /latency_decode_ms_count\{[^}]*\} 1/)
  const end = h.capture.records().find((r) => r.actor === 'orchestratord' && r.action === 'end' && r.task_id === body.task_id)
  t.match(end, { tokens_out: 1, job_id: body.task_id, pool_id: 'pool0', replica_id: 'r0', engine_version: 'mock-1.0.0' }, '§4.7 fields on the end line')
})

t.test('100 concurrent tasks: every stream well-ordered, indices contiguous, tokens_out = token frames', async (t) => {
  const h = await f0(t, {
    pools: [poolF0('pool0', { slots_total: 4, queue: { capacity: 128, full_policy: 'reject' } })],
    mock: { tokens: undefined, inter_token_ms: 1 },
  })
  h.mock.plan = (req) => ({ tokens: undefined, inter_token_ms: req.seed! % 3 })
  const bodies = Array.from({ length: 100 }, (_, k) => h.task({
    max_tokens: 5 + (k % 17),
    seed: k,
    deadline_ms: 60_000,
    priority: k % 2 ? 'batch' : 'interactive',
  }))
  const admitted = await Promise.all(bodies.map((b) => h.post(b)))
  t.same(admitted.map((r) => r.status), bodies.map(() => 202))
  const streams = await Promise.all(bodies.map((b) => h.stream(b.task_id as string)))
  let bad = 0
  streams.forEach((s, k) => {
    const ev = s.frames.map((f) => f.event).join(' ')
    const tokens = s.frames.filter((f) => f.event === 'token')
    const ok = /^started( token( token| metrics)*)? end$/.test(ev) &&
      tokens.every((f, i) => f.json.i === i) && s.frames.at(-1)!.json.tokens_out === tokens.length &&
      tokens.length === bodies[k]!.max_tokens && s.frames.every((f, i) => f.id === i) &&
      s.frames[0]!.json.queue_position === admitted[k]!.json.queue_position
    if (!ok) bad++
  })
  t.equal(bad, 0, 'no stream breaks the grammar started (token (token|metrics)*)? end')
  t.equal(h.app.pool.registry.getActiveLeases('pool0'), 0, 'every lease came back')
  t.equal(await h.metric(/^tasks_enqueued_total\{.*priority="batch"/), 50)
  const total = bodies.reduce((n, b) => n + (b.max_tokens as number), 0)
  const out = await h.metric(/^tokens_out_total\{/)
  t.equal(out, total, 'throttled token counter flushes to the exact total')
})
