import type { CatalogEvent } from '../catalog/index.js'
import type { PoolManager } from './manager.js'
import type { PoolRegistry } from './registry.js'
import type { PoolConfig } from '../../sdk/pool-config.js'

type Narrate = (fields: { actor: 'pool-managerd', action: string, target: string, [k: string]: unknown }, human: string, level?: 'info' | 'warn') => void

/**
 * Catalog spec §4.7: retiring a model drains the pools serving it (honouring the state change's
 * `deadline_ms`, else the pool's `drain_default_deadline_ms`) and unloads it; its files stay. A
 * restart cannot bring it back: the model gate refuses a Retired model. A pool busy with a
 * reload or drain is left to it, with a warning.
 */
export function drainOnRetire (
  configs: readonly PoolConfig[],
  managers: ReadonlyMap<string, PoolManager>,
  registry: PoolRegistry,
  narrate: Narrate
): (ev: CatalogEvent) => void {
  return (ev) => {
    if (ev.type !== 'state' || ev.state !== 'Retired') return
    for (const c of configs) {
      const m = managers.get(c.id)!
      if (m.current?.model.id !== ev.id || registry.get(c.id)!.state === 'Stopped') continue
      const conflict = m.conflict()
      if (conflict) {
        narrate({ actor: 'pool-managerd', action: 'drain', target: m.id, model_id: ev.id, reason: conflict },
          `pool ${m.id} serves retired model ${ev.id} but cannot drain now`.slice(0, 100), 'warn')
        continue
      }
      void m.drain(ev.deadline_ms ?? c.supervision.drain_default_deadline_ms)
    }
  }
}
