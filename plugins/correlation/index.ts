import fp from 'fastify-plugin'
import type { FastifyPluginAsync } from 'fastify'
import { NAMES } from '../../lib/names.js'
import { CORRELATION_HEADER } from './correlation.js'

declare module 'fastify' {
  interface FastifyRequest { readonly correlationId: string }
}

/**
 * Echoes the request's correlation id on every reply. The id itself is Fastify's request
 * id (see `correlationIdFor`, given to Fastify as `genReqId`), so every log line of the
 * request carries it as `correlation_id`. The header is set in `onRequest`, before any
 * route, auth gate or error handler can answer, which is what makes it reach 401s, 404s,
 * 500s and hijacked SSE replies alike.
 */
const correlationPlugin: FastifyPluginAsync = async (app) => {
  app.decorateRequest('correlationId', {
    getter () { return this.id },
  })
  app.addHook('onRequest', async (req, reply) => {
    reply.header(CORRELATION_HEADER, req.id)
  })
}

export default fp(correlationPlugin, { name: NAMES.correlation, fastify: '5.x' })

export { correlationIdFor, CORRELATION_HEADER } from './correlation.js'
