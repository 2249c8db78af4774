import type { EngineBuild } from '../../sdk/provisioner.js'
import type { Verification } from './model-ref.js'

/** Lifecycle of a model (ORCH-3031, D7): only these two exist. */
export const LIFECYCLES = ['Active', 'Retired'] as const
export type Lifecycle = typeof LIFECYCLES[number]
export type TrustState = 'verified' | 'warned' | 'unverified'

export interface Signature { signer: string, algo: string, verified: boolean, timestamp_ms: number }
export interface EntryTrustPolicy {
  mode?: 'strict' | 'permissive' | null
  allowed_registries?: string[] | null
  require_signature?: boolean | null
  require_sbom?: boolean | null
  ca_roots?: string[] | null
}

/**
 * A model in `index.json` (spec §4.1, plus the control-plane CatalogModel fields of
 * api-and-core §3.3). `digest` is kept in its config form `sha256:<hex>`.
 */
export interface ModelEntry {
  id: string
  /** Absolute path of the artifact (file or directory); null for metadata-only entries. */
  local_path: string | null
  lifecycle: Lifecycle
  digest: string | null
  last_verified_ms: number | null
  trust_state?: TrustState
  verification?: Verification
  /** True when the catalog staged the artifact below its root (only then may delete remove it, D10). */
  owned?: boolean
  size_bytes?: number
  /** Artifact mtime when it was last hashed: lets a re-ensure skip re-hashing an unchanged file. */
  mtime_ms?: number
  source_url?: string
  tags?: string[]
  manifests?: Array<{ digest: string, size_bytes: number }>
  signatures?: Signature[]
  sbom?: { uri: string, digest: string }
  trust_policy?: EntryTrustPolicy
  created_ms: number
  updated_ms: number
}

/** An engine build in `engines.json` (spec §4.2, ORCH-3440). */
export interface EngineEntry extends EngineBuild {
  /** `<engine>:<version>@<digest>` (`@nodigest` when unknown). */
  id: string
  created_ms: number
}

/** What the data plane and pool manager get back for a model that is present locally. */
export interface ResolvedModel {
  id: string
  local_path: string
  digest: string | null
  lifecycle: Lifecycle
}

/** Something changed in the catalog (this process's writes, or another's seen on reload). */
export type CatalogEvent =
  | { type: 'put', id: string, entry: ModelEntry }
  | { type: 'state', id: string, state: Lifecycle, previous: Lifecycle, deadline_ms?: number }
  | { type: 'delete', id: string }

export const engineEntryId = (engine: string, version: string, digest: string | null): string =>
  `${engine}:${version}@${digest ?? 'nodigest'}`
