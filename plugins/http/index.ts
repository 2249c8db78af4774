import fp from 'fastify-plugin'
import type { FastifyPluginAsync } from 'fastify'
import { NAMES } from '../../core/names.js'

/**
 * The public API context, encapsulated and mounted under `/v1`. The data plane
 * (`/v1/tasks`, `/v1/sessions`) and control plane (`/v1/pools`, `/v1/capabilities`,
 * `/v1/catalog`) register their routes here as they are built.
 */
const httpPlugin: FastifyPluginAsync = async () => {}

export default fp(httpPlugin, {
  name: NAMES.http,
  fastify: '5.x',
  encapsulate: true,
  dependencies: [NAMES.queue, NAMES.catalog, NAMES.sse],
})
