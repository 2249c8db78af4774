import t, { type Test } from 'tap'
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { build } from '../../../test/helpers/build.js'
import { fakeLlamaServer, LLAMA_BUILD } from '../../../test/fixtures/engines/llama-server.js'
import { waitFor } from './helpers.js'

/** An app with one external llama.cpp pool on a fake llama-server; `loading`: its /health answers 503. */
async function startExternal (t: Test, o: { buildInfo?: boolean, policy?: string, loading?: boolean, startupMs?: number } = {}) {
  const root = await mkdtemp(join(tmpdir(), 'orc-external-'))
  t.teardown(() => rm(root, { recursive: true, force: true }))
  await writeFile(join(root, 'tiny.gguf'), 'GGUF\x03\x00\x00\x00')
  const engine = await fakeLlamaServer({ buildInfo: o.buildInfo ?? true })
  t.teardown(() => engine.close())
  if (o.loading) engine.faults.healthStatus = 503
  const port = Number(new URL(engine.url).port)
  const { app } = await build(t, {
    adapters: ['llamacpp'],
    catalog: { root },
    pools: [{
      id: 'ext',
      engine: 'llamacpp',
      model: 'tiny',
      devices: [],
      provisioning: { mode: 'external', compute_policy: o.policy ?? 'cpu-only', host: '127.0.0.1', ports: [port], model: { ref: 'tiny.gguf' } },
      health_check: { interval_ms: 50, timeout_ms: 500, startup_timeout_ms: o.startupMs ?? 3000, failure_threshold: 3 },
    }],
  })
  return { app, engine, root }
}

async function externalLlama (t: Test, buildInfo: boolean, policy: string) {
  const { app } = await startExternal(t, { buildInfo, policy })
  await waitFor('Ready', () => app.pool.status('ext')?.ready)
  return (await app.inject({ url: '/v1/pools/ext/health' })).json()
}

t.test('issue 10 #13: an external llama-server reports the build_info of its /props, and compute mode unknown (not a guess from compute_policy)', async (t) => {
  const health = await externalLlama(t, true, 'cpu-fallback')
  t.match(health, { engine: 'llamacpp', engine_version: LLAMA_BUILD, compute_mode: null })
})

t.test('issue 10 #13: an external engine that says no version is unknown, never "external"', async (t) => {
  const health = await externalLlama(t, false, 'cpu-only')
  t.match(health, { engine_version: null, compute_mode: null }, 'cpu-only is the operator\'s policy, not what the engine says')
})

t.test('closing the app while an external engine still loads stops the health wait: no probe, no write after close', async (t) => {
  const { app, engine, root } = await startExternal(t, { loading: true, startupMs: 60_000 })
  await waitFor('the engine probed', () => engine.hits('/health').length > 0)
  await app.close()
  const probes = engine.hits('/health').length
  const files = (await readdir(root, { recursive: true })).sort()
  await new Promise((resolve) => setTimeout(resolve, 400))
  t.equal(engine.hits('/health').length, probes, 'no probe after close (the wait would have lasted the 60 s startup timeout)')
  t.same((await readdir(root, { recursive: true })).sort(), files, 'the catalog root is as close() left it')
})
