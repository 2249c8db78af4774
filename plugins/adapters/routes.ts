import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { API_VERSION } from '../../sdk/api.js'
import type {} from '../pool/index.js'

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
    pools: Type.Optional(Type.Array(Type.Object({
      pool_id: Type.String(),
      replicas: Type.Integer(),
      slots_total: Type.Integer(),
      ready: Type.Boolean(),
      // the engine build serving the pool (issue 12 #4), null until it first served
      engine_version: Type.Optional(Type.Union([Type.String(), Type.Null()])),
      engine_digest: Type.Optional(Type.Union([Type.String(), Type.Null()])),
      engine_catalog_id: Type.Optional(Type.Union([Type.String(), Type.Null()])),
      compute_mode: Type.Optional(Type.Union([Type.Enum(['gpu', 'cpu']), Type.Null()])),
    }))),
  })),
})

/**
 * `GET /v1/capabilities` (spec adapters §3.2, api-and-core §3.2, ORCH-3603, scenario 23): served
 * from the adapter host's cache, never by calling an engine on the request path.
 */
export const capabilitiesRoute: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/capabilities', {
    schema: { summary: 'Engines this orchestrator serves, with context size and concurrency', tags: ['control'], response: { 200: CapabilitiesResponse } },
  }, async () => ({
    api_version: API_VERSION,
    engines: app.adapterHost.capabilities().map((e) => ({
      ...e,
      // the build facts are the pool manager's (the registry), read through its decorator
      pools: e.pools?.map((p) => {
        const r = app.pool.registry.get(p.pool_id)
        return {
          ...p,
          engine_version: r?.engine_version ?? null,
          engine_digest: r?.engine_digest ?? null,
          engine_catalog_id: r?.engine_catalog_id ?? null,
          compute_mode: r?.compute_mode ?? null,
        }
      }),
    })),
  }))
}
