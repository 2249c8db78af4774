// The package's own tests: node's built-in runner, no llama-orch needed (`npm test` here).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import plugin, { extension, createEchoAdapter, ENGINE_VERSION } from '../index.js'

const options = { slots: 2, token_delay_ms: 0, ctx_max: 4096 }
const binding = { poolId: 'p0', replicaId: 'r0', baseUrl: 'http://127.0.0.1:1', pool: {} }
const req = (extra = {}) => ({ task_id: 't1', session_id: 's', workload: 'completion', model_ref: 'echo', engine: 'echo', ctx: 0, priority: 'interactive', prompt: 'one two three', max_tokens: 16, deadline_ms: 1000, ...extra })
const opts = (signal = new AbortController().signal) => ({ signal, deadlineAt: Date.now() + 10_000, poolId: 'p0', replicaId: 'r0' })

async function collect (it, each) {
  const out = []
  for await (const e of it) { out.push(e); await each?.(e) }
  return out
}

test('the descriptor is an adapter for engine echo at extension API 1', () => {
  assert.equal(extension.kind, 'adapter')
  assert.equal(extension.apiVersion, 1)
  assert.deepEqual(extension.engines, ['echo'])
})

test('the plugin registers a factory for echo', async () => {
  const added = []
  await plugin({ adapters: { add: (f) => added.push(f) } }, options)
  assert.equal(added[0].engine, 'echo')
  assert.equal(added[0].create(binding).engine, 'echo')
})

test('streams started, one token per word with i from 0, then end', async () => {
  const events = await collect(createEchoAdapter(binding, options).submit(req(), opts()))
  assert.deepEqual(events.map((e) => e.kind), ['started', 'token', 'token', 'token', 'end'])
  assert.deepEqual(events.filter((e) => e.kind === 'token').map((e) => [e.data.i, e.data.t]), [[0, 'one '], [1, 'two '], [2, 'three']])
  assert.equal(events[0].data.engine_version, ENGINE_VERSION)
  assert.equal(events.at(-1).data.tokens_out, 3)
  assert.equal(events.at(-1).data.stop_reason, 'eos')
})

test('max_tokens cuts the stream with stop_reason length', async () => {
  const events = await collect(createEchoAdapter(binding, options).submit(req({ max_tokens: 2 }), opts()))
  assert.equal(events.at(-1).data.stop_reason, 'length')
  assert.equal(events.at(-1).data.tokens_out, 2)
})

test('cancel: no token after it, the stream ends canceled', async () => {
  const a = createEchoAdapter(binding, { ...options, token_delay_ms: 20 })
  let canceled = false
  let after = 0
  const events = await collect(a.submit(req({ prompt: 'a b c d e f g h' }), opts()), async (e) => {
    if (canceled && e.kind === 'token') after++
    if (e.kind === 'token' && e.data.i === 1) { canceled = true; await a.cancel('t1') }
  })
  assert.equal(after, 0)
  assert.equal(events.at(-1).data.stop_reason, 'canceled')
  assert.equal(events.at(-1).data.tokens_out, 2)
})

test('a closed adapter reports not ready and yields a retriable error', async () => {
  const a = createEchoAdapter(binding, options)
  await a.close()
  assert.deepEqual(await a.health(), { live: false, ready: false })
  const events = await collect(a.submit(req(), opts()))
  assert.equal(events.length, 1)
  assert.equal(events[0].data.kind, 'POOL_UNAVAILABLE')
})
