/**
 * The engine provisioner contract (spec pools-provisioning-catalog.md §2): a provider plans
 * and prepares an engine for a pool; the pool manager starts and supervises what it prepared.
 */
import type { PoolConfig, ProvisioningMode } from './pool-config.js'

export type { ProvisioningMode } from './pool-config.js'

export interface PlanStep { kind: string, detail: string }
export interface Plan { pool_id: string, steps: PlanStep[] }

export interface PreparedEngine {
  engine: string
  version: string
  build_ref: string | null
  digest: string | null
  build_flags: string[] | null
  mode: ProvisioningMode
  compute_mode: 'gpu' | 'cpu'
  binary_path: string | null
  engine_catalog_id: string | null
  bin: string
  args: string[]
  env: Record<string, string>
  ports: number[]
  workdir: string
  health: { url: string, kind: string }
  /**
   * How long the engine may take to stop after SIGTERM before it is killed; the pool manager
   * waits at least this long (a container's runtime client must outlive its container's stop).
   */
  stop_grace_ms?: number
}

/**
 * What a prepare reports while it runs: the step it is on (a plan step's kind), a line of the
 * tool's own output, and, where the tool says, how far it is (`done` of `total`: build steps
 * from ninja's `[n/m]`, bytes of a download).
 */
export interface ProvisionProgress { step: string, line?: string, done?: number, total?: number, unit?: 'steps' | 'bytes' }

export interface PrepareOptions {
  signal?: AbortSignal
  /** What the model gate resolved (spec pools §3.1 ResolvedModel); engines that load a file need it. */
  model?: { id: string, local_path: string }
  progress?: (p: ProvisionProgress) => void
}

/**
 * The deployment policy a provider obeys (spec pools §2.3, D6): downloads pass the outbound
 * gate, package installs and binary downloads need their switch (a pool's own
 * `provisioning.allow_*` can only narrow these).
 */
export interface ProvisioningPolicy {
  allow_outbound_network: boolean
  outbound_allowlist: string[]
  allow_package_installs: boolean
  allow_binary_downloads: boolean
}

export interface Provisioner {
  /** Registry key, e.g. `llamacpp`, `embedded`. */
  readonly name: string
  /** The (engine, mode) pairs it handles; engine `*` matches any engine. */
  readonly handles: ReadonlyArray<{ engine: string, mode: ProvisioningMode }>
  plan (pool: PoolConfig): Plan
  prepare (pool: PoolConfig, o?: PrepareOptions): Promise<PreparedEngine>
}

/** An engine build as the catalog records it (spec §2.8 EngineEntry, without its id and time). */
export interface EngineBuild {
  engine: string
  version: string
  build_ref: string | null
  digest: string | null
  build_flags: string[] | null
  /** Files that make up the build (binaries, the worker entry, a prebuilt addon), or an image reference. */
  artifacts: string[]
  /** The compute mode the build supports (a CUDA build that fell back to CPU records `cpu`, ORCH-3433). */
  compute_mode?: 'gpu' | 'cpu'
  /** The build's own log (configure and compile output), kept beside the build. */
  build_log?: string
}

export interface ProvisionerRegistry {
  /** The deployment policy every provider obeys. */
  readonly policy: ProvisioningPolicy
  add (provisioner: Provisioner): void
  get (name: string): Provisioner | undefined
  list (): Provisioner[]
  /** The provisioner for a pool's (engine, mode), or undefined when none is enabled. */
  providerFor (engine: string, mode: ProvisioningMode): Provisioner | undefined
  /**
   * Records a build in the engine catalog (spec §2.8, ORCH-3440/3441) unless an identical
   * one is there, and returns its EngineEntry id for `PreparedEngine.engine_catalog_id`.
   */
  recordEngine (build: EngineBuild): Promise<string>
}
