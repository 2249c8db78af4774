/**
 * What each provisioning mode of the llama.cpp provider hands back: a llama-server binary and
 * what the catalog records about it. `source` builds it, `binary` downloads and verifies it,
 * `package` installs it with the system package manager.
 */
import type { PoolConfig } from '../../sdk/pool-config.js'
import type { ProvisioningPolicy, ProvisionProgress } from '../../sdk/index.js'

export interface Obtained {
  binary: string
  version: string
  build_ref: string | null
  /** `sha256:<hex>` of the llama-server binary. */
  digest: string
  build_flags: string[] | null
  compute_mode: 'gpu' | 'cpu'
  artifacts: string[]
  build_log?: string
}

export type Narrate = (action: string, human: string, fields?: Record<string, unknown>, level?: 'info' | 'warn') => void

export interface ObtainContext {
  pool: PoolConfig
  /** The deployment policy narrowed by the pool's own `provisioning.allow_*`. */
  policy: ProvisioningPolicy
  env: NodeJS.ProcessEnv
  /** The engine cache root (`~/.cache/llama-orch` by default). */
  cacheRoot: string
  jobs?: number
  signal?: AbortSignal
  progress?: (p: ProvisionProgress) => void
  narrate?: Narrate
}

/** The deployment policy as one pool may use it: its `allow_*` can only narrow the deployment's. */
export function poolPolicy (policy: ProvisioningPolicy, pool: PoolConfig): ProvisioningPolicy {
  return {
    ...policy,
    allow_package_installs: policy.allow_package_installs && pool.provisioning.allow_package_installs !== false,
    allow_binary_downloads: policy.allow_binary_downloads && pool.provisioning.allow_binary_downloads !== false,
  }
}
