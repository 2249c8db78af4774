import fp from 'fastify-plugin'
import type { FastifyPluginAsync } from 'fastify'
import { NAMES } from '../../lib/names.js'
import { createAdapterRegistry } from './registry.js'
import { createAdapterHost } from './host.js'
import { Value } from 'typebox/value'
import { AdapterHostConfig } from './schema.js'


/**
 * `app.adapters`: the registry adapter plugins add their engine factories to.
 * `app.adapterHost`: the facade dispatch and the pool manager use (core/sdk.ts AdapterHost).
 */
const adaptersPlugin: FastifyPluginAsync<Partial<AdapterHostConfig>> = async (app, opts) => {
  const config = Value.Default(AdapterHostConfig, Value.Clone(opts)) as AdapterHostConfig
  app.decorate('adapters', createAdapterRegistry())
  const { threshold, cooldown_ms: cooldownMs, max_cooldown_ms: maxCooldownMs } = config.breaker
  const host = createAdapterHost({
    narrator: app.narration,
    metrics: app.metrics,
    pools: app.pool.configs,
    breaker: { threshold, cooldownMs, maxCooldownMs },
    refreshMs: config.refresh_ms,
    scrapeMs: config.scrape_ms,
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
