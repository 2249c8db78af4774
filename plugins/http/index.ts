import fp from 'fastify-plugin'
import type { FastifyPluginAsync } from 'fastify'
import { NAMES } from '../../lib/names.js'
import { apiErrorHandler } from './errors.js'
import { API_ROUTES } from './routes.js'

/**
 * The public API context, encapsulated and mounted under `/v1`. Every failure inside it
 * becomes an ErrorEnvelope (`errors.ts`). The data plane (`/v1/tasks`, `/v1/sessions`) and
 * control plane (`/v1/pools`, `/v1/capabilities`, `/v1/catalog`, `/v1/artifacts`) register
 * their route plugins here.
 */
const httpPlugin: FastifyPluginAsync = async (app) => {
  app.setErrorHandler(apiErrorHandler)
  for (const routes of API_ROUTES) await app.register(routes)
}

export default fp(httpPlugin, {
  name: NAMES.http,
  fastify: '5.x',
  encapsulate: true,
  dependencies: [NAMES.queue, NAMES.catalog, NAMES.sse, '@fastify/swagger'],
})

export { API_VERSION } from './api-version.js'
export { ApiError, ERROR_KINDS, sendApiError, retryAfterSeconds, type ErrorKind, type ErrorEnvelope } from './errors.js'
