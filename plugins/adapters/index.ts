import fp from 'fastify-plugin'
import type { FastifyPluginAsync } from 'fastify'
import { NAMES } from '../../core/names.js'
import { createAdapterRegistry } from './registry.js'

/** Registry that enabled adapter plugins add their engine factories to (`app.adapters.add`). */
const adaptersPlugin: FastifyPluginAsync = async (app) => {
  app.decorate('adapters', createAdapterRegistry())
}

export default fp(adaptersPlugin, {
  name: NAMES.adapters,
  fastify: '5.x',
  dependencies: [NAMES.pool],
  decorators: { fastify: ['pool'] },
})
