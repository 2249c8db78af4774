import type { AdapterHost } from '../../sdk/adapter.js'
import type { PoolConfig } from '../../sdk/pool-config.js'
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
