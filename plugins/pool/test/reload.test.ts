import t from 'tap'
import { request } from 'undici'
import type { FastifyInstance } from 'fastify'
import { buildPools, fastPool, modelDir, pidAlive, waitFor } from './helpers.js'

const current = (app: FastifyInstance) => app.pool.manager('p')!.current!
const serves = async (app: FastifyInstance): Promise<boolean> => {
  const res = await request(current(app).prepared.health.url)
  await res.body.dump()
  return res.statusCode === 200
}

t.test('reload to a valid model: the new replica is healthy before the old one stops; health shows the new model (decision 4, scenario 14)', async (t) => {
  const root = await modelDir(t, { 'a.json': {}, 'b.json': {} })
  const { app, capture } = await buildPools(t, [fastPool('p', 'a.json')], root)
  await waitFor('Ready', () => app.pool.status('p')?.ready)
  const old = current(app).replica.pid!
  const oldBase = new URL(current(app).prepared.health.url).origin
  // the old replica is busy with a task: it must outlive the swap until the task ends
  await (await request(`${oldBase}/control`, { method: 'POST', body: JSON.stringify({ busy: true }) })).body.dump()
  const res = await app.inject({ method: 'POST', url: '/v1/pools/p/reload', payload: { new_model_ref: 'b.json' } })
  t.equal(res.statusCode, 202)
  const during = (await app.inject({ url: '/v1/pools/p/health' })).json()
  t.match(during, { ready: true, target_model: 'b.json', operation: { kind: 'reload', state: 'running', target_model: 'b.json' } },
    'the pool keeps serving while the new replica starts')
  t.equal((await app.inject({ method: 'POST', url: '/v1/pools/p/reload', payload: { new_model_ref: 'b.json' } })).statusCode, 409,
    'a second reload conflicts (scenario 16)')
  t.equal((await app.inject({ method: 'POST', url: '/v1/pools/p/drain', payload: { deadline_ms: 10 } })).statusCode, 409, 'so does a drain')
  await waitFor('the swap', () => app.pool.manager('p')!.operation?.state === 'succeeded')
  t.equal(app.pool.registry.get('p')!.model_id, `file:${root}/b.json`)
  t.equal(app.pool.status('p')!.ready, true)
  t.not(current(app).replica.pid, old)
  await new Promise((resolve) => setTimeout(resolve, 150))
  t.ok(pidAlive(old), 'the old replica stays while it still processes a task')
  await (await request(`${oldBase}/control`, { method: 'POST', body: JSON.stringify({ busy: false }) })).body.dump()
  await waitFor('the old replica stops once idle', () => !pidAlive(old))
  t.equal(app.pool.status('p')!.ready, true, 'the old replica stopping is no crash')
  const health = (await app.inject({ url: '/v1/pools/p/health' })).json()
  t.match(health, { ready: true, model_id: `file:${root}/b.json`, target_model: 'b.json', last_error: null, operation: { state: 'succeeded', error: null } })
  t.ok(capture.records().some((r) => r.action === 'reload' && r.ok === true))
})

t.test('reload to a model that does not exist: 202, the error shows on health, the old model keeps serving (decision 4, scenario 15)', async (t) => {
  const root = await modelDir(t, { 'a.json': {} })
  const { app, capture } = await buildPools(t, [fastPool('p', 'a.json')], root)
  await waitFor('Ready', () => app.pool.status('p')?.ready)
  const pid = current(app).replica.pid
  t.equal((await app.inject({ method: 'POST', url: '/v1/pools/p/reload', payload: { new_model_ref: 'nope.gguf' } })).statusCode, 202)
  await waitFor('the outcome', () => app.pool.manager('p')!.operation?.state === 'failed')
  const health = (await app.inject({ url: '/v1/pools/p/health' })).json()
  t.match(health, {
    ready: true,
    state: 'Ready',
    model_id: `file:${root}/a.json`,
    target_model: 'a.json',
    last_error: /^reload to nope\.gguf failed at the model gate: .*nope\.gguf does not exist.*; still serving file:.*a\.json$/,
    operation: { kind: 'reload', state: 'failed', target_model: 'nope.gguf', error: /does not exist/ },
  })
  t.equal(current(app).replica.pid, pid, 'the same process serves')
  t.ok(await serves(app))
  t.match(capture.records().find((r) => r.action === 'reload' && r.ok === false), { level: 40 })
})

t.test('reload whose new engine never gets healthy rolls back: the new process is stopped, the old one serves', async (t) => {
  const root = await modelDir(t, { 'a.json': {}, 'bad.json': { args: ['--never-healthy'] } })
  const pool = fastPool('p', 'a.json', { health_check: { interval_ms: 50, timeout_ms: 200, startup_timeout_ms: 1500, failure_threshold: 2 } })
  const { app } = await buildPools(t, [pool], root)
  await waitFor('Ready', () => app.pool.status('p')?.ready)
  const pid = current(app).replica.pid
  await app.inject({ method: 'POST', url: '/v1/pools/p/reload', payload: { new_model_ref: 'bad.json' } })
  await waitFor('the outcome', () => app.pool.manager('p')!.operation?.state === 'failed')
  t.match(app.pool.registry.get('p'), { state: 'Ready', health: { ready: true }, last_error: /^reload to bad\.json failed at the health gate: health probe .* did not pass within 1500 ms/ })
  t.equal(current(app).replica.pid, pid)
  t.ok(await serves(app))
})

t.test('reload of a drained pool starts it on the new model and clears draining', async (t) => {
  const root = await modelDir(t, { 'a.json': {}, 'b.json': {} })
  const { app } = await buildPools(t, [fastPool('p', 'a.json')], root)
  await waitFor('Ready', () => app.pool.status('p')?.ready)
  await app.inject({ method: 'POST', url: '/v1/pools/p/drain', payload: { deadline_ms: 1000 } })
  await waitFor('Stopped', () => app.pool.registry.get('p')?.state === 'Stopped')
  await app.inject({ method: 'POST', url: '/v1/pools/p/reload', payload: { new_model_ref: 'b.json' } })
  await waitFor('Ready', () => app.pool.status('p')?.ready)
  t.match(app.pool.registry.get('p'), { draining: false, model_id: `file:${root}/b.json` })
  await waitFor('the outcome', () => app.pool.manager('p')!.operation?.state === 'succeeded')
})

t.test('reload of a pool that cannot start reports the failure; its retries stay on the configured target, never the failed one (issue 10 #1)', async (t) => {
  const root = await modelDir(t, { 'a.json': { prepare_error: 'broken' } })
  const { app } = await buildPools(t, [fastPool('p', 'a.json')], root)
  // three failures open the breaker (fastPool): no retry runs, so the reload cannot race one
  await waitFor('the open breaker', () => app.pool.registry.get('p')?.state === 'CircuitOpen')
  t.equal((await app.inject({ method: 'POST', url: '/v1/pools/p/reload', payload: { new_model_ref: 'missing.json' } })).statusCode, 202,
    'a reload is the operator\'s way out of an open breaker')
  await waitFor('the outcome', () => app.pool.manager('p')!.operation?.state === 'failed')
  t.match(app.pool.manager('p')!.operation, { error: /^model gate: .*missing\.json does not exist/ })
  t.equal(app.pool.manager('p')!.targetRef, 'a.json')
})

t.test('control routes: 404 for an unknown pool, 400 for a bad body (D16)', async (t) => {
  const root = await modelDir(t, { 'a.json': {} })
  const { app } = await buildPools(t, [fastPool('p', 'a.json', { preload: false })], root)
  for (const [method, url, payload] of [
    ['GET', '/v1/pools/zz/health'],
    ['POST', '/v1/pools/zz/drain', { deadline_ms: 1 }],
    ['POST', '/v1/pools/zz/reload', { new_model_ref: 'x' }],
  ] as const) {
    const res = await app.inject({ method, url, ...(payload ? { payload } : {}) })
    t.equal(res.statusCode, 404, `${method} ${url}`)
    t.match(res.json(), { code: 'POOL_UNAVAILABLE', message: 'no pool "zz" is configured (pools: p)', pool_id: 'zz' })
  }
  const bad = await app.inject({ method: 'POST', url: '/v1/pools/p/drain', payload: { deadline_ms: 0 } })
  t.equal(bad.statusCode, 400)
  t.match(bad.json(), { code: 'INVALID_PARAMS', message: /deadline_ms/ })
  const missing = await app.inject({ method: 'POST', url: '/v1/pools/p/reload', payload: {} })
  t.match(missing.json(), { code: 'INVALID_PARAMS', message: /new_model_ref is required/ })
  const unready = (await app.inject({ url: '/v1/pools/p/health' })).json()
  t.match(unready, { live: true, ready: false, draining: false, last_error: null, state: 'Unready' },
    'an Unready pool shows live, ready, draining and last_error (scenario 11)')
})

t.test('retiring the served model drains the pool with the given deadline; a restart cannot bring it back (catalog §4.7)', async (t) => {
  const root = await modelDir(t, { 'a.json': {}, 'b.json': {} })
  const { app, capture } = await buildPools(t, [fastPool('p', 'a.json'), fastPool('q', 'b.json')], root)
  await waitFor('Ready', () => app.pool.allReady())
  const served = current(app).model.id
  t.equal(served, `file:${root}/a.json`)
  const res = await app.inject({
    method: 'POST',
    url: `/v1/catalog/models/${encodeURIComponent(served)}/state`,
    payload: { state: 'Retired', deadline_ms: 1500 },
  })
  t.equal(res.statusCode, 202)
  await waitFor('p Stopped', () => app.pool.registry.get('p')?.state === 'Stopped')
  t.match(capture.find({ action: 'drain', target: 'p' })[0], { deadline_ms: 1500 }, 'the drain honours the deadline given with the state change')
  t.equal(app.pool.status('q')?.ready, true, 'a pool serving another model is untouched')
  t.equal((await app.inject({ url: '/readyz' })).statusCode, 503, 'readiness follows')
  const reload = await app.inject({ method: 'POST', url: '/v1/pools/p/reload', payload: { new_model_ref: 'a.json' } })
  t.equal(reload.statusCode, 202)
  await waitFor('the outcome', () => app.pool.manager('p')!.operation?.state === 'failed')
  t.match(app.pool.manager('p')!.operation, { error: /Retired/ }, 'the model gate refuses the retired model')
})

t.test('a model retired while its pool reloads is not drained mid-operation; the refusal is narrated', async (t) => {
  const root = await modelDir(t, { 'a.json': {}, 'slow.json': { args: ['--loading-ms', '800'] } })
  const { app, capture } = await buildPools(t, [fastPool('p', 'a.json')], root)
  await waitFor('Ready', () => app.pool.status('p')?.ready)
  await app.inject({ method: 'POST', url: '/v1/pools/p/reload', payload: { new_model_ref: 'slow.json' } })
  await app.catalog.setState(current(app).model.id, 'Retired')
  t.match(capture.find({ action: 'drain', target: 'p' })[0], { level: 40, reason: /a reload of pool p is in progress/ })
  await waitFor('the reload', () => app.pool.manager('p')!.operation?.state === 'succeeded')
  t.equal(app.pool.status('p')?.ready, true, 'the pool serves the new model')
})
