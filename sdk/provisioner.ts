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
}

export interface Provisioner {
  /** Registry key, e.g. `llamacpp`, `embedded`. */
  readonly name: string
  /** The (engine, mode) pairs it handles; engine `*` matches any engine. */
  readonly handles: ReadonlyArray<{ engine: string, mode: ProvisioningMode }>
  plan (pool: PoolConfig): Plan
  /** `model` is what the model gate resolved (spec pools §3.1 ResolvedModel); engines that load a file need it. */
  prepare (pool: PoolConfig, o?: { signal?: AbortSignal, model?: { id: string, local_path: string } }): Promise<PreparedEngine>
}

/** An engine build as the catalog records it (spec §2.8 EngineEntry, without its id and time). */
export interface EngineBuild {
  engine: string
  version: string
  build_ref: string | null
  digest: string | null
  build_flags: string[] | null
  /** Files that make up the build (binaries, the worker entry, a prebuilt addon). */
  artifacts: string[]
}

export interface ProvisionerRegistry {
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
