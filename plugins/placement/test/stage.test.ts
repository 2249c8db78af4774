import t from 'tap'
import { build, fixturePool, FIXTURE_ADAPTER } from '../../../test/helpers/build.js'
import { fakeClock } from '../../../lib/clock.js'
import type { JobSpec } from '../placement.js'
import { createPlacement } from '../service.js'

const job: JobSpec = { engine: 'fixture', modelId: 'echo', requiredCtx: 0, priority: 'interactive' }

t.test('the placement, queue and http stages are in place for the data plane', async (t) => {
  const { app } = await build(t, { adapters: [FIXTURE_ADAPTER], pools: [fixturePool('a'), fixturePool('b')] })
  t.equal(app.placement.policy, 'vram-least-loaded', 'ORCH-3012 default policy')
  t.same(app.dataplane.poolIds, ['a', 'b'])
  const res = await app.inject({ url: '/v1/replicasets' })
  t.equal(res.statusCode, 404, 'removed endpoints answer 404 like any unknown route (ORCH-3095)')
})

t.test('ctx_max is the tighter of the configured ctx and what the bound engine reports', async (t) => {
  const { app } = await build(t, {
    adapters: [FIXTURE_ADAPTER],
    pools: [fixturePool('a', { ctx: 4096 }), fixturePool('b', { ctx: 1024 }), fixturePool('c'), fixturePool('d')],
  })
  const reported: Record<string, number> = { a: 2048, b: 2048, c: 8192 }
  const pl = createPlacement(app.placement.config, {
    registry: app.pool.registry,
    configs: app.pool.configs,
    clock: fakeClock(0),
    engineCtxMax: (id) => reported[id] ?? null,
  })
  t.same(Object.fromEntries(pl.snapshots().map((p) => [p.id, p.ctxMax])), { a: 2048, b: 1024, c: 8192, d: Number.MAX_SAFE_INTEGER },
    'unknown on both sides: unbounded')
})

t.test('snapshots from the registry; snapshot_version bumps on eligibility changes only (§4.3.5, D6)', async (t) => {
  const clock = fakeClock(1000)
  const { app } = await build(t, {
    adapters: [FIXTURE_ADAPTER],
    pools: [fixturePool('a', { ctx: 4096, quant: 'q4', sampler_profile_version: 'v1' }), fixturePool('b')],
  }, { clock })
  const { registry } = app.pool
  const pl = app.placement
  t.equal(pl.snapshotVersion(), 1, 'starts at 1')
  t.same(pl.place(job), { kind: 'no_capacity', reasons: { a: 'NOT_READY', b: 'NOT_READY' } }, 'configured pools start Unready')
  registry.upsert('a', {
    state: 'Ready',
    health: { live: true, ready: true },
    slots_total: 2,
    engine_version: 'v9',
    vram_total_bytes: 10,
    vram_free_bytes: 5,
    compute_capability: '8.6',
    perf_tokens_per_s: 10,
    first_token_ms: 5,
  })
  const snap = pl.snapshots((id) => id === 'a' ? 3 : 0).find((p) => p.id === 'a')!
  t.match(snap, {
    engine: 'fixture',
    engineVersion: 'v9',
    modelId: 'echo',
    live: true,
    ready: true,
    draining: false,
    slotsTotal: 2,
    slotsFree: 2,
    vramFreeBytes: 5,
    ctxMax: 4096,
    quantizations: ['q4'],
    samplerProfileVersion: 'v1',
    perfTokensPerS: 10,
    firstTokenMs: 5,
    queueLen: 3,
    computeCapability: '8.6',
  })
  t.equal(pl.snapshotVersion(), 2, 'a became ready: +1')
  registry.allocateLease('a')
  pl.snapshots()
  t.equal(pl.snapshotVersion(), 2, 'slot changes never bump')
  t.equal(pl.bump(), 3, 'a manual bump (catalog state change)')
  t.same(pl.place(job), { kind: 'assigned', poolId: 'a', affinity: false })
  t.same(pl.place(job), { kind: 'assigned', poolId: 'a', affinity: false }, 'cache hit')
  registry.upsert('a', { draining: true })
  t.same(pl.place(job), { kind: 'no_capacity', reasons: { a: 'DRAINING', b: 'NOT_READY' } }, 'a hit is re-checked for readiness')
  t.equal(pl.snapshotVersion(), 4)
  registry.upsert('a', { draining: false, last_heartbeat_ms: 1000 })
  t.equal(pl.place(job).kind, 'assigned')
  clock.advance(5001)
  t.same(pl.place(job), { kind: 'no_capacity', reasons: { a: 'NOT_READY', b: 'NOT_READY' } }, 'a stale heartbeat is not placed on')
  registry.upsert('b', { state: 'Ready', health: { live: true, ready: true }, slots_total: 1 })
  t.same(pl.place(job, { affinity: { poolId: 'b' } }), { kind: 'assigned', poolId: 'b', affinity: true })
})

t.test('cache off and the predicted-end policy from the manifest', async (t) => {
  const { app } = await build(t, {
    adapters: [FIXTURE_ADAPTER],
    pools: [fixturePool('a'), fixturePool('b')],
    placement: { cache_ttl_ms: 0, policy: 'predicted-end' },
  })
  for (const [id, tps] of [['a', 5], ['b', 50]] as const) {
    app.pool.registry.upsert(id, { state: 'Ready', health: { live: true, ready: true }, slots_total: 1, perf_tokens_per_s: tps })
  }
  t.equal(app.placement.policy, 'predicted-end')
  t.same(app.placement.place({ ...job, expectedTokens: 100 }), { kind: 'assigned', poolId: 'b', affinity: false })
  app.pool.registry.upsert('b', { state: 'Draining' })
  t.same(app.placement.place({ ...job, expectedTokens: 100 }), { kind: 'assigned', poolId: 'a', affinity: false }, 'no stale decision without a cache')
})
