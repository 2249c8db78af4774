import fp from 'fastify-plugin'
import type { FastifyPluginAsync } from 'fastify'
import { NAMES } from '../../core/names.js'
import { createAdapterRegistry } from './registry.js'
import { createAdapterHost } from './host.js'

/** Host timers (spec adapters §3.1, §5.4): capability refresh every 30 s, engine scrapes every 15 s. */
export const REFRESH_MS = 30_000
export const SCRAPE_MS = 15_000

/**
 * `app.adapters`: the registry adapter plugins add their engine factories to.
 * `app.adapterHost`: the facade dispatch and the pool manager use (core/sdk.ts AdapterHost).
 */
const adaptersPlugin: FastifyPluginAsync = async (app) => {
  app.decorate('adapters', createAdapterRegistry())
  const host = createAdapterHost({
    narrator: app.narration,
    metrics: app.metrics,
    pools: app.pool.configs,
    refreshMs: REFRESH_MS,
    scrapeMs: SCRAPE_MS,
  })
  app.decorate('adapterHost', host)
  app.addHook('onClose', async () => {
    host.close()
    await Promise.all(host.replicas().map((r) => host.unbind(r.poolId, r.replicaId)))
  })
}

export default fp(adaptersPlugin, {
  name: NAMES.adapters,
  fastify: '5.x',
  dependencies: [NAMES.narration, NAMES.metrics, NAMES.pool],
  decorators: { fastify: ['narration', 'metrics', 'pool'] },
})
