import fp from 'fastify-plugin'
import type { FastifyPluginAsync } from 'fastify'
import { NAMES } from '../../lib/names.js'
import type {} from '../catalog/index.js'
import { createProvisionerRegistry } from './registry.js'

/**
 * Registry that enabled provider plugins add themselves to (`app.provisioners.add`); through it
 * a provider records the engine builds it prepares in the catalog (`recordEngine`).
 */
const provisionersPlugin: FastifyPluginAsync = async (app) => {
  app.decorate('provisioners', createProvisionerRegistry((build) => app.catalog.recordEngine(build)))
}

export default fp(provisionersPlugin, {
  name: NAMES.provisioners,
  fastify: '5.x',
  dependencies: [NAMES.catalog],
  decorators: { fastify: ['catalog'] },
})
