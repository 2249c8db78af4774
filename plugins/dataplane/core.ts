import type { Clock } from '../../lib/clock.js'
import { Throttle } from './throttle.js'
import type { AdapterHost } from '../../sdk/index.js'
import type { ContractMetrics } from '../metrics/index.js'
import type { Narrator } from '../../sdk/narration.js'
import type { Placement } from '../placement/index.js'
import type { PoolRegistry } from '../pool/index.js'
import type { PoolConfig } from '../../sdk/pool-config.js'
import { AdmissionQueue, type Priority } from './queue.js'
import { newPoolStats, type PoolStats } from './predict.js'
import type { QueueDefaults, SessionsConfig, SseConfig, TasksConfig } from './schema.js'
import { createSessionStore, type SessionStore } from './sessions.js'
import { QueueDepth, type StreamMetrics } from './telemetry.js'
import type { Task } from './tasks.js'

/** Catalog lifecycle of a model (issue 6 adds `app.catalog.lifecycle`); undefined = unknown. */
export type Lifecycle = (modelId: string) => 'Active' | 'Retired' | undefined

export interface DataPlaneConfig { queue: QueueDefaults, sessions: SessionsConfig, sse: SseConfig, tasks: TasksConfig }

export interface CoreDeps {
  registry: PoolRegistry
  configs: readonly PoolConfig[]
  placement: Placement
  host: AdapterHost
  metrics: ContractMetrics
  narrator: Narrator
  clock: Clock
  /** The engines adapters have registered (decision 7). */
  engines: () => string[]
  lifecycle: Lifecycle
  config: DataPlaneConfig
  /** Called once per task at its terminal frame (the transcript artifact). */
  onRetire?: (task: Task) => void
}

/** The shared state of the data plane; admission, dispatch and the routes all work on it. */
export interface Core extends CoreDeps {
  readonly tasks: Map<string, Task>
  /** Queued and running tasks (what the sweep's watchdog looks at). */
  readonly active: Set<Task>
  /** Finished tasks in the order they finished (retention expiry pops from the front). */
  readonly finished: Map<string, Task>
  readonly queues: Map<string, AdmissionQueue<string>>
  readonly stats: Map<string, PoolStats>
  readonly streams: Map<string, StreamMetrics>
  readonly sessions: SessionStore
  readonly depth: QueueDepth
  /** Set when `queue.throttle` is configured. */
  readonly throttle: Throttle | undefined
}

export function createCore (deps: CoreDeps): Core {
  const queues = new Map<string, AdmissionQueue<string>>()
  const stats = new Map<string, PoolStats>()
  for (const c of deps.configs) {
    queues.set(c.id, new AdmissionQueue<string>(c.queue.capacity, c.queue.full_policy))
    stats.set(c.id, newPoolStats())
  }
  return {
    ...deps,
    tasks: new Map(),
    active: new Set(),
    finished: new Map(),
    queues,
    stats,
    streams: new Map(),
    // a session that goes, deleted or expired (§2.4): ask the replica holding its KV to free it
    sessions: createSessionStore(deps.config.sessions, deps.clock, (id, s) => {
      if (s.affinity) void deps.host.freeSession(s.affinity.poolId, id, s.affinity.replicaId)
    }),
    depth: new QueueDepth(deps.metrics),
    throttle: deps.config.queue.throttle ? new Throttle(deps.config.queue.throttle.tasks_per_s, deps.config.queue.throttle.burst) : undefined,
  }
}

export function poolConfig (core: Core, poolId: string): PoolConfig {
  return core.configs.find((c) => c.id === poolId)!
}

/** The engine version known for a pool before a stream reports one ('' when none is known yet). */
export function poolEngineVersion (core: Core, poolId: string): string {
  return core.registry.get(poolId)?.engine_version ?? core.host.replicas(poolId).find((r) => r.engineVersion)?.engineVersion ?? ''
}

export function updateDepth (core: Core, poolId: string): void {
  const q = core.queues.get(poolId)!
  const engine = poolConfig(core, poolId).engine
  const version = poolEngineVersion(core, poolId)
  for (const p of ['interactive', 'batch'] as Priority[]) core.depth.set(poolId, engine, version, p, q.lenOf(p))
}

/** Moves a task out of the active set into the retention list. */
export function retire (core: Core, task: Task): void {
  if (core.finished.has(task.id)) return
  task.endedAt ??= core.clock.nowMs()
  core.active.delete(task)
  core.finished.set(task.id, task)
  core.onRetire?.(task)
}
