import t from 'tap'
import type { Test } from 'tap'
import { collect, taskRequest } from '../../../test/helpers/adapter-conformance.js'
import { bindingFor } from '../../../test/helpers/conformance-targets.js'
import { FakeEngine } from '../../../test/fixtures/engines/fake-engine.js'
import { build } from '../../../test/helpers/build.js'
import { createHttpAdapter, AUTH_HOLD_MS } from '../http-adapter.js'
import type { EngineProtocol, GenerationStream } from '../protocol.js'
import { HttpClient } from '../../http-client/client.js'
import { Watchdog } from '../watchdog.js'
import { promSamples, firstValue } from '../prometheus.js'
import { resolveSecret } from '../options.js'
import { frameJson, callOpts } from '../control.js'
import { narrateRetry, timeoutsFor } from '../plugin.js'

const opts = (signal = new AbortController().signal) => ({ signal, deadlineAt: Date.now() + 10_000, poolId: 'p0', replicaId: 'r0' })
const sse = { token: (x: string) => `data: {"t":${JSON.stringify(x)}}\n\n`, final: () => 'data: {"end":true}\n\n', error: () => '' }

/** A minimal protocol over a FakeEngine route: `{"t"}` frames, `{"end"}` terminal. */
function proto (url: string, frame?: GenerationStream['frame'], extra: Partial<EngineProtocol> = {}): EngineProtocol {
  return {
    engine: 'kit',
    baseUrl: url,
    open: () => ({
      path: '/gen',
      body: {},
      frame: frame ?? ((data, _e, sink) => {
        const v = JSON.parse(data)
        if (v.t !== undefined) sink.token(v.t)
        if (v.end) sink.end({ stop_reason: 'eos' })
      }),
    }),
    health: async () => ({ live: true, ready: true }),
    props: async () => ({ slots_total: 1, slots_free: 1 }),
    engineVersion: async () => 'k1',
    ...extra,
  }
}

async function setup (t: Test, frame?: GenerationStream['frame'], extra: Partial<EngineProtocol> = {}, now?: () => number) {
  const fake = await FakeEngine.start({ 'POST /gen': (_q, res, _b, f) => f.generate(res, sse) })
  const client = new HttpClient({ backoff: { baseMs: 1, capMs: 2 } })
  const adapter = createHttpAdapter(proto(fake.url, frame, extra), bindingFor('kit', fake.url), client, { firstTokenMs: 5000, idleMs: 5000 }, now)
  t.teardown(async () => { await adapter.close(); await client.close(); await fake.close() })
  return { fake, adapter }
}

t.test('the consumer leaving early closes the upstream request', async (t) => {
  const { fake, adapter } = await setup(t)
  fake.faults.tokens = Array.from({ length: 50 }, (_, i) => `${i}`)
  fake.faults.tokenDelayMs = 10
  for await (const e of adapter.submit(taskRequest('kit'), opts())) if (e.kind === 'token' && e.data.i === 1) break
  for (let i = 0; i < 100 && fake.streams[0]?.disconnectedAt == null; i++) await new Promise((resolve) => setTimeout(resolve, 10))
  t.not(fake.streams[0]?.disconnectedAt, null)
})

t.test('a canceled end counts the tokens delivered, not those decoded from the same chunk and dropped (D15)', async (t) => {
  // one engine frame carrying two tokens: both are decoded before the consumer sees the first
  const twoPerFrame: GenerationStream['frame'] = (data, _e, sink) => {
    const v = JSON.parse(data)
    if (v.t !== undefined) { sink.token(v.t); sink.token(`${v.t}'`) }
    if (v.end) sink.end({ stop_reason: 'eos' })
  }
  const { fake, adapter } = await setup(t, twoPerFrame)
  fake.faults.tokens = ['a', 'b', 'c']
  const r = taskRequest('kit')
  const events = await collect(adapter.submit(r, opts()), async (e) => { if (e.kind === 'token' && e.data.i === 0) await adapter.cancel(r.task_id) })
  t.same(events.filter((e) => e.kind === 'token').map((e) => e.data), [{ t: 'a', i: 0 }])
  t.match(events.at(-1), { kind: 'end', data: { stop_reason: 'canceled', tokens_out: 1 } })
})

t.test('close() ends streams in flight as canceled; cancel of an unknown task is a no-op', async (t) => {
  const { fake, adapter } = await setup(t)
  fake.faults.tokens = Array.from({ length: 50 }, (_, i) => `${i}`)
  fake.faults.tokenDelayMs = 10
  await adapter.cancel('nope')
  const events = await collect(adapter.submit(taskRequest('kit'), opts()), async (e) => { if (e.kind === 'token' && e.data.i === 0) await adapter.close() })
  t.match(events.at(-1), { kind: 'end', data: { stop_reason: 'canceled' } })
})

t.test('a canceled request before any answer ends canceled; a frame handler bug is INTERNAL; open() refusing is mapped', async (t) => {
  const { fake, adapter } = await setup(t, () => { throw new TypeError('bug') })
  fake.faults.headerDelayMs = 200
  const ac = new AbortController()
  setTimeout(() => ac.abort(), 20)
  t.same(
    await collect(adapter.submit(taskRequest('kit'), opts(ac.signal))),
    [{ kind: 'end', data: { tokens_out: 0, decode_time_ms: 0, stop_reason: 'canceled' } }]
  )
  fake.faults.headerDelayMs = 0
  t.match((await collect(adapter.submit(taskRequest('kit'), opts()))).at(-1), { kind: 'error', data: { kind: 'INTERNAL', message: /kit adapter failure: bug/ } })
  const refusing = await setup(t, undefined, { open: () => { throw new Error('cannot express this') } })
  t.match(await collect(refusing.adapter.submit(taskRequest('kit'), opts())), [{ kind: 'error', data: { kind: 'INTERNAL', message: /cannot express this/ } }])
})

t.test('transport errors mid-body are WORKER_RESET whatever their shape', async (t) => {
  const errors = [Object.assign(new Error('x'), { code: 'ECONNRESET' }), new Error('terminated'), Object.assign(new Error('aborted'), { name: 'AbortError' })]
  for (const err of errors) {
    const { adapter } = await setup(t, () => { throw err })
    t.match((await collect(adapter.submit(taskRequest('kit'), opts()))).at(-1), { kind: 'error', data: { kind: 'WORKER_RESET' } }, err.message)
  }
})

t.test('after a 401 the adapter reads not ready for AUTH_HOLD_MS; metrics frames pass through; extras join the adapter', async (t) => {
  let now = 1_000_000
  const { fake, adapter } = await setup(t, (data, _e, sink) => {
    const v = JSON.parse(data)
    if (v.t) { sink.metrics({ seen: v.t }); sink.token(v.t) }
    if (v.end) sink.end({ stop_reason: 'eos', tokens_in: 3 })
  }, {
    extras: { hello: () => 'hi' }, scrapeMetrics: async () => ({ kv_cache_usage_ratio: 0.1 }), capabilities: async () => ({ ctx_max: 1 }),
  }, () => now)
  const ok = await collect(adapter.submit(taskRequest('kit'), opts()))
  t.match(ok.find((e) => e.kind === 'metrics'), { data: { seen: 'Hel' } })
  t.match(ok.at(-1), { kind: 'end', data: { tokens_in: 3, tokens_out: 5 } })
  t.equal((adapter as unknown as { hello (): string }).hello(), 'hi')
  t.same(await adapter.scrapeMetrics!(), { kv_cache_usage_ratio: 0.1 })
  t.same(await adapter.capabilities!(), { ctx_max: 1 })
  fake.faults.statuses.push({ status: 403, body: '{"error":"forbidden"}' })
  t.match(await collect(adapter.submit(taskRequest('kit'), opts())), [{ kind: 'error', data: { upstream_status: 403 } }])
  t.same(await adapter.health(), { live: true, ready: false })
  now += AUTH_HOLD_MS
  t.same(await adapter.health(), { live: true, ready: true })
})

t.test('the watchdog: wall before first token, re-arming when the first token brings the idle due forward', async (t) => {
  const fired: string[] = []
  const w = new Watchdog({ now: Date.now, firstTokenMs: 10_000, idleMs: 20, wallAt: Date.now() + 10_000, onFire: (r) => fired.push(r) })
  w.token()
  await new Promise((resolve) => setTimeout(resolve, 60))
  t.same(fired, ['idle_timeout'])
  const w2 = new Watchdog({ now: Date.now, firstTokenMs: 10_000, idleMs: 10_000, wallAt: Date.now() + 20, onFire: (r) => fired.push(r) })
  await new Promise((resolve) => setTimeout(resolve, 60))
  t.same(fired, ['idle_timeout', 'deadline'])
  w2.stop()
  let clock = 0
  const w3 = new Watchdog({ now: () => clock, firstTokenMs: 10, idleMs: 10, wallAt: Infinity, onFire: (r) => fired.push(r) })
  w3.resume()
  await new Promise((resolve) => setTimeout(resolve, 30))
  t.equal(fired.length, 2, 'the clock has not moved: the timer re-arms instead of firing')
  clock = 50
  await new Promise((resolve) => setTimeout(resolve, 30))
  t.same(fired.at(-1), 'first_token_timeout')
})

t.test('helpers: Prometheus samples, secrets from options or env, frame JSON, call options, timeouts from the pool', async (t) => {
  const text = '# HELP a x\n# TYPE a gauge\na{x="1",y="q\\"uote"} 0.5 1700000000\nb 2\nbad\nc{z="1"} NaN\n{odd} 1\n'
  t.same(promSamples(text, new Set(['a', 'b', 'c'])), [{ name: 'a', labels: { x: '1', y: 'q"uote' }, value: 0.5 }, { name: 'b', labels: {}, value: 2 }])
  t.equal(firstValue(promSamples(text, new Set(['b'])), ['a', 'b']), 2)
  t.equal(firstValue([], ['a']), undefined)
  t.equal(resolveSecret({ api_key: 'k' }), 'k')
  t.equal(resolveSecret({ api_key_env: 'X' }, { X: 'v' }), 'v')
  t.equal(resolveSecret({ api_key_env: 'X' }, { X: '' }), undefined)
  t.equal(resolveSecret({}), undefined)
  t.same(frameJson('{"a":1}'), { a: 1 })
  t.throws(() => frameJson('null'), SyntaxError)
  const ac = new AbortController()
  t.same(callOpts({ signal: ac.signal, timeoutMs: 5 }), { signal: ac.signal, timeoutMs: 5 })
  t.same(callOpts(), {})
  const http = { first_token_timeout_ms: 1, idle_timeout_ms: 2 } as never
  t.same(timeoutsFor(http, bindingFor('x', '').pool), { firstTokenMs: 1, idleMs: 2, wallMs: null })
  t.same(timeoutsFor(http, bindingFor('x', '', { timeouts: { idle_ms: 7, wall_ms: 9 } }).pool), { firstTokenMs: 1, idleMs: 7, wallMs: 9 })
})

t.test('retries are narrated by the adapter host voice, with the ids and no secret', async (t) => {
  const { app, capture } = await build(t)
  narrateRetry(app, 'vllm', { method: 'POST', url: 'http://u:p@h/x', attempt: 2, backoff_ms: 150, reason: 'http_503', upstream_status: 503, context: { task_id: 't1', pool_id: 'p' } })
  narrateRetry(app, 'vllm', { method: 'GET', url: 'http://h/x', attempt: 3, backoff_ms: 10, reason: 'connect_refused', context: {} })
  t.match(capture.find({ action: 'retry' }), [
    { actor: 'adapter-host', target: 'vllm', task_id: 't1', attempt: 2, backoff_ms: 150, upstream_status: 503 },
    { attempt: 3, reason: 'connect_refused' },
  ])
  t.notMatch(capture.text(), /u:p@/)
})
