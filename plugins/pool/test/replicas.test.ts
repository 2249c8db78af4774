import t from 'tap'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { buildPools, fastPool, modelDir, pidAlive, waitFor } from './helpers.js'
import { aggregateEntry } from '../aggregate.js'
import { createPoolRegistry } from '../registry.js'

// Issue 13 #1: `pools[].replicas: N` runs N engine processes for one pool, each supervised on
// its own; the pool's entry is their aggregate, and health shows each replica.
const health = async (app: FastifyInstance, id = 'p') => (await app.inject({ url: `/v1/pools/${id}/health` })).json()
const replicaReady = (h: { replicas: Array<{ ready: boolean }> }) => h.replicas.every((r) => r.ready)

t.test('replicas: 2 starts two engine processes on their own ports; the adapter host binds both; health shows each', async (t) => {
  const root = await modelDir(t, { 'a.json': {} })
  const { app, capture } = await buildPools(t, [fastPool('p', 'a.json', { replicas: 2 })], root)
  await waitFor('both Ready', async () => replicaReady(await health(app)))
  const h = await health(app)
  t.match(h, { state: 'Ready', ready: true, metrics: { slots_total: 2 }, restart_count: 0 })
  t.same(h.replicas.map((r: { replica_id: string }) => r.replica_id), ['p-r0', 'p-r1'])
  const pids = h.replicas.map((r: { pid: number }) => r.pid)
  t.equal(new Set(pids).size, 2, 'two processes')
  t.ok(pids.every(pidAlive))
  const bound = app.adapterHost.replicas('p')
  t.same(bound.map((r) => r.replicaId).sort(), ['p-r0', 'p-r1'], 'one adapter per replica')
  const ports = app.pool.manager('p')!.replicas.map((r) => r.current!.prepared.ports[0])
  t.equal(new Set(ports).size, 2, 'each on its own port')
  const ready = capture.records().filter((r) => r.action === 'ready')
  t.same(ready.map((r) => r.replica_id).sort(), ['p-r0', 'p-r1'], 'readiness is narrated per replica')
  t.ok(ready.every((r) => /^pool p\/r[01] is Ready/.test(String(r.human))), 'and names the replica')
})

t.test('a killed replica restarts on its own while the other keeps the pool Ready (supervision per replica)', async (t) => {
  const root = await modelDir(t, { 'a.json': {} })
  const { app } = await buildPools(t, [fastPool('p', 'a.json', { replicas: 2 })], root)
  await waitFor('both Ready', async () => replicaReady(await health(app)))
  const [r0, r1] = (await health(app)).replicas
  process.kill(r1.pid, 'SIGKILL')
  await waitFor('r1 down', async () => !(await health(app)).replicas[1].ready)
  const during = await health(app)
  t.match(during, { ready: true, state: 'Ready', metrics: { slots_total: 1 } }, 'the pool serves on r0, with r0\'s capacity')
  t.match(during.replicas[1], { restart_count: 1, last_error: /engine exited \(signal SIGKILL\)/ })
  t.equal(app.pool.status('p')!.ready, true)
  await waitFor('r1 back', async () => replicaReady(await health(app)))
  const after = await health(app)
  t.equal(after.replicas[0].pid, r0.pid, 'r0 never restarted')
  t.not(after.replicas[1].pid, r1.pid, 'r1 runs a new process')
  t.match(after, { restart_count: 1, metrics: { slots_total: 2 } })
  t.match(after.replicas, [{ restart_count: 0 }, { restart_count: 1 }])
})

t.test('drain stops every replica; reload rolls over them, the pool serving throughout', async (t) => {
  const root = await modelDir(t, { 'a.json': {}, 'b.json': {} })
  const { app } = await buildPools(t, [fastPool('p', 'a.json', { replicas: 2 })], root)
  await waitFor('both Ready', async () => replicaReady(await health(app)))
  const old = (await health(app)).replicas.map((r: { pid: number }) => r.pid)
  t.equal((await app.inject({ method: 'POST', url: '/v1/pools/p/reload', payload: { new_model_ref: 'b.json' } })).statusCode, 202)
  const seen: boolean[] = []
  await waitFor('the reload', async () => {
    const h = await health(app)
    seen.push(h.ready)
    return h.operation?.state === 'succeeded'
  })
  t.ok(seen.every(Boolean), 'never unready during the rolling reload')
  const h = await health(app)
  t.match(h, { model_id: `file:${root}/b.json`, target_model: 'b.json', last_error: null })
  t.ok(h.replicas.every((r: { model_id: string }) => r.model_id === `file:${root}/b.json`), 'both replicas moved')
  await waitFor('the old processes stop', () => !old.some(pidAlive))

  t.equal((await app.inject({ method: 'POST', url: '/v1/pools/p/drain', payload: { deadline_ms: 100 } })).statusCode, 202)
  await waitFor('drained', async () => (await health(app)).operation?.kind === 'drain' && (await health(app)).operation.state === 'succeeded')
  const drained = await health(app)
  t.match(drained, { state: 'Stopped', ready: false })
  t.ok(drained.replicas.every((r: { state: string, pid: number | null }) => r.state === 'Stopped' && r.pid === null))
  t.same(app.adapterHost.replicas('p'), [], 'both unbound')
})

t.test('a reload that fails on the canary changes no replica; one failing later rolls the moved ones back', async (t) => {
  const root = await modelDir(t, { 'a.json': {}, 'b.json': {} })
  const { app, prov } = await buildPools(t, [fastPool('p', 'a.json', { replicas: 2 })], root)
  await waitFor('both Ready', async () => replicaReady(await health(app)))
  const pids = (await health(app)).replicas.map((r: { pid: number }) => r.pid)

  t.equal((await app.inject({ method: 'POST', url: '/v1/pools/p/reload', payload: { new_model_ref: 'nope.json' } })).statusCode, 202)
  await waitFor('failed', async () => (await health(app)).operation?.state === 'failed')
  let h = await health(app)
  t.match(h, { ready: true, model_id: `file:${root}/a.json`, operation: { error: /nope\.json/ } })
  t.same(h.replicas.map((r: { pid: number }) => r.pid), pids, 'the canary failed: both replicas kept their process')

  // b.json turns bad after the canary r0 moved to it: r1's launch fails, r0 goes back to a.json
  const calls = prov.calls
  const original = prov.prepare.bind(prov)
  prov.prepare = async (pool, o) => {
    if (prov.calls === calls + 1) await writeFile(join(root, 'b.json'), JSON.stringify({ prepare_error: 'b went bad' }))
    return await original(pool, o)
  }
  t.equal((await app.inject({ method: 'POST', url: '/v1/pools/p/reload', payload: { new_model_ref: 'b.json' } })).statusCode, 202)
  await waitFor('failed again', async () => (await health(app)).operation?.target_model === 'b.json' && (await health(app)).operation.state === 'failed')
  h = await health(app)
  t.match(h.operation.error, /^p-r1: reload to b\.json failed at the engine gate: b went bad; .*; 1 replica rolled back to a\.json$/)
  t.ok(h.replicas.every((r: { model_id: string, ready: boolean }) => r.ready && r.model_id === `file:${root}/a.json`), 'the pool serves one model: a.json')
})

t.test('external replica sets take one port per replica; sets llama-orch starts refuse configured ports', async (t) => {
  const { manifestOf } = await import('../../../test/helpers/build.js')
  const external = (ports: number[], replicas: number) => ({
    id: 'x', engine: 'llamacpp', model: 'm', devices: [], replicas, provisioning: { mode: 'external', ports },
  })
  t.throws(() => manifestOf({ pools: [external([8081], 2)] }), /provisioning\/ports.*1 ports for 2 replicas/)
  t.throws(() => manifestOf({ pools: [external([8081, 8081], 2)] }), /lists a port twice/)
  t.doesNotThrow(() => manifestOf({ pools: [external([8081, 8082], 2)] }))
  const embedded = { mode: 'embedded', compute_policy: 'cpu-only', ports: [9000] }
  t.throws(() => manifestOf({ pools: [{ ...fastPool('p', 'a.json', { replicas: 2 }), provisioning: embedded }] }),
    /cannot serve 2 replicas.*remove ports, or set replicas: 1/)
  t.throws(() => manifestOf({ pools: [fastPool('p', 'a.json', { replicas: 0 })] }), /replicas/)
})

t.test('the aggregate of one replica is that replica; of several: Ready if any, capacity of the Ready ones', async (t) => {
  const reg = createPoolRegistry()
  const a = reg.upsert('a', { state: 'Ready', health: { live: true, ready: true }, slots_total: 2, model_id: 'm', restart_count: 1, last_heartbeat_ms: 5 })
  const b = reg.upsert('b', { state: 'Backoff', health: { live: true, ready: false }, slots_total: 3, restart_count: 2, backoff_ms: 400, last_error: 'boom' })
  const c = reg.upsert('c', { state: 'Preloading', health: { live: true, ready: false }, slots_total: 1, backoff_ms: 0 })
  t.match(aggregateEntry([b]), { state: 'Backoff', slots_total: 3, restart_count: 2, backoff_ms: 400, last_error: 'boom', health: { ready: false } })
  t.match(aggregateEntry([a, b]), { state: 'Ready', slots_total: 2, restart_count: 3, model_id: 'm', last_error: 'boom', health: { ready: true, live: true } })
  t.match(aggregateEntry([b, c]), { state: 'Preloading', slots_total: 4, backoff_ms: 400, health: { ready: false } },
    'a starting replica is the pool\'s outlook')
  t.equal(aggregateEntry([b, c, a]).last_heartbeat_ms, 5)
})
