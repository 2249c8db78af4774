import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { ApiError } from '../../sdk/api.js'
import type {} from '../dataplane/index.js'
import type {} from '../placement/index.js'
import type { PoolManager } from './manager.js'

const Params = Type.Object({ id: Type.String({ minLength: 1 }) })
const DrainRequest = Type.Object({
  deadline_ms: Type.Integer({ minimum: 1, description: 'how long running tasks may take before the engine is force-stopped' }),
}, { additionalProperties: false })
const ReloadRequest = Type.Object({
  new_model_ref: Type.String({ minLength: 1, description: 'the model to serve next: a path under the catalog root or catalog.model_dirs (symlinks followed), or hf:, https://, s3://, oci://' }),
}, { additionalProperties: false })

/** One configured pool as `GET /v1/pools` lists it (issue 11 item 4): what a client needs to address it, no paths or errors. */
const PoolListing = Type.Object({
  id: Type.String(),
  engine: Type.String(),
  model: Type.String({ description: 'the model name the pool answers to: what a task\'s model_ref (or an OpenAI request\'s model) must be' }),
  state: Type.String({ description: 'Unready, Preloading, Ready, Draining, Backoff, CircuitOpen or Stopped' }),
  ready: Type.Boolean(),
  draining: Type.Boolean(),
  slots_total: Type.Integer(),
  slots_free: Type.Integer({ description: '0 unless Ready and not draining' }),
  queue_depth: Type.Integer({ description: 'tasks waiting in the pool\'s queue' }),
  ctx_max: Type.Union([Type.Integer(), Type.Null()], {
    description: 'the tighter of the configured ctx and what the engine reports; null while neither is known',
  }),
})
const PoolList = Type.Object({ items: Type.Array(PoolListing) })

/**
 * Control plane for pools (spec api-and-core.md §3.1, decision 4): the list (issue 11), health, drain and reload.
 * Drain and reload answer 202 at once; their outcome shows on the health endpoint
 * (`state`, `target_model`, `last_error`, `operation`).
 */
export const poolRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const managerOf = (id: string): PoolManager => {
    const m = app.pool.manager(id)
    if (!m) {
      const known = app.pool.configs.map((c) => c.id)
      throw new ApiError('POOL_UNAVAILABLE', `no pool "${id}" is configured${known.length > 0 ? ` (pools: ${known.join(', ')})` : ''}`, {
        pool_id: id,
        status: 404,
      })
    }
    return m
  }
  const claim = (m: PoolManager, what: string): void => {
    const conflict = m.conflict()
    if (conflict) {
      throw new ApiError('POOL_UNREADY', `cannot ${what} now: ${conflict}; watch GET /v1/pools/${m.id}/health and retry when it ends`, {
        pool_id: m.id,
        status: 409,
      })
    }
  }

  app.get('/pools', {
    schema: { tags: ['control'], summary: 'List the configured pools and the model names they answer to', response: { 200: PoolList } },
  }, async () => {
    // admission's own view (placement snapshots): the same ctx_max a task is checked against
    const snapshots = new Map(app.placement.snapshots().map((p) => [p.id, p]))
    const items = app.pool.configs.map((c) => {
      const e = app.pool.registry.get(c.id)!
      const ctxMax = snapshots.get(c.id)?.ctxMax
      return {
        id: c.id,
        engine: c.engine,
        model: c.model,
        state: e.state,
        ready: e.health.ready,
        draining: e.draining,
        slots_total: e.slots_total,
        slots_free: app.pool.registry.slotsFree(c.id),
        queue_depth: app.dataplane.queueDepth(c.id),
        ctx_max: ctxMax !== undefined && Number.isSafeInteger(ctxMax) && ctxMax < Number.MAX_SAFE_INTEGER ? ctxMax : null,
      }
    })
    return { items }
  })

  app.get('/pools/:id/health', { schema: { params: Params } }, async (req) => {
    managerOf(req.params.id)
    // the queue belongs to the data plane, a later stage: the route reads it when asked
    return app.pool.health(req.params.id, app.dataplane.queueDepth(req.params.id))
  })

  app.post('/pools/:id/drain', { schema: { params: Params, body: DrainRequest } }, async (req, reply) => {
    const m = managerOf(req.params.id)
    claim(m, 'drain')
    void m.drain(req.body.deadline_ms)
    return reply.code(202).send()
  })

  app.post('/pools/:id/reload', { schema: { params: Params, body: ReloadRequest } }, async (req, reply) => {
    const m = managerOf(req.params.id)
    // refused before anything reads, hashes or registers the file (issue 10 #1)
    const refused = await m.refuseRef(req.body.new_model_ref)
    if (refused !== null) throw new ApiError('INVALID_PARAMS', `new_model_ref: ${refused}`, { pool_id: m.id, status: 400 })
    claim(m, 'reload')
    void m.reload(req.body.new_model_ref)
    return reply.code(202).send()
  })
}
