import { Type, type Static } from 'typebox'
import { Millis, Nullable, Strict, UInt32 } from './schema-helpers.js'

export const ENGINE_NAME_PATTERN = '^[a-z][a-z0-9_-]{0,31}$'
export const POOL_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'
export const DIGEST_PATTERN = '^sha256:[0-9a-f]{64}$'

export const ProvisioningMode = Type.Enum(['external', 'source', 'container', 'package', 'binary', 'embedded'], {
  description: 'How the engine is obtained; absent means the provider default (llamacpp: source, others: container)',
})
export const ComputePolicy = Type.Enum(['gpu-required', 'cpu-fallback', 'cpu-only'], {
  default: 'cpu-fallback',
  description: 'gpu-required fails fast without a suitable GPU; cpu-fallback narrates and runs on CPU; cpu-only never touches a GPU',
})

export const ProvisioningConfig = Strict({
  mode: Nullable(ProvisioningMode),
  compute_policy: ComputePolicy,
  host: Type.String({ minLength: 1, default: '127.0.0.1', description: 'bind host of the engine process (external: where it listens)' }),
  allow_package_installs: Nullable(Type.Boolean({ description: 'per-pool gate; can only narrow the top-level policy' })),
  allow_binary_downloads: Nullable(Type.Boolean({ description: 'per-pool gate; can only narrow the top-level policy' })),
  source: Nullable(Strict({
    repo: Nullable(Type.String({ minLength: 1, description: 'git URL or local path; default: the llama.cpp release node-llama-cpp ships (offline)' })),
    ref: Nullable(Type.String({ minLength: 1, description: 'commit, tag or branch; default: the repo\'s HEAD' })),
    submodules: Nullable(Type.Boolean()),
    build: Nullable(Strict({
      cmake_flags: Nullable(Type.Array(Type.String())),
      generator: Nullable(Type.String()),
      cache_dir: Nullable(Type.String({ minLength: 1 })),
    })),
  })),
  container: Nullable(Strict({ image: Nullable(Type.String({ minLength: 1 })), tag: Nullable(Type.String({ minLength: 1 })) })),
  package: Nullable(Strict({ name: Nullable(Type.String({ minLength: 1 })), version: Nullable(Type.String()), repo: Nullable(Type.String()) })),
  binary: Nullable(Strict({
    url: Nullable(Type.String({ minLength: 1 })),
    checksum: Nullable(Type.String({ pattern: DIGEST_PATTERN })),
    install_dir: Nullable(Type.String({ minLength: 1 })),
  })),
  // no `cache_dir`: models live under the one catalog root (`catalog.root`, decision D10); see core/manifest-removed.ts
  model: Nullable(Strict({
    ref: Nullable(Type.String({ minLength: 1, description: 'what gets staged; defaults to the pool `model`' })),
    checksum: Nullable(Type.String({ pattern: DIGEST_PATTERN, description: 'expected digest, sha256:<64 lowercase hex>' })),
  })),
  ports: Nullable(Type.Array(Type.Integer({ minimum: 1, maximum: 65535 }))),
  env: Nullable(Type.Record(Type.String(), Type.String())),
  flags: Nullable(Type.Array(Type.String())),
}, { default: {} })

export const SupervisionConfig = Strict({
  backoff_initial_ms: Millis({ default: 1000 }),
  backoff_factor: Type.Number({ minimum: 1, default: 2 }),
  backoff_max_ms: Millis({ default: 60_000 }),
  jitter: Type.Boolean({ default: true }),
  stable_reset_ms: Millis({ default: 300_000 }),
  breaker_max_restarts: Type.Integer({ minimum: 1, default: 5 }),
  breaker_window_ms: Millis({ default: 600_000 }),
  breaker_cooldown_ms: Millis({ default: 300_000 }),
  drain_default_deadline_ms: Millis({ default: 30_000 }),
}, { default: {} })

export const HealthCheckConfig = Strict({
  interval_ms: Millis({ minimum: 1, default: 2000 }),
  timeout_ms: Millis({ minimum: 1, default: 1000 }),
  startup_timeout_ms: Millis({ minimum: 1, default: 120_000 }),
  failure_threshold: Type.Integer({ minimum: 1, default: 3 }),
}, { default: {} })

export const FullPolicy = Type.Enum(['reject', 'drop-lru'], { default: 'reject', description: 'what a full queue does with a new task (decision 5)' })

export const PoolConfig = Strict({
  id: Type.String({ pattern: POOL_ID_PATTERN, description: 'unique pool id (letters, digits, . _ -)' }),
  engine: Type.String({
    pattern: ENGINE_NAME_PATTERN,
    description: 'llamacpp, vllm, tgi, triton, openai, or an engine registered by an enabled adapter extension',
  }),
  model: Type.String({ minLength: 1, description: 'logical model id matched against TaskRequest.model_ref' }),
  quant: Nullable(Type.String()),
  ctx: Nullable(UInt32({ minimum: 1 })),
  devices: Type.Array(UInt32(), { description: 'explicit device mask; [] only for cpu-only, external or embedded pools' }),
  tensor_split: Nullable(Type.Array(Type.Number({ exclusiveMinimum: 0 }))),
  preload: Nullable(Type.Boolean()),
  require_same_engine_version: Nullable(Type.Boolean()),
  sampler_profile_version: Nullable(Type.String({ minLength: 1 })),
  slots_total: Type.Optional(Type.Integer({
    minimum: 1,
    description: 'concurrent sequences per replica; default from the engine (llamacpp: --parallel, else 1)',
  })),
  replicas: Type.Optional(Type.Integer({
    minimum: 1,
    maximum: 64,
    default: 1,
    description: 'engine processes serving this pool (ids <pool>-r0, -r1, …), each supervised on its own; external: one provisioning.ports entry each',
  })),
  provisioning: ProvisioningConfig,
  queue: Strict({
    capacity: Type.Integer({ minimum: 1, default: 128 }),
    full_policy: FullPolicy,
  }, { default: {} }),
  // no `admission.priorities`: dequeue is strict priority by each task's `priority` (spec api-and-core §4.1.2);
  // per-class capacity, rate or weight is not built (see core/manifest-removed.ts)
  timeouts: Nullable(Strict({ wall_ms: Nullable(Millis()), idle_ms: Nullable(Millis()) })),
  supervision: SupervisionConfig,
  health_check: HealthCheckConfig,
})

export type PoolConfig = Static<typeof PoolConfig>
export type ProvisioningConfig = Static<typeof ProvisioningConfig>
export type ProvisioningMode = Static<typeof ProvisioningMode>
export type ComputePolicy = Static<typeof ComputePolicy>

/** `<pool>-r<k>`: the id of replica k of a pool, as the adapter host, metrics, logs and pins name it. */
export const replicaIdOf = (poolId: string, index: number): string => `${poolId}-r${index}`

/** Every replica id of a pool, in order. */
export const replicaIdsOf = (pool: Pick<PoolConfig, 'id' | 'replicas'>): string[] =>
  Array.from({ length: pool.replicas ?? 1 }, (_, i) => replicaIdOf(pool.id, i))
