import t from 'tap'
import { build, fixturePool, FIXTURE_ADAPTER } from '../../../test/helpers/build.js'

t.test('/healthz answers 200 while the process serves', async (t) => {
  const { app } = await build(t)
  const res = await app.inject({ url: '/healthz' })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { status: 'ok' })
})

t.test('/readyz is 200 when no pool is configured', async (t) => {
  const { app } = await build(t)
  const res = await app.inject({ url: '/readyz' })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { ready: true, pools: [] })
})

t.test('/readyz is 503 with each pool state until every pool is Ready (ORCH-3421)', async (t) => {
  const { app } = await build(t, { adapters: [FIXTURE_ADAPTER], pools: [fixturePool('a'), fixturePool('b')] })
  let res = await app.inject({ url: '/readyz' })
  t.equal(res.statusCode, 503)
  t.same(res.json(), {
    ready: false,
    pools: [
      { id: 'a', state: 'Unready', ready: false },
      { id: 'b', state: 'Unready', ready: false },
    ],
  })
  app.pool.registry.upsert('a', { state: 'Ready', health: { live: true, ready: true } })
  app.pool.registry.setLastError('b', 'health probe timed out after 120000 ms')
  res = await app.inject({ url: '/readyz' })
  t.equal(res.statusCode, 503, 'one pool is still not ready')
  t.same(res.json().pools[1], { id: 'b', state: 'Unready', ready: false }, 'the cause is on GET /v1/pools/b/health, not here (issue 10 #12)')
  app.pool.registry.upsert('b', { state: 'Ready', health: { live: true, ready: true } })
  res = await app.inject({ url: '/readyz' })
  t.equal(res.statusCode, 200)
  t.equal(app.pool.allReady(), true)
  t.equal(app.pool.status('nope'), undefined)
})
