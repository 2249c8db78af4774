import fp from 'fastify-plugin'
import type { FastifyPluginAsync } from 'fastify'
import { NAMES } from '../../core/names.js'
import { createAdapterRegistry } from './registry.js'
import { createAdapterHost } from './host.js'

/**
 * `app.adapters`: the registry adapter plugins add their engine factories to.
 * `app.adapterHost`: the facade dispatch and the pool manager use (core/sdk.ts AdapterHost).
 */
const adaptersPlugin: FastifyPluginAsync = async (app) => {
  app.decorate('adapters', createAdapterRegistry())
  const host = createAdapterHost()
  app.decorate('adapterHost', host)
  app.addHook('onClose', async () => {
    await Promise.all(host.replicas().map((r) => host.unbind(r.poolId, r.replicaId)))
  })
}

export default fp(adaptersPlugin, {
  name: NAMES.adapters,
  fastify: '5.x',
  dependencies: [NAMES.pool],
  decorators: { fastify: ['pool'] },
})
