import fp from 'fastify-plugin'
import type { FastifyPluginAsync } from 'fastify'
import { Value } from 'typebox/value'
import type { PoolConfig } from '../../sdk/pool-config.js'
import { NAMES } from '../../lib/names.js'
import type {} from '../metrics/index.js'
import { createAdapterRegistry } from './registry.js'
import { createAdapterHost } from './host.js'
import { AdapterHostConfig } from './schema.js'

export interface AdaptersOptions extends Partial<AdapterHostConfig> {
  /** The configured pools (the manifest's): slot and ctx defaults, version pins, capabilities. */
  pools?: readonly PoolConfig[]
}

/**
 * `app.adapters`: the registry adapter plugins add their engine factories to.
 * `app.adapterHost`: the one way the rest of the server talks to engines (sdk AdapterHost);
 * the pool manager, a later stage, binds each Ready replica into it.
 */
const adaptersPlugin: FastifyPluginAsync<AdaptersOptions> = async (app, opts) => {
  const { pools = [], ...rest } = opts
  const config = Value.Default(AdapterHostConfig, Value.Clone(rest)) as AdapterHostConfig
  app.decorate('adapters', createAdapterRegistry())
  const { threshold, cooldown_ms: cooldownMs, max_cooldown_ms: maxCooldownMs } = config.breaker
  const host = createAdapterHost({
    narrator: app.narration,
    metrics: app.metrics,
    pools,
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
  dependencies: [NAMES.narration, NAMES.metrics],
  decorators: { fastify: ['narration', 'metrics'] },
})
