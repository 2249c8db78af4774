import fp from 'fastify-plugin'
import type { FastifyPluginAsync } from 'fastify'
import { NAMES } from '../../core/names.js'

/**
 * The placement stage. Its decision function (feasibility filter, vram-least-loaded
 * scoring, affinity, decision cache; spec api-and-core.md §4.3) is built with the data
 * plane; today the stage holds its policy name so the boot graph is complete.
 */
export interface Placement { readonly policy: 'vram-least-loaded' | 'predicted-end' }

declare module 'fastify' {
  interface FastifyInstance { placement: Placement }
}

const placementPlugin: FastifyPluginAsync = async (app) => {
  app.decorate('placement', { policy: 'vram-least-loaded' })
}

export default fp(placementPlugin, {
  name: NAMES.placement,
  fastify: '5.x',
  dependencies: [NAMES.pool, NAMES.adapters],
  decorators: { fastify: ['pool', 'adapters'] },
})
