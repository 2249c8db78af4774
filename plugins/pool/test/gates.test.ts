import t from 'tap'
import { buildPools, fastPool, modelDir, waitFor } from './helpers.js'

// Real child processes (fixtures/fake-engine.mjs) behind a test provisioner, through the whole app.

t.test('all three gates pass: Ready with the registry fields of §1.1, and boot is not blocked (ORCH-3421, scenario 8)', async (t) => {
  const root = await modelDir(t, { 'a.json': {} })
  const { app, capture, prov } = await buildPools(t, [fastPool('p', 'a.json')], root)
  const early = await app.inject({ url: '/readyz' })
  t.equal(early.statusCode, 503, '/readyz answers 503 while the pool preloads in the background')
  await waitFor('Ready', () => app.pool.status('p')?.ready)
  t.equal((await app.inject({ url: '/readyz' })).statusCode, 200)
  const e = app.pool.registry.get('p')!
  t.match(e, {
    state: 'Ready',
    health: { live: true, ready: true },
    last_error: null,
    model_id: `file:${root}/a.json`,
    engine_version: 'fake-1',
    engine_digest: 'sha256:fake',
    engine_catalog_id: 'fake-engine-1',
    compute_mode: 'cpu',
    slots_total: 1,
    device_mask: [],
  })
  t.ok(e.perf_tokens_per_s !== null && e.first_token_ms !== null && e.first_token_ms >= 0,
    `perf hints measured at preload: ${e.perf_tokens_per_s} tok/s, ${e.first_token_ms} ms`)
  t.equal(prov.calls, 1)
  const ready = capture.records().find((r) => r.action === 'ready')
  t.match(ready, {
    actor: 'pool-managerd',
    target: 'p',
    pool_id: 'p',
    engine: 'fixture',
    engine_version: 'fake-1',
    model_id: `file:${root}/a.json`,
    device_mask: [],
  })
  t.ok(capture.records().some((r) => r.action === 'preload' && r.actor === 'pool-managerd'), 'preload is narrated')
  const health = await app.inject({ url: '/v1/pools/p/health' })
  t.equal(health.statusCode, 200)
  t.match(health.json(), {
    id: 'p',
    live: true,
    ready: true,
    draining: false,
    state: 'Ready',
    engine_version: 'fake-1',
    model_id: `file:${root}/a.json`,
    target_model: 'a.json',
    metrics: { queue_depth: 0, active_leases: 0, slots_total: 1, slots_free: 1 },
    last_error: null,
    operation: null,
  })
})

t.test('a failing model gate keeps the pool Unready, names the cause and never prepares the engine (scenario 5)', async (t) => {
  const root = await modelDir(t, {})
  const { app, prov, capture } = await buildPools(t, [fastPool('p', 'missing.gguf')], root)
  const e = await waitFor('the model gate failure', () => app.pool.registry.get('p')?.last_error ? app.pool.registry.get('p') : undefined)
  t.match(e.last_error, /^model gate: llama-orch models: file:.*missing\.gguf: .*missing\.gguf does not exist; check the path or stage the model there first$/)
  t.equal(e.health.ready, false)
  t.match(e.state, /Backoff|Preloading|CircuitOpen/)
  t.equal(prov.calls, 0, 'the engine is never prepared')
  await waitFor('a backoff retry', () => capture.records().some((r) => r.action === 'backoff' && (r.backoff_ms as number) > 0))
})

t.test('a failing engine gate names the engine cause (scenario 6)', async (t) => {
  const root = await modelDir(t, { 'a.json': { prepare_error: 'cmake is missing' } })
  const { app } = await buildPools(t, [fastPool('p', 'a.json')], root)
  const e = await waitFor('the engine gate failure', () => app.pool.registry.get('p')?.last_error ? app.pool.registry.get('p') : undefined)
  t.equal(e.last_error, 'engine gate: cmake is missing')
  t.equal(e.health.ready, false)
})

t.test('issue 10 #14: no provider for the pool\'s (engine, mode) is refused at boot, before any pool starts, saying what to enable', async (t) => {
  const root = await modelDir(t, { 'a.json': {} })
  await t.rejects(buildPools(t, [fastPool('p', 'a.json', {
    provisioning: { mode: 'container', container: { image: 'x' }, compute_policy: 'cpu-only', model: { ref: 'a.json' } },
  })], root), { message: /\/pools\/0\/provisioning\/mode: pool p: no enabled provider handles engine "fixture" in mode "container"/ })
})

t.test('a health probe that never passes fails the health gate after the startup timeout, and the process is stopped (scenario 7)', async (t) => {
  const root = await modelDir(t, { 'a.json': { args: ['--never-healthy'] } })
  const { app } = await buildPools(t, [fastPool('p', 'a.json', {
    health_check: { interval_ms: 50, timeout_ms: 200, startup_timeout_ms: 400, failure_threshold: 2 },
  })], root)
  const e = await waitFor('the health gate failure', () => app.pool.registry.get('p')?.last_error ? app.pool.registry.get('p') : undefined)
  t.match(e.last_error, /^health gate: health probe http:\/\/127\.0\.0\.1:\d+\/health did not pass within 400 ms$/)
  t.equal(e.health.ready, false)
  t.notOk(app.pool.allReady())
})

t.test('an engine that exits during startup fails the health gate with its last words', async (t) => {
  const root = await modelDir(t, { 'a.json': { args: ['--exit-now', '7'] } })
  const { app } = await buildPools(t, [fastPool('p', 'a.json')], root)
  const e = await waitFor('the failure', () => app.pool.registry.get('p')?.last_error ? app.pool.registry.get('p') : undefined)
  t.equal(e.last_error, 'health gate: engine exited (status 7) before its health check passed: fake engine: told to fail at start')
})

t.test('a digest that does not match keeps the pool from ever becoming Ready (scenario 9)', async (t) => {
  const root = await modelDir(t, { 'a.json': {} })
  const pool = fastPool('p', 'a.json')
  ;(pool.provisioning as Record<string, unknown>).model = { ref: 'a.json', checksum: `sha256:${'0'.repeat(64)}` }
  const { app, prov } = await buildPools(t, [pool], root)
  const e = await waitFor('the failure', () => app.pool.registry.get('p')?.last_error ? app.pool.registry.get('p') : undefined)
  t.match(e.last_error, /^model gate: llama-orch models: digest mismatch for file:.*a\.json: expected sha256:0{64}, got sha256:[0-9a-f]{64}/)
  t.equal(prov.calls, 0)
})

t.test('preload: false leaves the pool Unready until a reload starts it', async (t) => {
  const root = await modelDir(t, { 'a.json': {} })
  const { app, capture, prov } = await buildPools(t, [fastPool('p', 'a.json', { preload: false })], root)
  t.match(capture.records().find((r) => r.action === 'preload'), { human: 'pool p skips preload (preload: false); reload it to start' })
  await new Promise((resolve) => setTimeout(resolve, 100))
  t.equal(prov.calls, 0)
  t.match(app.pool.registry.get('p'), { state: 'Unready', health: { live: true, ready: false } })
  const res = await app.inject({ method: 'POST', url: '/v1/pools/p/reload', payload: { new_model_ref: 'a.json' } })
  t.equal(res.statusCode, 202)
  await waitFor('Ready', () => app.pool.status('p')?.ready)
  await waitFor('the reload outcome', () => app.pool.manager('p')?.operation?.state === 'succeeded')
})

t.test('a model larger than free host memory fails fast, before any spawn (§1.5, scenario 10)', async (t) => {
  const { checkHostMemory } = await import('../launch.js')
  const root = await modelDir(t, { 'a.json': {} })
  const model = { id: `file:${root}/a.json`, local_path: `${root}/a.json`, digest: null, lifecycle: 'Active' as const }
  await t.rejects(checkHostMemory(model, () => 10 * 1024 * 1024), {
    message: `model file:${root}/a.json needs about 64 MiB of host memory, but only 10 MiB is free; free memory or use a smaller model`,
  })
  await t.resolves(checkHostMemory(model, () => 1024 ** 3))
})
