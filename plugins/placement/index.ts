import fp from 'fastify-plugin'
import type { FastifyPluginAsync } from 'fastify'
import { NAMES } from '../../lib/names.js'
import { systemClock, type Clock } from '../../lib/clock.js'
import { Value } from 'typebox/value'
import { PlacementConfig } from './schema.js'
import { createPlacement, type Placement } from './service.js'

declare module 'fastify' {
  interface FastifyInstance { placement: Placement }
}

export interface PlacementOptions extends Partial<PlacementConfig> { clock?: Clock }

/**
 * The placement stage (spec api-and-core.md §4.3): snapshots of the configured pools from the
 * pool registry, the feasibility filter and scoring of `placement.ts`, snapshot_version and the
 * decision cache. Admission asks `app.placement.place(job)`; nothing here does I/O.
 */
const placementPlugin: FastifyPluginAsync<PlacementOptions> = async (app, opts) => {
  const { clock = systemClock, ...rest } = opts
  const config = Value.Default(PlacementConfig, Value.Clone(rest)) as PlacementConfig
  const engineCtxMax = (poolId: string): number | null => {
    const known = app.adapterHost.replicas(poolId).flatMap((r) => r.ctxMax === null ? [] : [r.ctxMax])
    return known.length > 0 ? Math.min(...known) : null
  }
  app.decorate('placement', createPlacement(config, { registry: app.pool.registry, configs: app.pool.configs, clock, engineCtxMax }))
}

export default fp(placementPlugin, {
  name: NAMES.placement,
  fastify: '5.x',
  dependencies: [NAMES.pool, NAMES.adapters],
  decorators: { fastify: ['pool', 'adapters', 'adapterHost'] },
})

export { decide, incompatibility, capAtLeast } from './placement.js'
export { refusalOf, explain, type Refusal } from './refusal.js'
export type { PoolSnapshot, JobSpec, PlacementDecision, IncompatibleReason, PlacementPolicy, NoCapacityCode } from './placement.js'
export type { Placement, PlaceOptions } from './service.js'
