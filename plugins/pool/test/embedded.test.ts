import t from 'tap'
import fp from 'fastify-plugin'
import { Type } from 'typebox'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import type { FastifyInstance } from 'fastify'
import { BUILTINS } from '../../../core/builtins.js'
import { build } from '../../../test/helpers/build.js'
import { writeTinyModel } from '../../../extensions/provider-embedded/tiny-file.js'
import { engineVersion } from '../../../extensions/provider-embedded/version.js'
import { waitFor } from './helpers.js'

// The real embedded engine (node-llama-cpp in a child process) under the pool manager. The
// `llamacpp` adapter belongs to the adapters issue: a stand-in built-in satisfies the boot's
// engine-coverage check here; tasks go to the worker over HTTP directly.
const stubAdapter = {
  extension: { kind: 'adapter', apiVersion: 1, engines: ['llamacpp'], optionsSchema: Type.Object({}) },
  default: fp(async (app: FastifyInstance) => {
    app.adapters.add({
      engine: 'llamacpp',
      // bound by the pool manager at Ready; tasks in this file go to the worker directly
      create: () => ({
        engine: 'llamacpp',
        health: async () => ({ live: true, ready: true }),
        props: async () => ({ slots_total: 1, slots_free: 1 }),
        engineVersion: async () => 'stand-in',
        cancel: async () => {},
        close: async () => {},
        async * submit () {},
      }),
    })
  }, { name: 'test-llamacpp', dependencies: ['orc.adapters'] }),
}
t.setTimeout(180_000) // real engine processes on a shared 2-core machine

const builtins = { adapter: { ...BUILTINS.adapter, 'test-llamacpp': async () => stubAdapter }, provisioner: BUILTINS.provisioner }

const root = await mkdtemp(join(tmpdir(), 'orc-embedded-'))
await writeTinyModel(join(root, 'tiny.gguf'))
await writeTinyModel(join(root, 'tiny-256.gguf'), { ctx: 256 })

async function complete (app: FastifyInstance, prompt: string): Promise<string> {
  const base = new URL(app.pool.manager('tiny')!.current!.prepared.health.url).origin
  const res = await request(`${base}/completion`, { method: 'POST', body: JSON.stringify({ prompt, temperature: 0, n_predict: 16 }) })
  return (await res.body.json() as { content: string }).content
}

t.test('an embedded pool on the tiny model: preload, Ready, crash and restart, atomic reload, drain', async (t) => {
  const { app, capture } = await build(t, {
    providers: ['embedded'],
    adapters: ['test-llamacpp'],
    catalog: { root },
    pools: [{
      id: 'tiny',
      engine: 'llamacpp',
      model: 'tiny',
      devices: [],
      provisioning: { mode: 'embedded', compute_policy: 'cpu-only', model: { ref: 'tiny.gguf' } },
      supervision: { backoff_initial_ms: 50, backoff_max_ms: 200 },
      health_check: { interval_ms: 200, timeout_ms: 1000, startup_timeout_ms: 30_000, failure_threshold: 3 },
    }],
  }, { builtins })
  t.equal((await app.inject({ url: '/readyz' })).statusCode, 503, 'Unready while it preloads')
  await waitFor('Ready', () => app.pool.status('tiny')?.ready, 30_000)
  t.equal((await app.inject({ url: '/readyz' })).statusCode, 200)
  const health = (await app.inject({ url: '/v1/pools/tiny/health' })).json()
  t.match(health, {
    ready: true,
    engine: 'llamacpp',
    engine_version: engineVersion(),
    compute_mode: 'cpu',
    model_id: `file:${root}/tiny.gguf`,
    metrics: { slots_total: 1 },
  })
  t.ok(health.metrics.perf_tokens_per_s > 0 && health.metrics.first_token_ms > 0,
    `perf hints: ${health.metrics.perf_tokens_per_s} tok/s, first token ${health.metrics.first_token_ms} ms`)
  t.equal(await complete(app, 'Count: 3'), '456789')

  const pid = app.pool.manager('tiny')!.current!.replica.pid!
  process.kill(pid, 'SIGKILL')
  await waitFor('Unready', () => !app.pool.status('tiny')!.ready)
  t.equal((await app.inject({ url: '/readyz' })).statusCode, 503)
  await waitFor('Ready again', () => app.pool.status('tiny')?.ready, 30_000)
  t.equal(await complete(app, 'Count: 6'), '789', 'a new task succeeds after the restart')

  await app.inject({ method: 'POST', url: '/v1/pools/tiny/reload', payload: { new_model_ref: 'missing.gguf' } })
  await waitFor('the failed reload', () => app.pool.manager('tiny')!.operation?.state === 'failed')
  t.match((await app.inject({ url: '/v1/pools/tiny/health' })).json(), { ready: true, model_id: `file:${root}/tiny.gguf`, last_error: /^reload to missing\.gguf failed/ })
  t.equal(await complete(app, 'Count: 3'), '456789', 'the old model keeps serving')

  const res = await app.inject({ method: 'POST', url: '/v1/pools/tiny/reload', payload: { new_model_ref: 'tiny-256.gguf' } })
  t.equal(res.statusCode, 202)
  const during: string[] = []
  while (app.pool.manager('tiny')!.operation?.state === 'running') {
    during.push(await complete(app, 'Count: 3'))
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  t.ok(during.length > 0 && during.every((c) => c === '456789'), `${during.length} tasks during the reload all succeeded`)
  t.match((await app.inject({ url: '/v1/pools/tiny/health' })).json(), {
    ready: true,
    model_id: `file:${root}/tiny-256.gguf`,
    last_error: null,
    operation: { state: 'succeeded' },
  })
  t.equal(await complete(app, 'Count: 3'), '456789')

  await app.inject({ method: 'POST', url: '/v1/pools/tiny/drain', payload: { deadline_ms: 2000 } })
  await waitFor('drained', () => app.pool.registry.get('tiny')?.state === 'Stopped')
  t.match((await app.inject({ url: '/v1/pools/tiny/health' })).json(), { draining: true, ready: false, state: 'Stopped' })
  const actions = new Set(capture.records().filter((r) => r.actor === 'pool-managerd').map((r) => r.action))
  for (const a of ['preload', 'ready', 'crash', 'unready', 'backoff', 'restart', 'reload', 'drain']) t.ok(actions.has(a), `narrates ${a}`)
})
