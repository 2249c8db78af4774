import fp from 'fastify-plugin'
import type { FastifyPluginAsync } from 'fastify'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { NAMES } from '../../lib/names.js'
import { apiErrorHandler } from './error-handler.js'
import { openapiRoute } from './openapi.js'
import { partValidatorCompiler } from './validation.js'

export interface HttpOptions {
  /**
   * The route plugins of the other stages, mounted in this order (the composition root
   * collects them from each plugin's index.ts). Each is a plain, non-fp plugin, so its
   * hooks stay inside the API context; it reads shared state from the app decorators.
   */
  routes: FastifyPluginAsyncTypebox[]
}

/**
 * The public API context, encapsulated and mounted under `/v1`. Every failure inside it
 * becomes an ErrorEnvelope (`error-handler.ts`). The data plane (`/v1/tasks`, `/v1/sessions`)
 * and control plane (`/v1/pools`, `/v1/capabilities`, `/v1/catalog`, `/v1/artifacts`) register
 * their route plugins here, beside `/v1/openapi.json`. Bodies are validated strictly
 * (`validation.ts`).
 */
const httpPlugin: FastifyPluginAsync<HttpOptions> = async (app, opts) => {
  app.setErrorHandler(apiErrorHandler)
  // bodies as sent: no coercion, no silent removal, unknown fields refused (issue 10 #7)
  app.setValidatorCompiler(partValidatorCompiler(app.getSchemas()))
  // every body of the API is JSON: text/plain is a 415 here, not a string the schema refuses
  app.removeContentTypeParser('text/plain')
  await app.register(openapiRoute)
  for (const routes of opts.routes) await app.register(routes)
}

export default fp(httpPlugin, {
  name: NAMES.http,
  fastify: '5.x',
  encapsulate: true,
  dependencies: [NAMES.dataplane, NAMES.sessions, NAMES.pool, NAMES.catalog, NAMES.artifacts, NAMES.adapters, NAMES.sse, NAMES.openapi],
})

export { sendApiError, apiErrorHandler, describeValidation } from './error-handler.js'
