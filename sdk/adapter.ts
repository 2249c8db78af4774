/**
 * The engine adapter contract (spec adapters-observability-testing.md §1.1, §3.1): what an
 * adapter plugin registers, what each adapter does for one (pool, replica), and the adapter
 * host through which the rest of the server talks to engines.
 */
import type { PoolConfig } from './pool-config.js'
import type { TaskRequest, Workload } from './task.js'

export type WorkerErrorKind = 'DEADLINE_UNMET' | 'POOL_UNAVAILABLE' | 'DECODE_TIMEOUT' | 'WORKER_RESET' | 'INTERNAL' | 'ADAPTER'

export interface WorkerHealth { live: boolean, ready: boolean }
export interface WorkerProps { slots_total: number | null, slots_free: number | null, ctx_max?: number | null, engine_version?: string | null }

export interface WorkerErrorData {
  kind: WorkerErrorKind
  /** Redacted, at most 512 characters. */
  message: string
  retriable: boolean
  retry_after_ms?: number
  upstream_status?: number
  engine: string
}

export interface StartedData {
  engine: string
  engine_version: string
  sampler_profile_version?: string
  model_digest?: string
  seed?: number
  tokens_in?: number
  pool_id: string
  replica_id: string
}

export interface EndData {
  tokens_out: number
  decode_time_ms: number
  tokens_in?: number
  stop_reason: 'eos' | 'length' | 'stop' | 'canceled'
  /** An `embedding` task's answer (issue 11): one vector per input, in input order. */
  embeddings?: number[][]
}

export type TokenEvent =
  | { kind: 'started', data: StartedData }
  | { kind: 'token', data: { t: string, i: number } }
  | { kind: 'metrics', data: Record<string, number | boolean | string> }
  | { kind: 'end', data: EndData }
  | { kind: 'error', data: WorkerErrorData }

export interface CallOpts { signal?: AbortSignal, timeoutMs?: number }
export interface SubmitOpts { signal: AbortSignal, deadlineAt: number, poolId: string, replicaId: string }

export interface WorkerAdapter {
  readonly engine: string
  health (o?: CallOpts): Promise<WorkerHealth>
  props (o?: CallOpts): Promise<WorkerProps>
  /** `started → token* → metrics? → end | error`; engine failures are yielded as `error`, never thrown. */
  submit (req: TaskRequest, o: SubmitOpts): AsyncIterable<TokenEvent>
  /** Best-effort and idempotent: after it returns no further `token` is yielded for the task. */
  cancel (taskId: string): Promise<void>
  engineVersion (o?: CallOpts): Promise<string>
  /** Optional: what the engine can do (ctx, slots, features); feeds the host's capability cache (ORCH-3603). */
  capabilities? (o?: CallOpts): Promise<CapabilitySnapshot>
  /** Optional: the engine's own metrics mapped to contract gauges (spec §5.4); the host sets them. */
  scrapeMetrics? (o?: CallOpts): Promise<EngineMetricsSnapshot>
  /**
   * Optional: frees the engine-side KV cache a session left behind (api-and-core §2.4,
   * `DELETE /v1/sessions/{id}`). Best-effort; resolves whether or not there was anything.
   */
  freeSession? (sessionId: string, o?: CallOpts): Promise<void>
  close (): Promise<void>
}

/** One replica's capabilities as its adapter reports them; fields left out are unknown. */
export interface CapabilitySnapshot {
  ctx_max?: number | null
  slots_total?: number | null
  engine_version?: string | null
  supported_workloads?: Workload[]
  rate_limits?: Record<string, unknown>
  /** e.g. `streaming`, `cancel`, `seed`, `metrics_scrape`, `batching`. */
  features?: Record<string, unknown>
}

/** Engine-native series mapped to the contract (kv_cache_usage_ratio 0..1; Triton GPU gauges). */
export interface EngineMetricsSnapshot {
  kv_cache_usage_ratio?: number
  gpus?: Array<{ device: string, utilization_percent?: number, vram_used_bytes?: number }>
}

/** Where one replica of a pool is reachable, handed to an adapter factory. */
export interface AdapterBinding {
  poolId: string
  replicaId: string
  baseUrl: string
  pool: PoolConfig
}

/** What an adapter plugin registers: a way to build one adapter per (pool, replica). */
export interface AdapterFactory {
  engine: string
  create (binding: AdapterBinding): WorkerAdapter
}

export interface AdapterRegistry {
  /** Throws if another adapter already serves the engine. */
  add (factory: AdapterFactory): void
  get (engine: string): AdapterFactory | undefined
  list (): AdapterFactory[]
  engines (): string[]
}

/** Per-engine entry of `GET /v1/capabilities` (spec adapters §3.2, api-and-core §3.2). */
export interface EngineCapability {
  engine: string
  ctx_max: number
  supported_workloads: Workload[]
  rate_limits: Record<string, unknown>
  features: Record<string, unknown>
  concurrency?: number
  engine_version?: string
  /** Per configured pool of the engine (additive, spec adapters §3.2). */
  pools?: Array<{ pool_id: string, replicas: number, slots_total: number, ready: boolean }>
}

export interface ReplicaStatus {
  poolId: string
  replicaId: string
  engine: string
  engineVersion: string | null
  breaker: 'closed' | 'open' | 'half-open'
  /** Tasks this host is streaming on the replica right now. */
  inFlight: number
  /** The context window the engine reports (else the pool's configured `ctx`); null when unknown. */
  ctxMax: number | null
}

/**
 * The adapter host (spec adapters §3.1, ORCH-3600..3604): the only way the rest of the
 * server talks to engines. The pool manager binds one adapter per (pool, replica) once the
 * replica is Ready; dispatch submits through it. Decorated as `app.adapterHost` by `orc.adapters`.
 */
export interface AdapterHost {
  /** Checks the engine-version pin, caches capabilities, narrates `bind`. */
  bind (poolId: string, replicaId: string, adapter: WorkerAdapter): Promise<void>
  /** New submits go to the new adapter; in-flight streams finish on the old one. */
  rebind (poolId: string, replicaId: string, adapter: WorkerAdapter): Promise<void>
  unbind (poolId: string, replicaId: string, o?: { drainDeadlineMs?: number }): Promise<void>
  replicas (poolId?: string): ReplicaStatus[]
  /**
   * Streams one task on a Ready replica of the pool (the named one, else the most free
   * slots, ties by replica id). Never throws for engine failures: they arrive as `error`.
   */
  submit (poolId: string, req: TaskRequest, o: { signal: AbortSignal, deadlineAt: number, replicaId?: string }): AsyncIterable<TokenEvent>
  /** Marks the task canceled synchronously, aborts its stream, then asks the adapter to cancel. */
  cancel (poolId: string, taskId: string): Promise<void>
  health (poolId: string): Promise<WorkerHealth>
  props (poolId: string): Promise<WorkerProps>
  /** From the cache only: never calls an engine on the request path. */
  capabilities (): EngineCapability[]
  /** Asks the replica (else every replica of the pool) to free the session's KV; never throws. */
  freeSession (poolId: string, sessionId: string, replicaId?: string): Promise<void>
}
