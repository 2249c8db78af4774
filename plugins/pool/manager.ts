/**
 * The manager of one pool: a set of `replicas` replica managers (default 1), each supervising
 * its own engine process with its own restart policy and registry entry. The pool's registry
 * entry is their aggregate (aggregate.ts), so placement and health read one pool. Drain stops
 * every replica; reload rolls over them one at a time, the first as a canary, each atomic, and
 * a failure part-way rolls the replicas already moved back so the pool serves one model.
 */
import type { PoolConfig } from '../../sdk/pool-config.js'
import { createPoolRegistry, type PoolEntry, type PoolRegistry } from './registry.js'
import { Operated, ReplicaManager, type ManagerDeps } from './replica-manager.js'
import type { Launched } from './launch.js'
import type { ResolvedModel } from './model-gate.js'
import { aggregateEntry } from './aggregate.js'

export { DRIVER_ERROR, replicaIdOf, type Binder, type ManagerDeps, type Narrate, type Operation } from './replica-manager.js'

/** The replica managers' deps, `registry` being the shared one whose pool entry is their aggregate. */
export type PoolManagerDeps = ManagerDeps

/** The pool config replica `index` launches with: an external set gives each replica its own port. */
export function replicaConfig (cfg: PoolConfig, index: number): PoolConfig {
  const ports = cfg.provisioning.ports
  if ((cfg.replicas ?? 1) === 1 || cfg.provisioning.mode !== 'external' || !ports) return cfg
  return { ...cfg, provisioning: { ...cfg.provisioning, ports: [ports[index]!] } }
}

export class PoolManager extends Operated {
  readonly id: string
  readonly replicas: readonly ReplicaManager[]
  private readonly deps: PoolManagerDeps
  private readonly registries: readonly PoolRegistry[]

  constructor (cfg: PoolConfig, deps: PoolManagerDeps) {
    super(deps.nowMs)
    this.id = cfg.id
    this.deps = deps
    const n = cfg.replicas ?? 1
    // each replica manager writes only its own entry (a private registry); sync() aggregates them
    this.registries = Array.from({ length: n }, () => observed(createPoolRegistry(), () => this.sync()))
    for (const r of this.registries) r.upsert(cfg.id, { engine: cfg.engine, slots_total: cfg.slots_total ?? 0 })
    this.replicas = this.registries.map((registry, i) => new ReplicaManager(replicaConfig(cfg, i), { ...deps, registry }, i))
  }

  /** The replica entries, in replica order. */
  entries (): ReadonlyArray<Readonly<PoolEntry>> { return this.registries.map((r) => r.get(this.id)!) }

  /** Writes the aggregate of the replica entries into the pool's entry. */
  private sync (): void {
    const entries = this.entries()
    // the constructor fills the replica entries one by one: aggregate once all exist
    if (entries.every(Boolean) && this.deps.registry.get(this.id)) this.deps.registry.upsert(this.id, aggregateEntry(entries))
  }

  /** The replica serving now (the first Ready one), else the first. */
  private lead (): ReplicaManager {
    const entries = this.entries()
    return this.replicas[entries.findIndex((e) => e.health.ready)] ?? this.replicas[0]!
  }

  get model (): ResolvedModel | null { return this.lead().model }
  get targetRef (): string { return this.replicas[0]!.targetRef }
  get current (): Launched | null { return this.lead().current }

  start (): void { for (const r of this.replicas) r.start() }

  conflict (): string | null {
    if (this.busy) return `a ${this.busy} of pool ${this.id} is in progress`
    for (const r of this.replicas) {
      const c = r.conflict()
      if (c) return c
    }
    return null
  }

  async drain (deadlineMs: number): Promise<void> {
    this.begin('drain', null)
    await Promise.all(this.replicas.map((r) => r.drain(deadlineMs)))
    this.finish(null)
  }

  refuseRef (ref: string): Promise<string | null> { return this.replicas[0]!.refuseRef(ref) }

  /**
   * Reloads the replicas to `ref` one after another. The pool keeps serving throughout: each
   * replica swaps atomically, and the others serve while it does. When replica k fails, the
   * replicas before it go back to the model they served, and the failure is the pool's.
   */
  async reload (ref: string): Promise<void> {
    this.begin('reload', ref)
    const before = this.replicas.map((r) => r.targetRef)
    let error: string | null = null
    let moved = 0
    for (const r of this.replicas) {
      await r.reload(ref)
      if (r.operation?.state === 'failed') { error = this.replicas.length > 1 ? `${r.replicaId}: ${r.operation.error}` : r.operation.error; break }
      moved++
    }
    if (error !== null) {
      for (let i = 0; i < moved; i++) await this.replicas[i]!.reload(before[i]!)
      if (this.replicas.length > 1) error = `${error}${moved > 0 ? `; ${moved} replica${moved === 1 ? '' : 's'} rolled back to ${before[0]}` : ''}`
    }
    this.finish(error)
  }

  async close (): Promise<void> { await Promise.all(this.replicas.map((r) => r.close())) }
}

/** `registry` with `onChange` called after every write the replica manager makes. */
function observed (registry: PoolRegistry, onChange: () => void): PoolRegistry {
  return {
    ...registry,
    upsert (id, patch) { const e = registry.upsert(id, patch); onChange(); return e },
    setHeartbeat (id, ms) { registry.setHeartbeat(id, ms); onChange() },
  }
}
