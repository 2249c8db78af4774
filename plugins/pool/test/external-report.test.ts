import t, { type Test } from 'tap'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { build } from '../../../test/helpers/build.js'
import { fakeLlamaServer, LLAMA_BUILD } from '../../../test/fixtures/engines/llama-server.js'
import { waitFor } from './helpers.js'

async function externalLlama (t: Test, buildInfo: boolean, policy: string) {
  const root = await mkdtemp(join(tmpdir(), 'orc-external-'))
  t.teardown(() => rm(root, { recursive: true, force: true }))
  await writeFile(join(root, 'tiny.gguf'), 'GGUF\x03\x00\x00\x00')
  const engine = await fakeLlamaServer({ buildInfo })
  t.teardown(() => engine.close())
  const port = Number(new URL(engine.url).port)
  const { app } = await build(t, {
    adapters: ['llamacpp'],
    catalog: { root },
    pools: [{
      id: 'ext',
      engine: 'llamacpp',
      model: 'tiny',
      devices: [],
      provisioning: { mode: 'external', compute_policy: policy, host: '127.0.0.1', ports: [port], model: { ref: 'tiny.gguf' } },
      health_check: { interval_ms: 100, timeout_ms: 500, startup_timeout_ms: 3000, failure_threshold: 3 },
    }],
  })
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
