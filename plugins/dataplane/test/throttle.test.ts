import t from 'tap'
import { f0 } from '../../../test/fixtures/dataplane.js'
import { Throttle } from '../throttle.js'

t.test('token bucket: burst, refill at the rate, the wait until the next token, pruning full buckets', async (t) => {
  const th = new Throttle(2, 3) // 2 per second, 3 at once
  t.same([th.take('a', 0), th.take('a', 0), th.take('a', 0)], [0, 0, 0], 'the burst')
  t.equal(th.take('a', 0), 500, 'then one token per 500 ms')
  t.equal(th.take('a', 200), 300)
  t.equal(th.take('a', 500), 0, 'refilled')
  t.equal(th.take('b', 500), 0, 'clients are independent')
  t.equal(th.clients, 2)
  th.prune(1000)
  t.equal(th.clients, 1, 'b is full again and forgotten; a is not')
  th.prune(5000)
  t.equal(th.clients, 0)
  t.same([th.take('c', 10_000), th.take('c', 10_000), th.take('c', 10_000)], [0, 0, 0])
  t.equal(th.take('c', 9000), 500, 'a clock stepping back adds no token')
  t.equal(th.take('c', 10_000), 500, 'nor moves the refill origin back')
})

t.test('queue.throttle: over the rate a client gets 429 ADMISSION_REJECT rate-limit with retry advice; other keys are not affected (ORCH-3006)', async (t) => {
  const keys = ['sk-live-0123456789abcdef', 'another-key']
  const h = await f0(t, { manifest: { auth: { api_keys: keys }, queue: { throttle: { tasks_per_s: 1, burst: 2 } } }, mock: { tokens: ['x'] } })
  const key = { 'x-api-key': keys[0]! }
  t.equal((await h.post(h.task(), key)).status, 202)
  t.equal((await h.post(h.task(), key)).status, 202)
  const refused = await h.post(h.task(), key)
  t.equal(refused.status, 429)
  t.match(refused.json, { code: 'ADMISSION_REJECT', retriable: true, retry_after_ms: 1000, policy_label: 'rate-limit' })
  t.equal(refused.headers['retry-after'], '1')
  t.equal(refused.headers['x-backoff-ms'], '1000')
  t.equal((await h.post(h.task(), { 'x-api-key': keys[1]! })).status, 202, 'another key has its own bucket')
  t.equal(await h.metric(/^admission_backpressure_events_total\{engine="llamacpp",policy="rate-limit"\}/), 1)
  t.equal(await h.metric(/^tasks_rejected_total\{engine="llamacpp",reason="ADMISSION_REJECT"\}/), 1)
  h.clock.advance(1000)
  t.equal((await h.post(h.task(), key)).status, 202, 'a token refilled after the advised wait')
  t.notOk(h.capture.text().includes(keys[0]!), 'the key is never logged')
})

t.test('issue 10 #6: with auth off the throttle is keyed by address, so a fresh X-API-Key per request buys no new bucket', async (t) => {
  const h = await f0(t, { manifest: { queue: { throttle: { tasks_per_s: 1, burst: 2 } } }, mock: { tokens: ['x'] } })
  const statuses: number[] = []
  for (let i = 0; i < 5; i++) statuses.push((await h.post(h.task(), { 'x-api-key': `minted-${i}` })).status)
  t.same(statuses, [202, 202, 429, 429, 429], 'the burst of 2 is the address\'s, whatever key each request sends')
  t.equal((await h.post(h.task())).status, 429, 'no key: the same address, the same bucket')
})
