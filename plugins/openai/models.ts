import type { FastifyInstance } from 'fastify'

/** One entry of `GET /v1/models` (openai-compat.md §1): OpenAI's fields plus where it is served. */
export interface ModelEntry {
  id: string
  object: 'model'
  created: number
  owned_by: 'llama-orch'
  ready: boolean
  pools: string[]
  ctx_max: number | null
}

/** One entry per logical model the configured pools serve, sorted by id. */
export function listModels (app: FastifyInstance, created: number): ModelEntry[] {
  const byModel = new Map<string, ModelEntry>()
  for (const c of app.pool.configs) {
    const e = byModel.get(c.model) ?? { id: c.model, object: 'model', created, owned_by: 'llama-orch', ready: false, pools: [], ctx_max: null }
    e.pools.push(c.id)
    e.ready ||= app.pool.registry.get(c.id)?.health.ready === true
    if (c.ctx !== undefined && c.ctx !== null) e.ctx_max = Math.max(e.ctx_max ?? 0, c.ctx)
    byModel.set(c.model, e)
  }
  return [...byModel.values()].sort((a, b) => a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
}
