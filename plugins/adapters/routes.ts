import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { API_VERSION } from '../../sdk/api.js'

const Workload = Type.Enum(['completion', 'embedding', 'rerank'])

export const CapabilitiesResponse = Type.Object({
  api_version: Type.String({ description: 'equals the OpenAPI info.version (ORCH-3096)' }),
  engines: Type.Array(Type.Object({
    engine: Type.String(),
    ctx_max: Type.Integer({ minimum: 0, description: 'max over the pools of the engine' }),
    supported_workloads: Type.Array(Workload),
    rate_limits: Type.Record(Type.String(), Type.Unknown()),
    features: Type.Record(Type.String(), Type.Unknown()),
    concurrency: Type.Optional(Type.Integer({ minimum: 0, description: 'sum of slots of the bound replicas' })),
    engine_version: Type.Optional(Type.String()),
    pools: Type.Optional(Type.Array(Type.Object({ pool_id: Type.String(), replicas: Type.Integer(), slots_total: Type.Integer(), ready: Type.Boolean() }))),
  })),
})

/**
 * `GET /v1/capabilities` (spec adapters §3.2, api-and-core §3.2, ORCH-3603, scenario 23): served
 * from the adapter host's cache, never by calling an engine on the request path.
 */
export const capabilitiesRoute: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/capabilities', {
    schema: { summary: 'Engines this orchestrator serves, with context size and concurrency', tags: ['control'], response: { 200: CapabilitiesResponse } },
  }, async () => ({ api_version: API_VERSION, engines: app.adapterHost.capabilities() }))
}
