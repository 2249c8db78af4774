import fp from 'fastify-plugin'
import type { FastifyPluginAsync } from 'fastify'
import { NAMES } from '../../lib/names.js'
import { createProvisionerRegistry } from './registry.js'

/** Registry that enabled provider plugins add themselves to (`app.provisioners.add`). */
const provisionersPlugin: FastifyPluginAsync = async (app) => {
  app.decorate('provisioners', createProvisionerRegistry())
}

export default fp(provisionersPlugin, {
  name: NAMES.provisioners,
  fastify: '5.x',
  dependencies: [NAMES.catalog],
  decorators: { fastify: ['catalog'] },
})
