import type { FastifyPluginAsync } from 'fastify'
import { openapiRoute } from './openapi.js'
import { capabilitiesRoute } from '../adapters/routes.js'

/**
 * The route plugins mounted under `/v1`, in registration order. Each lives in the folder of
 * the plugin it serves (e.g. `plugins/catalog/routes.ts`) and is a plain, non-fp plugin, so
 * its hooks stay inside the API context. They read shared state from the app decorators.
 */
export const API_ROUTES: FastifyPluginAsync[] = [
  openapiRoute,
  capabilitiesRoute,
]
