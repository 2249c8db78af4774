import type { AdapterHost } from '../../sdk/adapter.js'
import { replicaIdsOf, type PoolConfig } from '../../sdk/pool-config.js'
import type { TaskRequest } from '../../sdk/task.js'
import type { PoolRegistry } from '../pool/index.js'

/** What the data plane reads of its pools: their config and what the registry and host know now. */
export interface PoolView {
  readonly ids: readonly string[]
  config (poolId: string): PoolConfig
  /** The engine version known for a pool before a stream reports one ('' when none is known yet). */
  engineVersion (poolId: string): string
  /** The pool's engine build as the registry has it (issue 12 #4): digest and EngineEntry id, null when unknown. */
  engineBuild (poolId: string): { digest: string | null, catalogId: string | null }
  /** The replica a task is reported under before its stream names one: the only bound replica, else ''. */
  soleReplica (poolId: string): string
}

export function createPoolView (configs: readonly PoolConfig[], registry: Pick<PoolRegistry, 'get'>, host: Pick<AdapterHost, 'replicas'>): PoolView {
  const byId = new Map(configs.map((c) => [c.id, c]))
  return {
    ids: configs.map((c) => c.id),
    config: (poolId) => byId.get(poolId)!,
    engineVersion: (poolId) => registry.get(poolId)?.engine_version ?? host.replicas(poolId).find((r) => r.engineVersion)?.engineVersion ?? '',
    engineBuild (poolId) {
      const e = registry.get(poolId)
      return { digest: e?.engine_digest ?? null, catalogId: e?.engine_catalog_id ?? null }
    },
    soleReplica (poolId) {
      const bound = host.replicas(poolId)
      return bound.length === 1 ? bound[0]!.replicaId : ''
    },
  }
}

/** Why a task's pin names no configured pool or replica (TaskRequest.placement), or undefined. */
export function pinRefusal (pin: NonNullable<TaskRequest['placement']>, pools: Pick<PoolView, 'ids' | 'config'>): string | undefined {
  if (!pools.ids.includes(pin.pin_pool_id)) {
    return `/placement/pin_pool_id ${JSON.stringify(pin.pin_pool_id)} is not a configured pool (pools: ${pools.ids.join(', ') || 'none'})`
  }
  if (pin.pin_replica_id === undefined) return undefined
  const ids = replicaIdsOf(pools.config(pin.pin_pool_id))
  return ids.includes(pin.pin_replica_id)
    ? undefined
    : `/placement/pin_replica_id ${JSON.stringify(pin.pin_replica_id)} is not a replica of pool ${pin.pin_pool_id} (its replicas: ${ids.join(', ')})`
}
