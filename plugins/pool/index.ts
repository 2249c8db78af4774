import fp from 'fastify-plugin'
import type { FastifyPluginAsync } from 'fastify'
import { NAMES } from '../../core/names.js'
import { createPoolRegistry, type PoolRegistry, type PoolState } from './registry.js'
import type { PoolConfig } from './schema.js'

export interface PoolStatus {
  id: string
  engine: string
  state: PoolState
  live: boolean
  ready: boolean
  draining: boolean
  last_error: string | null
}

export interface Pool {
  readonly registry: PoolRegistry
  readonly configs: readonly PoolConfig[]
  status (poolId: string): PoolStatus | undefined
  list (): PoolStatus[]
  /** True only when every configured pool is Ready (an empty configuration is ready). */
  allReady (): boolean
}

declare module 'fastify' {
  interface FastifyInstance { pool: Pool }
}

export interface PoolOptions { pools: PoolConfig[] }

/**
 * The pool stage: one registry entry per configured pool, Unready until the three-gate
 * rule passes. Preload, supervision, drain and reload are built by the pool-manager issue;
 * until then a configured pool is honestly reported Unready.
 */
const poolPlugin: FastifyPluginAsync<PoolOptions> = async (app, opts) => {
  const registry = createPoolRegistry()
  const configs = opts.pools ?? []
  for (const c of configs) registry.upsert(c.id, { engine: c.engine, device_mask: [...c.devices], slots_total: c.slots_total ?? 0 })
  const status = (id: string): PoolStatus | undefined => {
    const e = registry.get(id)
    const c = configs.find((p) => p.id === id)
    if (!e || !c) return undefined
    return { id, engine: c.engine, state: e.state, live: e.health.live, ready: e.health.ready, draining: e.draining, last_error: e.last_error }
  }
  const list = (): PoolStatus[] => configs.map((c) => status(c.id)!)
  app.decorate('pool', { registry, configs, status, list, allReady: () => list().every((p) => p.ready) })
}

export default fp(poolPlugin, {
  name: NAMES.pool,
  fastify: '5.x',
  dependencies: [NAMES.provisioners],
  decorators: { fastify: ['provisioners'] },
})
