import t from 'tap'
import type { Test } from 'tap'
import { FakeEngine, json, refusedUrl } from '../../../test/fixtures/engines/fake-engine.js'
import { HttpClient, type RetryInfo } from '../client.js'
import { retryDelayMs, parseRetryAfter, sleep, DEFAULT_BACKOFF } from '../retry.js'
import { describeError, describeErrorText } from '../upstream-error.js'
import { UpstreamError } from '../errors.js'
import { sseEvents } from '../decode.js'

async function fake (t: Test) {
  const f = await FakeEngine.start({
    'GET /ok': (_q, res) => json(res, 200, { ok: true }),
    'GET /text': (_q, res) => { res.writeHead(200).end('not json') },
    'GET /big': (_q, res) => { res.writeHead(200).end('x'.repeat(2048)) },
    'GET /slow': (_q, res) => { setTimeout(() => json(res, 200, {}), 500) },
    'GET /err': (_q, res) => json(
      res,
      404,
      { error: { message: 'no such model', type: 'invalid_request_error', code: 'model_not_found' } },
      { 'x-request-id': 'req-1' }
    ),
    'POST /gen': (_q, res, _b, fk) => fk.generate(res, { token: (x) => `data: ${x}\n\n`, final: () => '', error: () => '' }),
  })
  t.teardown(() => f.close())
  return f
}

t.test('control calls: JSON, any status as text, redacted errors with the request id, size cap', async (t) => {
  const f = await fake(t)
  const c = new HttpClient()
  t.teardown(() => c.close())
  t.same(await c.json(`${f.url}/ok`), { ok: true })
  t.equal((await c.call(`${f.url}/err`)).status, 404)
  await t.rejects(c.json(`${f.url}/err`), { name: 'UpstreamError', message: /answered 404: no such model \(x-request-id req-1\)/ })
  await t.rejects(c.json(`${f.url}/text`), { message: /not JSON/ })
  await t.rejects(c.call(`${f.url}/big`, { maxBodyBytes: 100 }), { message: /more than 100 bytes/ })
  await t.rejects(c.json(`${f.url}/slow`, { timeoutMs: 50, attempts: 1 }), { message: /got no answer within 50 ms/ })
  const ac = new AbortController()
  const p = c.call(`${f.url}/slow`, { signal: ac.signal })
  ac.abort(new Error('caller gave up'))
  await t.rejects(p, /caller gave up/)
  t.same(c.origins(), [f.url], 'one Agent per origin, reused')
  const posted = await c.call(`${f.url}/gen`, { body: 'raw', headers: { 'x-a': '1' } })
  t.equal(posted.status, 200)
  t.equal(f.hits('/gen')[0]!.body, 'raw')
})

t.test('idempotent calls retry transport failures with jittered backoff; POSTs do not unless marked', async (t) => {
  const retries: RetryInfo[] = []
  const c = new HttpClient({ backoff: { baseMs: 1, capMs: 4 }, onRetry: (i) => retries.push(i), random: () => 0.5 })
  t.teardown(() => c.close())
  const url = `${(await refusedUrl()).replace('http://', 'http://user:pw@')}/x?api_key=zzz`
  await t.rejects(c.call(url, { context: { task_id: 't' } }), { name: 'UpstreamError', condition: 'connect_refused' } as never)
  t.same(retries.map((r) => [r.attempt, r.backoff_ms, r.reason, r.method]), [[2, 1, 'connect_refused', 'GET'], [3, 2, 'connect_refused', 'GET']])
  t.notMatch(JSON.stringify(retries), /user:pw|zzz/, 'the URL is redacted')
  retries.length = 0
  await t.rejects(c.call(url, { method: 'POST', body: {} }))
  t.equal(retries.length, 0)
  await t.rejects(c.call(url, { method: 'POST', body: {}, idempotent: true, attempts: 2 }))
  t.equal(retries.length, 1)
})

t.test('generation streams: 503/429 retried before any byte, Retry-After honoured within the deadline only', async (t) => {
  const f = await fake(t)
  const retries: RetryInfo[] = []
  const c = new HttpClient({ backoff: { baseMs: 1, capMs: 2 }, onRetry: (i) => retries.push(i) })
  t.teardown(() => c.close())
  const signal = new AbortController().signal
  f.faults.statuses.push({ status: 429, body: '{"error":"overloaded","error_type":"overloaded"}', headers: { 'retry-after-ms': '5' } })
  const res = await c.stream(`${f.url}/gen`, { body: {}, signal, deadlineAt: Date.now() + 5000 })
  const events = []
  for await (const e of sseEvents(res.body)) events.push(e.data)
  t.same(events, ['Hel', 'lo', ' wor', 'ld', ' 👋'])
  t.match(retries, [{ backoff_ms: 5, reason: 'http_429', upstream_status: 429 }])
  f.faults.statuses.push({ status: 503, body: '', headers: { 'retry-after': '30' } })
  await t.rejects(
    c.stream(`${f.url}/gen`, { body: {}, signal, deadlineAt: Date.now() + 1000 }),
    { condition: 'retry_after_past_deadline', status: 503 } as never
  )
  f.faults.statuses.push({ status: 503, body: '' })
  await t.rejects(c.stream(`${f.url}/gen`, { body: {}, signal, deadlineAt: Date.now() - 1 }), { condition: 'deadline' } as never)
  f.faults.statuses.push({ status: 400, body: '{"error":"bad"}' })
  await t.rejects(c.stream(`${f.url}/gen`, { body: {}, signal, deadlineAt: Date.now() + 1000 }), { condition: 'http_client_error' } as never)
  const ac = new AbortController()
  f.faults.headerDelayMs = 200
  const p = c.stream(`${f.url}/gen`, { body: {}, signal: ac.signal, deadlineAt: Date.now() + 1000 })
  ac.abort(new Error('stop'))
  await t.rejects(p, /stop/)
})

t.test('agents: HTTP/2 only for https by default, connect timeouts by locality; a closed client refuses; close destroys what still streams', async (t) => {
  const c = new HttpClient({ connections: 2 })
  t.ok(c.agentFor('https://api.example.test'))
  t.ok(c.agentFor('http://10.1.2.3:80'))
  t.equal(c.agentFor('https://api.example.test'), c.agentFor('https://api.example.test'))
  const f = await fake(t)
  f.faults.stallAfter = 1
  const res = await c.stream(`${f.url}/gen`, { body: {}, signal: new AbortController().signal, deadlineAt: Date.now() + 5000 })
  const reading = (async () => { try { await res.body.text() } catch {} })()
  const t0 = Date.now()
  await c.close(50)
  await reading
  t.ok(Date.now() - t0 < 2000, 'close does not wait for a stalled stream')
  t.throws(() => c.agentFor(f.url), /closed/)
})

t.test('Retry-After forms, backoff bounds, sleep with a signal', async (t) => {
  t.equal(parseRetryAfter({ 'retry-after-ms': '250' }), 250)
  t.equal(parseRetryAfter({ 'retry-after': '2' }), 2000)
  t.equal(parseRetryAfter({ 'retry-after': ['1.5'] }), 1500)
  t.equal(parseRetryAfter({ 'retry-after': new Date(10_000).toUTCString() }, 4000), 6000)
  t.equal(parseRetryAfter({ 'retry-after': new Date(0).toUTCString() }, 4000), 0)
  t.equal(parseRetryAfter({ 'retry-after': 'soon' }), undefined)
  t.equal(parseRetryAfter({ 'retry-after': '' }), undefined)
  t.equal(parseRetryAfter({}), undefined)
  for (let a = 1; a < 8; a++) {
    t.ok(retryDelayMs(a, DEFAULT_BACKOFF, () => 0.999) <= 2000)
    t.equal(retryDelayMs(a, DEFAULT_BACKOFF, () => 0), 0)
  }
  t.equal(retryDelayMs(1, DEFAULT_BACKOFF, () => 0.999), 199)
  const ac = new AbortController()
  const p = sleep(10_000, ac.signal)
  ac.abort(new Error('woken'))
  await t.rejects(p, /woken/)
  await t.rejects(sleep(1, ac.signal), /woken/)
  await sleep(1)
})

t.test('error bodies in every dialect', async (t) => {
  t.same(
    describeError({ error: { message: 'Loading model', type: 'unavailable_error', code: 503 } }),
    { message: 'Loading model', hint: { error_type: 'unavailable_error', code: '503' } }
  )
  t.same(describeError({ error: { type: 'x' } }), { message: '{"type":"x"}', hint: { error_type: 'x', code: undefined } })
  t.same(
    describeError({ error: 'Model is overloaded', error_type: 'overloaded' }),
    { message: 'Model is overloaded', hint: { error_type: 'overloaded', code: undefined } }
  )
  t.same(
    describeError({ object: 'error', message: 'bad', type: 'BadRequestError', code: 400 }),
    { message: 'bad', hint: { error_type: 'BadRequestError', code: '400' } }
  )
  t.same(describeError({ object: 'error' }), { message: 'error', hint: { error_type: undefined, code: undefined } })
  t.same(describeError([1], 'raw'), { message: 'raw', hint: {} })
  t.same(describeErrorText('<html>oops</html>'), { message: '<html>oops</html>', hint: {} })
  t.same(describeErrorText('{"error":"x"}').message, 'x')
  const e = new UpstreamError('http_503', 'down', { status: 503, retryAfterMs: 100 })
  t.same(e.toWorkerError('vllm'), { kind: 'POOL_UNAVAILABLE', message: 'down', retriable: true, engine: 'vllm', upstream_status: 503, retry_after_ms: 100 })
})
