import t from 'tap'
import { build, fixturePool, FIXTURE_ADAPTER } from '../../../test/helpers/build.js'

t.test('the placement, queue and http stages are in place for the data plane', async (t) => {
  const { app } = await build(t, { adapters: [FIXTURE_ADAPTER], pools: [fixturePool('a'), fixturePool('b')] })
  t.equal(app.placement.policy, 'vram-least-loaded', 'ORCH-3012 default policy')
  t.same(app.queue.poolIds, ['a', 'b'])
  const res = await app.inject({ url: '/v1/replicasets' })
  t.equal(res.statusCode, 404, 'removed endpoints answer 404 like any unknown route (ORCH-3095)')
})
