import fp from 'fastify-plugin'
import type { FastifyPluginAsync } from 'fastify'
import { NAMES } from '../../core/names.js'

/**
 * The admission stage. The bounded priority queue per pool (spec api-and-core.md §4.1)
 * is built with the data plane; today the stage records which pools will get a queue.
 */
export interface Queue { readonly poolIds: readonly string[] }

declare module 'fastify' {
  interface FastifyInstance { queue: Queue }
}

const queuePlugin: FastifyPluginAsync = async (app) => {
  app.decorate('queue', { poolIds: app.pool.configs.map((c) => c.id) })
}

export default fp(queuePlugin, {
  name: NAMES.queue,
  fastify: '5.x',
  dependencies: [NAMES.placement],
  decorators: { fastify: ['placement', 'pool'] },
})
