import type { FastifyPluginAsync } from 'fastify'
import { openapiRoute } from './openapi.js'
import { dataPlaneRoutes } from '../dataplane/routes.js'
import { poolRoutes } from '../pool/routes.js'
import { catalogRoutes } from '../catalog/routes.js'
import { artifactRoutes } from '../artifacts/routes.js'
import { capabilitiesRoute } from '../adapters/routes.js'

/**
 * The route plugins mounted under `/v1`, in registration order. Each lives in the folder of
 * the plugin it serves (e.g. `plugins/catalog/routes.ts`) and is a plain, non-fp plugin, so
 * its hooks stay inside the API context. They read shared state from the app decorators.
 */
export const API_ROUTES: FastifyPluginAsync[] = [
  openapiRoute,
  dataPlaneRoutes,
  poolRoutes as FastifyPluginAsync,
  catalogRoutes,
  artifactRoutes,
  capabilitiesRoute,
]
