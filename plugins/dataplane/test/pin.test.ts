import t from 'tap'
import { f0, poolF0 } from '../../../test/fixtures/dataplane.js'
import { MockAdapter } from '../../../test/fixtures/mock-adapter.js'

// TaskRequest.placement (spec api-and-core §2.1, the original's pin override): a task pinned to a
// pool, or to one replica of it, runs there or nowhere; a pin naming nothing is a 400.
const threeReplicas = poolF0('pool0', { replicas: 3, provisioning: { mode: 'external', compute_policy: 'cpu-only', ports: [18080, 18081, 18082] } })

/** pool0 with replicas r0 and r1 bound (r2 configured, not bound), and pool1. */
async function harness (t: Parameters<typeof f0>[0]) {
  const h = await f0(t, { pools: [threeReplicas, poolF0('pool1')] })
  await h.app.adapterHost.unbind('pool0', 'r0')
  const r0 = new MockAdapter({ engine: 'llamacpp', tokens: ['Zero'] })
  const r1 = new MockAdapter({ engine: 'llamacpp', tokens: ['One'] })
  await h.app.adapterHost.bind('pool0', 'pool0-r0', r0)
  await h.app.adapterHost.bind('pool0', 'pool0-r1', r1)
  return { h, r0, r1 }
}

t.test('pin_replica_id runs the task on that replica, though the scored choice is another', async (t) => {
  const { h, r0, r1 } = await harness(t)
  const plain = h.task()
  await h.post(plain)
  await h.stream(plain.task_id as string)
  t.same(r0.submitted, [plain.task_id], 'unpinned: the tie-break picks pool0-r0')
  const pinned = h.task({ placement: { pin_pool_id: 'pool0', pin_replica_id: 'pool0-r1' } })
  t.equal((await h.post(pinned)).status, 202)
  const s = await h.stream(pinned.task_id as string)
  t.same(s.frames.filter((f) => f.event === 'token').map((f) => f.json.t), ['One'], 'the tokens of replica r1')
  t.same(r1.submitted, [pinned.task_id])
  t.ok(h.capture.find({ action: 'submit', task_id: pinned.task_id, replica_id: 'pool0-r1' }).length >= 1, 'narrated on the pinned replica')
})

t.test('a pin naming no configured pool or replica is a 400 naming the field; nothing is queued', async (t) => {
  const { h } = await harness(t)
  const pool = await h.post(h.task({ placement: { pin_pool_id: 'nope' } }))
  t.equal(pool.status, 400)
  t.match(pool.json, { code: 'INVALID_PARAMS', message: /^\/placement\/pin_pool_id "nope" is not a configured pool \(pools: pool0, pool1\)/ })
  const replica = await h.post(h.task({ placement: { pin_pool_id: 'pool1', pin_replica_id: 'pool0-r1' } }))
  t.equal(replica.status, 400)
  t.match(replica.json.message, /^\/placement\/pin_replica_id "pool0-r1" is not a replica of pool pool1 \(its replicas: pool1-r0\)/)
  const extra = await h.post(h.task({ placement: { pin_pool_id: 'pool0', prefer: 'x' } }))
  t.equal(extra.status, 400, 'an unknown placement key is refused, not ignored')
  t.match(extra.body, /prefer/)
  t.equal(h.app.dataplane.queueDepth('pool0'), 0)
})

t.test('a pinned pool that is not Ready is a 503, though another pool could serve; a pinned replica that is down fails the task', async (t) => {
  const { h } = await harness(t)
  h.app.pool.registry.upsert('pool0', { state: 'Backoff', health: { live: true, ready: false } })
  const refused = await h.post(h.task({ placement: { pin_pool_id: 'pool0' } }))
  t.equal(refused.status, 503)
  t.match(refused.json, { code: 'POOL_UNREADY' })
  t.equal((await h.post(h.task())).status, 202, 'unpinned, pool1 serves')
  h.app.pool.registry.upsert('pool0', { state: 'Ready', health: { live: true, ready: true } })
  // pool0-r2 is configured but no adapter is bound under that id
  const down = h.task({ placement: { pin_pool_id: 'pool0', pin_replica_id: 'pool0-r2' } })
  t.equal((await h.post(down)).status, 202)
  const s = await h.stream(down.task_id as string)
  t.match(s.frames.at(-1), { event: 'error', json: { code: 'POOL_UNAVAILABLE' } }, 'not run on another replica')
  t.ok(h.capture.find({ task_id: down.task_id }).some((r) => /pool0-r2 is not bound/.test(JSON.stringify(r))), 'the log says which replica was missing')
})
