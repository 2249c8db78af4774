/**
 * The whole app under test for the metrics harness: `build()` of test/helpers/build.ts from a
 * partial manifest, listening on an ephemeral 127.0.0.1 port, one fake llama.cpp server per
 * pool (pools in `provisioning.mode: 'external'` pointing at the fake's port), narration captured.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { build } from '../../helpers/build.js'
import { waitFor } from '../../helpers/wait.js'
import { fakeLlamaServer } from '../../fixtures/engines/llama-server.js'
import { fakeVllm } from '../../fixtures/engines/openai-compat.js'
import type { FakeEngine } from '../../fixtures/engines/fake-engine.js'
import type { Capture } from '../../../plugins/narration/index.js'
import { Client } from './client.js'
import { POOLS, type PoolName } from './workload.js'

export interface LiveApp {
  app: FastifyInstance
  capture: Capture
  client: Client
  engines: Record<PoolName, FakeEngine>
}

/** `slow` streams 40 tokens 40 ms apart: long enough to be canceled and to hold its slot. */
const SLOW_TOKENS = Array.from({ length: 40 }, (_, i) => ` t${i}`)

export async function startApp (t: Test): Promise<LiveApp> {
  const root = await mkdtemp(join(tmpdir(), 'orc-metrics-'))
  t.teardown(() => rm(root, { recursive: true, force: true }))
  const engines = {} as Record<PoolName, FakeEngine>
  const pools = []
  for (const [id, p] of Object.entries(POOLS) as Array<[PoolName, typeof POOLS[PoolName]]>) {
    const engine = p.engine === 'vllm' ? await fakeVllm() : await fakeLlamaServer({ slots: p.slots, applyTemplate: true })
    t.teardown(() => engine.close())
    engines[id] = engine
    // a file the catalog stages and can verify (the fake engine never reads it)
    await writeFile(join(root, `${p.model}.gguf`), `GGUF\x03\x00\x00\x00${p.model}`)
    pools.push({
      id,
      engine: p.engine,
      model: p.model,
      slots_total: p.slots,
      ctx: 4096,
      devices: [],
      provisioning: {
        mode: 'external',
        compute_policy: 'cpu-only',
        host: '127.0.0.1',
        ports: [Number(new URL(engine.url).port)],
        model: { ref: `${p.model}.gguf` },
      },
      health_check: { interval_ms: 50, timeout_ms: 500, startup_timeout_ms: 5000, failure_threshold: 3 },
      queue: { capacity: p.capacity, full_policy: 'reject' },
    })
  }
  engines.slow.faults.tokens = SLOW_TOKENS
  engines.slow.faults.tokenDelayMs = 40
  const { app, capture } = await build(t, {
    // no retry pauses worth waiting for: each scripted failure should meet one request
    adapters: [{ package: 'llamacpp', options: { http: { backoff_base_ms: 1, backoff_cap_ms: 5 } } }, 'vllm'],
    // engine /metrics scraped often, so kv_cache_usage_ratio has samples by the scrape (§5.4)
    adapter_host: { scrape_ms: 100 },
    catalog: { root },
    pools,
  })
  const client = new Client(await app.listen({ port: 0, host: '127.0.0.1' }))
  t.teardown(() => client.close())
  await waitFor('GET /readyz to answer 200 (every pool Ready)', async () => (await client.call('GET', '/readyz')).status === 200, 10_000)
  return { app, capture, client, engines }
}
