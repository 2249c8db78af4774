/**
 * The manager of one replica of a pool (spec pools §1.3–1.8): preload through the three gates,
 * the state machine of §1.4, supervision (crash or repeated probe failures → Unready → backoff
 * restart, restart-storm breaker), drain with a deadline, and atomic reload (decision 4: the new
 * process starts and passes its health check before the old one stops; on failure the old one
 * keeps serving). Every transition is written to the replica's registry entry and narrated;
 * the pool's entry is the aggregate of its replicas' (manager.ts).
 */
import { replicaIdOf, type PoolConfig } from '../../sdk/pool-config.js'

export { replicaIdOf }
import type { PoolRegistry } from './registry.js'
import { RestartPolicy } from './backoff.js'
import { configuredTarget, errorMessage, launch, type LaunchDeps, type Launched, type Target } from './launch.js'
import { GateError } from './errors.js'
import type { Replica } from './replica.js'
import type { ResolvedModel } from './model-gate.js'
import type { RefGuard } from './ref-guard.js'

export type Narrate = (
  fields: { actor: 'pool-managerd', action: string, target: string, [k: string]: unknown },
  human: string,
  level?: 'info' | 'warn' | 'error'
) => void

/** How the manager reaches the adapter host (absent until an adapter host and adapter exist). */
export interface Binder {
  bind (replicaId: string, launched: Launched, first: boolean): Promise<void>
  unbind (replicaId: string): Promise<void>
}

export interface ManagerDeps extends Omit<LaunchDeps, 'track'> {
  registry: PoolRegistry
  narrate: Narrate
  binder: Binder
  /** Tasks running on the pool now (leases, plus the adapter host's in-flight count). */
  inFlight: () => number
  /** True when the replica serves no task (engine-specific; falls back to inFlight() === 0). */
  replicaIdle: (replica: Replica) => Promise<boolean>
  random?: () => number
  /** Refuses client refs outside the model directories and non-model files (issue 10 #1). */
  refGuard?: RefGuard
}

export interface Operation {
  kind: 'drain' | 'reload'
  state: 'running' | 'succeeded' | 'failed'
  target_model: string | null
  started_ms: number
  finished_ms: number | null
  error: string | null
}

/**
 * The drain or reload in progress (`busy`) and the last one's outcome (`operation`, decision 4:
 * 202 now, the outcome on the health endpoint); kept the same way by a replica and by its pool.
 */
export class Operated {
  busy: Operation['kind'] | null = null
  operation: Operation | null = null
  readonly #now: () => number

  constructor (now: () => number) { this.#now = now }

  protected begin (kind: Operation['kind'], target: string | null): void {
    this.busy = kind
    this.operation = { kind, state: 'running', target_model: target, started_ms: this.#now(), finished_ms: null, error: null }
  }

  /** Succeeded without an error, failed with one. */
  protected finish (error: string | null): void {
    this.operation = { ...this.operation!, state: error === null ? 'succeeded' : 'failed', finished_ms: this.#now(), error }
    this.busy = null
  }
}

/** Lines by which CUDA, HIP/ROCm and Vulkan builds of llama.cpp report a broken device or driver. */
export const DRIVER_ERROR = /\b(CUDA error|cudaError\w+|CUDA_ERROR_\w+|HIP error|hipError\w+|ErrorDeviceLost|VK_ERROR_DEVICE_LOST|uncorrectable ECC|ECC error)\b/i

export class ReplicaManager extends Operated {
  readonly id: string
  readonly replicaId: string
  /** How narration names it: `pool p` for a pool of one replica, `pool p/r1` in a set. */
  readonly label: string
  private readonly cfg: PoolConfig
  private readonly deps: ManagerDeps
  private readonly policy: RestartPolicy
  private target: Target
  private replica: Replica | null = null
  private launched: Launched | null = null
  private bound = false
  private timer: unknown = null
  private healthTimer: unknown = null
  private probeFailures = 0
  private closed = false
  private launching = false
  /** A crash during a reload: its restart waits for the reload's outcome (issue 10 #1). */
  private restartDue = false
  private readonly spawned = new Set<Replica>()
  private readonly attempts = new Set<Promise<void>>()
  private readonly launchDeps: LaunchDeps
  private readonly aborter = new AbortController()

  constructor (cfg: PoolConfig, deps: ManagerDeps, index = 0) {
    super(deps.nowMs)
    this.cfg = cfg
    this.deps = deps
    this.id = cfg.id
    this.replicaId = replicaIdOf(cfg.id, index)
    this.label = (cfg.replicas ?? 1) > 1 ? `pool ${cfg.id}/r${index}` : `pool ${cfg.id}`
    this.target = configuredTarget(cfg)
    this.policy = new RestartPolicy(cfg.supervision, deps.random)
    this.launchDeps = {
      ...deps,
      signal: this.aborter.signal,
      track: (r) => {
        this.spawned.add(r)
        void r.exited.then(() => this.spawned.delete(r))
        if (this.closed) void r.stop(0)
      },
    }
  }

  get model (): ResolvedModel | null { return this.launched?.model ?? null }
  /** The serving engine's process id (none while down, or for an external engine). */
  get pid (): number | undefined { return this.replica?.pid }
  get targetRef (): string { return this.target.ref }
  get current (): Launched | null { return this.launched }

  private entry () { return this.deps.registry.get(this.id)! }
  private patch (p: Parameters<PoolRegistry['upsert']>[1]): void { this.deps.registry.upsert(this.id, p) }
  private narrate (action: string, human: string, fields: Record<string, unknown> = {}, level?: 'info' | 'warn' | 'error'): void {
    const e = this.entry()
    this.deps.narrate({
      actor: 'pool-managerd',
      action,
      target: this.id,
      pool_id: this.id,
      replica_id: this.replicaId,
      engine: this.cfg.engine,
      engine_version: e.engine_version,
      model_id: e.model_id,
      ...fields,
    }, human, level)
  }

  /** Preload in the background unless the pool says `preload: false` (then Unready until a reload). */
  start (): void {
    this.patch({ health: { live: true, ready: false } })
    if (this.cfg.preload === false) {
      this.narrate('preload', `${this.label} skips preload (preload: false); reload it to start`)
      return
    }
    void this.bringUp('preload')
  }

  /** One attempt through the gates with the current target; a failure schedules the next. */
  private bringUp (why: 'preload' | 'restart'): Promise<void> {
    const attempt = this.attempt(why)
    // close() waits for it: nothing of a start (a catalog write, a spawn) happens after close
    this.attempts.add(attempt)
    void attempt.finally(() => this.attempts.delete(attempt))
    return attempt
  }

  private async attempt (why: 'preload' | 'restart'): Promise<void> {
    if (this.closed) return
    // a reload in flight decides: its new replica serves, or the restart runs once it failed
    if (why === 'restart' && this.busy === 'reload') { this.restartDue = true; return }
    this.launching = true
    this.patch({ state: 'Preloading', health: { live: true, ready: false } })
    this.narrate(why, `${this.label} ${why === 'preload' ? 'preloads' : 'restarts'} model ${this.target.ref}`)
    try {
      const l = await launch(this.cfg, this.target, this.replicaId, this.launchDeps)
      if (this.closed) { await l.replica.stop(0); return }
      await this.adopt(l, why)
    } catch (err) {
      if (!this.closed) this.failed(err instanceof GateError ? `${err.gate} gate: ${err.message}` : errorMessage(err))
    } finally {
      this.launching = false
    }
  }

  private async adopt (l: Launched, why: string): Promise<void> {
    try {
      await this.deps.binder.bind(this.replicaId, l, !this.bound)
    } catch (err) {
      await l.replica.stop(1000)
      throw new GateError('bind', errorMessage(err))
    }
    this.bound = true
    this.deps.timers.clear(this.timer) // a restart still pending (a crash during a reload) has nothing left to do
    this.launched = l
    this.replica = l.replica
    this.probeFailures = 0
    const now = this.deps.nowMs()
    this.policy.healthy(now)
    const p = l.prepared
    const reported = l.reported
    this.patch({
      state: 'Ready',
      health: { live: true, ready: true },
      draining: false,
      last_error: null,
      last_heartbeat_ms: now,
      model_id: l.model.id,
      engine: p.engine,
      engine_version: reported.version,
      engine_digest: p.digest,
      engine_catalog_id: p.engine_catalog_id,
      compute_mode: reported.compute_mode,
      slots_total: this.cfg.slots_total ?? slotsFromArgs(p.args),
      backoff_ms: 0,
      perf_tokens_per_s: l.perf?.perf_tokens_per_s ?? null,
      first_token_ms: l.perf?.first_token_ms ?? null,
    })
    const e = this.entry()
    this.narrate('ready', `${this.label} is Ready on ${l.model.id} (${reported.compute_mode ?? 'compute mode unknown'})`, {
      why,
      device_mask: e.device_mask,
      replica_id: this.replicaId,
      pid: l.replica.pid,
      restart_count: e.restart_count,
      perf_tokens_per_s: e.perf_tokens_per_s,
      first_token_ms: e.first_token_ms,
    })
    void l.replica.exited.then((info) => {
      if (this.replica === l.replica) this.crashed(`engine exited (${info.signal ? `signal ${info.signal}` : `status ${info.code}`})`)
    })
    l.replica.onLine?.((line) => { if (this.replica === l.replica && DRIVER_ERROR.test(line)) this.driverReset(l.replica, line) })
    this.scheduleProbe()
  }

  /**
   * The engine printed a GPU driver or device error (spec pools §1.3): its device state can no
   * longer be trusted, so it is stopped now (running tasks end with WORKER_RESET) and restarted
   * after backoff like a crash, with a `driver_reset` event of its own.
   */
  private driverReset (r: Replica, line: string): void {
    const cause = `driver_reset: ${line.trim().slice(0, 200)}`
    this.narrate('driver_reset', `${this.label} engine reported a GPU driver error; restarting it`,
      { cause, replica_id: this.replicaId, pid: r.pid }, 'error')
    this.crashed(cause)
    void r.stop(1000)
  }

  private scheduleProbe (): void {
    this.deps.timers.clear(this.healthTimer)
    this.healthTimer = this.deps.timers.set(() => { void this.probeOnce() }, this.cfg.health_check.interval_ms)
  }

  private async probeOnce (): Promise<void> {
    const r = this.replica
    if (!r || this.closed) return
    const ok = await this.deps.probe(r.prepared.health.url, this.cfg.health_check.timeout_ms)
    if (r !== this.replica) return
    if (ok) {
      this.probeFailures = 0
      this.deps.registry.setHeartbeat(this.id, this.deps.nowMs())
    } else if (++this.probeFailures >= this.cfg.health_check.failure_threshold) {
      this.crashed(`health probe failed ${this.probeFailures} times in a row`)
      void r.stop(1000)
      return
    }
    this.scheduleProbe()
  }

  /** The serving replica died or stopped answering: Unready now, restart after backoff. */
  private crashed (cause: string): void {
    this.replica = null
    this.deps.timers.clear(this.healthTimer)
    if (this.closed) return
    if (this.busy === 'drain') { this.patch({ last_error: cause }); return } // stopping anyway: no restart
    const restarts = this.entry().restart_count + 1
    this.patch({ restart_count: restarts })
    this.narrate('crash', `${this.label} engine crashed: ${cause}`.slice(0, 100), { cause, replica_id: this.replicaId, restart_count: restarts }, 'error')
    this.failed(cause)
  }

  /** Any failure: Unready, last_error, then a backoff retry or an open breaker. */
  private failed (cause: string): void {
    const verdict = this.policy.failed(this.deps.nowMs())
    const wasReady = this.entry().health.ready
    this.deps.timers.clear(this.timer)
    if (verdict.kind === 'open') {
      this.patch({ state: 'CircuitOpen', health: { live: true, ready: false }, last_error: cause, backoff_ms: verdict.cooldownMs })
      this.narrate('breaker-open', `${this.label} stops restarting after ${verdict.failures} failures; retries in ${verdict.cooldownMs} ms`,
        { last_error: cause, backoff_ms: verdict.cooldownMs }, 'error')
      this.timer = this.deps.timers.set(() => { this.policy.reset(); void this.bringUp('restart') }, verdict.cooldownMs)
      return
    }
    this.patch({ state: 'Backoff', health: { live: true, ready: false }, last_error: cause, backoff_ms: verdict.delayMs })
    if (wasReady) this.narrate('unready', `${this.label} is Unready: ${cause}`.slice(0, 100), { last_error: cause }, 'warn')
    this.narrate('backoff', `${this.label} retries in ${verdict.delayMs} ms (attempt ${verdict.attempt})`,
      { last_error: cause, backoff_ms: verdict.delayMs, attempt: verdict.attempt }, 'warn')
    this.timer = this.deps.timers.set(() => { void this.bringUp('restart') }, verdict.delayMs)
  }

  /** 409 reasons: a drain or reload running, or a start in flight. */
  conflict (): string | null {
    if (this.busy) return `a ${this.busy} of pool ${this.id} is in progress`
    if (this.launching) return `${this.label} is starting its engine`
    return null
  }

  private async sleep (ms: number): Promise<void> { await new Promise<void>((resolve) => this.deps.timers.set(resolve, ms)) }

  /** Refuses new work now, waits for running tasks up to the deadline, then stops the engine. */
  async drain (deadlineMs: number): Promise<void> {
    this.begin('drain', null)
    this.deps.timers.clear(this.timer)
    this.patch({ state: 'Draining', draining: true, health: { live: true, ready: false } })
    this.narrate('drain', `${this.label} drains; running tasks have ${deadlineMs} ms`, { deadline_ms: deadlineMs, in_flight: this.deps.inFlight() })
    const until = this.deps.nowMs() + deadlineMs
    while (this.deps.inFlight() > 0 && this.deps.nowMs() < until && !this.closed) await this.sleep(Math.min(50, deadlineMs))
    const left = this.deps.inFlight()
    const r = this.replica
    this.replica = null
    this.deps.timers.clear(this.healthTimer)
    if (this.bound) { this.bound = false; await this.deps.binder.unbind(this.replicaId).catch(() => {}) }
    await r?.stop(2000)
    const forced = left > 0 ? `drain deadline of ${deadlineMs} ms passed with ${left} task${left === 1 ? '' : 's'} running; the engine was force-stopped` : null
    this.patch({ state: 'Stopped', ...(forced ? { last_error: forced } : {}) })
    this.narrate('drain', forced ? `${this.label} force-stops its engine with ${left} tasks running` : `${this.label} is drained and stopped`,
      { forced: left > 0 }, forced ? 'warn' : 'info')
    this.finish(null)
  }

  /**
   * Why a client's reload to `ref` is refused (outside the model directories, not a model
   * file), or null; the pool's configured ref is the operator's and is not confined.
   */
  async refuseRef (ref: string): Promise<string | null> {
    return this.deps.refGuard ? await this.deps.refGuard(ref, { confined: !this.isConfigured(ref) }) : null
  }

  private isConfigured (ref: string): boolean { return ref === configuredTarget(this.cfg).ref }

  /**
   * Atomic reload to `ref`; the outcome lands in `operation` and `last_error`. It succeeds
   * only once the new target serves; after a failure, restarts use the model that served
   * before (or the configured one), never the failed target (issue 10 #1).
   */
  async reload (ref: string): Promise<void> {
    this.begin('reload', ref)
    const configured = this.isConfigured(ref)
    const next: Target = { ref, digest: configured ? configuredTarget(this.cfg).digest : null, confined: !configured }
    const prev = this.target
    this.restartDue = false
    const old = this.replica
    const serving = old !== null && this.entry().health.ready
    this.narrate('reload', `${this.label} reloads to ${ref}${serving ? '; the current model serves meanwhile' : ''}`, { target_model: ref })
    if (!serving) {
      // nothing serves: stop the retry loop, and start on the new model like a preload
      this.deps.timers.clear(this.timer)
      this.policy.reset()
      this.target = next
      await this.bringUp('preload')
      const ok = this.entry().health.ready
      if (!ok) this.target = prev // the backoff retry bringUp scheduled runs on the previous target
      this.finish(ok ? null : this.entry().last_error)
      this.narrate('reload', ok ? `${this.label} reloaded to ${ref}` : `${this.label} reload to ${ref} failed`,
        { target_model: ref, ok }, ok ? 'info' : 'warn')
      return
    }
    this.launching = true
    try {
      const l = await launch(this.cfg, next, this.replicaId, this.launchDeps)
      this.replica = null // the old process's exit is no crash from here on
      await this.adopt(l, 'reload')
      this.target = next
      this.policy.reset()
      void this.retire(old)
      this.finish(null)
      this.narrate('reload', `${this.label} reloaded to ${l.model.id}`, { target_model: ref, ok: true })
    } catch (err) {
      if (this.replica === null && old.alive()) this.replica = old
      const stage = err instanceof GateError ? `${err.gate} gate` : 'start'
      const still = this.replica === old
        ? `still serving ${this.model?.id ?? 'the previous model'}`
        : `the previous engine stopped meanwhile; the pool restarts on ${this.target.ref}`
      const cause = `reload to ${ref} failed at the ${stage}: ${errorMessage(err)}; ${still}`
      this.patch({ last_error: cause })
      this.finish(cause)
      const after = this.replica === old ? 'the old model keeps serving' : 'it restarts on the old model'
      this.narrate('reload', `${this.label} reload to ${ref} failed; ${after}`,
        { target_model: ref, ok: false, last_error: cause }, 'warn')
    } finally {
      this.launching = false
    }
    if (this.restartDue) { this.restartDue = false; if (this.replica === null) void this.bringUp('restart') }
  }

  /** Stops a replacement's predecessor once it serves nothing (or after the drain deadline). */
  private async retire (old: Replica): Promise<void> {
    const until = this.deps.nowMs() + this.cfg.supervision.drain_default_deadline_ms
    while (!this.closed && this.deps.nowMs() < until && !(await this.deps.replicaIdle(old))) await this.sleep(50)
    await old.stop(2000)
  }

  async close (): Promise<void> {
    this.closed = true
    this.aborter.abort()
    this.deps.timers.clear(this.timer)
    this.deps.timers.clear(this.healthTimer)
    this.replica = null
    await Promise.all([...this.spawned].map((r) => r.stop(2000)))
    // a start in flight ends at its next abort check; bounded, for a provider that ignores the signal
    await Promise.race([Promise.allSettled([...this.attempts]), new Promise((resolve) => { setTimeout(resolve, 5000).unref() })])
  }
}

function slotsFromArgs (args: readonly string[]): number {
  const i = args.indexOf('--parallel')
  const n = i >= 0 ? Number(args[i + 1]) : NaN
  return Number.isInteger(n) && n > 0 ? n : 1
}
