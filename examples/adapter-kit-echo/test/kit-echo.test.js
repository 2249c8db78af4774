// The package's own tests: node's built-in runner against a fake kit-echo engine on a real
// socket, so the adapter is exercised through the kit's HttpClient and SSE decoder as in
// production (`npm test` here; needs llama-orch built, since the kit is imported from its dist/).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { randomUUID } from 'node:crypto'
import { standaloneAdapter } from 'llama-orch/adapter-kit'
import { EXTENSION_API } from 'llama-orch/sdk'
import plugin, { ENGINE, KitEchoOptions, extension, kitEchoProtocol } from '../index.js'

const VERSION = 'kit-echo-1.0.0'

/**
 * The engine: echoes the prompt back one word per frame. `fault` makes the next requests fail
 * the ways the tests need: `503` (still loading), `cut` (the body ends after two tokens, no
 * final frame), `error` (an `event: error` frame after one token), `error-field` (the same
 * failure as an `error` object in a plain data frame). `bare` is an older build: a final
 * frame with no stop_type or counts; `props` replaces the /props answer.
 */
async function fakeEngine (t) {
  const hits = []
  const state = { fault: undefined, bare: false, props: { version: VERSION, total_slots: 2, idle_slots: 2, n_ctx: 4096 }, hits }
  const server = createServer((req, res) => {
    let raw = ''
    req.on('data', (c) => { raw += c })
    req.on('end', () => {
      hits.push({ method: req.method, url: req.url, body: raw === '' ? undefined : JSON.parse(raw), headers: req.headers })
      if (req.url === '/health') return reply(res, 200, { status: 'ok' })
      if (req.url === '/props') return reply(res, 200, state.props)
      if (req.method !== 'POST' || req.url !== '/completion') return reply(res, 404, { error: { message: 'not found' } })
      if (state.fault === '503') return reply(res, 503, { error: { code: 503, message: 'Loading model', type: 'unavailable_error' } })
      const body = JSON.parse(raw)
      const words = body.prompt.split(/(?<= )/).filter(Boolean)
      const out = words.slice(0, body.n_predict)
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      for (const [i, content] of out.entries()) {
        if (state.fault === 'cut' && i === 2) return res.end()
        if (state.fault === 'error' && i === 1) {
          res.write(`event: error\ndata: ${JSON.stringify({ code: 500, message: 'the engine ran out of memory' })}\n\n`)
          return res.end()
        }
        if (state.fault === 'error-field' && i === 1) {
          res.write(`data: ${JSON.stringify({ error: { code: 500, message: 'the engine ran out of memory' } })}\n\n`)
          return res.end()
        }
        res.write(`data: ${JSON.stringify({ content, stop: false })}\n\n`)
      }
      const stopType = out.length < words.length ? 'limit' : 'eos'
      const final = state.bare ? { stop: true } : { content: '', stop: true, stop_type: stopType, tokens_predicted: out.length, tokens_evaluated: words.length }
      res.end(`data: ${JSON.stringify(final)}\n\n`)
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve) }))
  state.url = `http://127.0.0.1:${server.address().port}`
  return state
}

function reply (res, status, value) {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(value))
}

/** An adapter for the engine through the kit, options validated and defaulted as a manifest entry's. */
function adapterFor (t, engine, raw = {}) {
  const binding = { poolId: 'p0', replicaId: 'r0', baseUrl: engine.url, pool: { id: 'p0', engine: ENGINE, model: 'echo' } }
  // backoff in milliseconds: a retried 503 must not slow the test down
  const { adapter, client } = standaloneAdapter(
    KitEchoOptions,
    kitEchoProtocol,
    binding,
    { ...raw, http: { backoff_base_ms: 1, backoff_cap_ms: 2, ...raw.http } }
  )
  t.after(async () => { await adapter.close(); await client.close() })
  return adapter
}

const task = (extra = {}) => ({
  task_id: randomUUID(),
  session_id: randomUUID(),
  workload: 'completion',
  model_ref: 'echo',
  engine: ENGINE,
  ctx: 0,
  priority: 'interactive',
  prompt: 'one two three',
  max_tokens: 16,
  deadline_ms: 10_000,
  ...extra,
})
const opts = () => ({ signal: new AbortController().signal, deadlineAt: Date.now() + 10_000, poolId: 'p0', replicaId: 'r0' })

async function collect (it) {
  const out = []
  for await (const e of it) out.push(e)
  return out
}

test('the descriptor is an adapter for engine kit-echo at the host\'s extension API', () => {
  assert.equal(extension.kind, 'adapter')
  assert.equal(extension.apiVersion, EXTENSION_API)
  assert.deepEqual(extension.engines, ['kit-echo'])
  assert.equal(extension.optionsSchema, KitEchoOptions)
})

test('the plugin registers a factory for kit-echo and closes its client with the app', async () => {
  const added = []
  const hooks = []
  const app = { adapters: { add: (f) => added.push(f) }, addHook: (name, fn) => hooks.push([name, fn]) }
  await plugin(app, {
    http: {
      connections: 1,
      request_timeout_ms: 1000,
      first_token_timeout_ms: 1000,
      idle_timeout_ms: 1000,
      attempts: 1,
      backoff_base_ms: 1,
      backoff_cap_ms: 1,
    },
  })
  assert.equal(added[0].engine, 'kit-echo')
  assert.equal(added[0].create({ poolId: 'p0', replicaId: 'r0', baseUrl: 'http://127.0.0.1:1', pool: { id: 'p0' } }).engine, 'kit-echo')
  assert.deepEqual(hooks.map(([name]) => name), ['onClose'])
  await hooks[0][1]()
})

test('streams started, one token per frame with i from 0, then end with the engine\'s counts', async (t) => {
  const engine = await fakeEngine(t)
  const adapter = adapterFor(t, engine)
  const events = await collect(adapter.submit(task({ seed: 42 }), opts()))
  assert.deepEqual(events.map((e) => e.kind), ['started', 'token', 'token', 'token', 'end'])
  assert.deepEqual(events[0].data, { engine: 'kit-echo', engine_version: VERSION, seed: 42, pool_id: 'p0', replica_id: 'r0' })
  assert.deepEqual(events.filter((e) => e.kind === 'token').map((e) => [e.data.i, e.data.t]), [[0, 'one '], [1, 'two '], [2, 'three']])
  assert.equal(events[4].data.stop_reason, 'eos')
  assert.equal(events[4].data.tokens_out, 3)
  assert.equal(events[4].data.tokens_in, 3)
  const sent = engine.hits.find((h) => h.url === '/completion')
  assert.deepEqual(sent.body, { prompt: 'one two three', n_predict: 16, seed: 42, temperature: 0, stream: true })
  assert.equal(sent.headers.accept, 'text/event-stream')
})

test('max_tokens reached: stop_type limit ends with stop_reason length', async (t) => {
  const engine = await fakeEngine(t)
  const events = await collect(adapterFor(t, engine).submit(task({ max_tokens: 2 }), opts()))
  assert.deepEqual(events.map((e) => e.kind), ['started', 'token', 'token', 'end'])
  assert.equal(events.at(-1).data.stop_reason, 'length')
  assert.equal(events.at(-1).data.tokens_out, 2)
})

test('an engine answering 503 is retried before the first byte, then yields a retriable POOL_UNAVAILABLE error', async (t) => {
  const engine = await fakeEngine(t)
  engine.fault = '503'
  const events = await collect(adapterFor(t, engine, { http: { attempts: 2 } }).submit(task(), opts()))
  assert.equal(events.length, 1, 'no started: the engine never streamed')
  assert.equal(events[0].kind, 'error')
  assert.equal(events[0].data.kind, 'POOL_UNAVAILABLE')
  assert.equal(events[0].data.retriable, true)
  assert.equal(events[0].data.upstream_status, 503)
  assert.equal(events[0].data.engine, 'kit-echo')
  assert.equal(engine.hits.filter((h) => h.url === '/completion').length, 2, 'http.attempts tries in all')
})

test('a stream that closes without its final frame ends in WORKER_RESET after the tokens it sent', async (t) => {
  const engine = await fakeEngine(t)
  engine.fault = 'cut'
  const events = await collect(adapterFor(t, engine).submit(task({ prompt: 'a b c d e' }), opts()))
  assert.deepEqual(events.map((e) => e.kind), ['started', 'token', 'token', 'error'])
  assert.equal(events.at(-1).data.kind, 'WORKER_RESET')
  assert.equal(events.at(-1).data.retriable, false)
})

test('an error frame mid-stream, in either dialect, is an ADAPTER error carrying the engine\'s message', async (t) => {
  const engine = await fakeEngine(t)
  const adapter = adapterFor(t, engine)
  for (const fault of ['error', 'error-field']) {
    engine.fault = fault
    const events = await collect(adapter.submit(task(), opts()))
    assert.deepEqual(events.map((e) => e.kind), ['started', 'token', 'error'], fault)
    assert.equal(events.at(-1).data.kind, 'ADAPTER', fault)
    assert.match(events.at(-1).data.message, /mid-stream: the engine ran out of memory/, fault)
  }
})

test('an older build: inputs for a prompt, a bare final frame (EOS, tokens counted by the kit), sparse /props', async (t) => {
  const engine = await fakeEngine(t)
  engine.bare = true
  engine.props = { total_slots: 'n/a' }
  const adapter = adapterFor(t, engine, { slots: 3 })
  const events = await collect(adapter.submit(task({ prompt: undefined, inputs: ['one', 'two'] }), opts()))
  assert.equal(engine.hits.find((h) => h.url === '/completion').body.prompt, 'one\ntwo')
  assert.equal(events[0].data.engine_version, 'unknown', 'a failed version lookup does not fail the task')
  const end = events.at(-1)
  assert.equal(end.data.stop_reason, 'eos')
  assert.equal(end.data.tokens_out, 1)
  assert.equal('tokens_in' in end.data, false, 'left out, not guessed')
  assert.deepEqual(await adapter.props(), { slots_total: 3, slots_free: null, ctx_max: null, engine_version: null })
  assert.deepEqual(await adapter.capabilities(), {
    ctx_max: null,
    slots_total: 3,
    engine_version: null,
    supported_workloads: ['completion'],
    features: { streaming: true, cancel: true, seed: true },
  })
  await assert.rejects(adapter.engineVersion(), { code: 'ORC_ERR_ADAPTER_NO_ENGINE_VERSION', message: /kit-echo \/props has no version, so the engine version is unknown/ })
})

test('health, props, engineVersion and capabilities come from /health and /props; the key is sent as a bearer token', async (t) => {
  const engine = await fakeEngine(t)
  const adapter = adapterFor(t, engine, { api_key: 'sk-kit-echo-test' })
  assert.deepEqual(await adapter.health(), { live: true, ready: true })
  assert.deepEqual(await adapter.props(), { slots_total: 2, slots_free: 2, ctx_max: 4096, engine_version: VERSION })
  assert.equal(await adapter.engineVersion(), VERSION)
  assert.equal((await adapter.capabilities()).ctx_max, 4096)
  assert.ok(engine.hits.every((h) => h.headers.authorization === 'Bearer sk-kit-echo-test'))
})
