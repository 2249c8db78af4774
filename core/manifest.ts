import { Type, type Static } from 'typebox'
import { Strict } from '../sdk/schema-helpers.js'
import { PoolConfig } from '../sdk/pool-config.js'
import { CatalogConfig } from '../plugins/catalog/schema.js'
import { MetricsConfig } from '../plugins/metrics/schema.js'
import { PlacementConfig } from '../plugins/placement/schema.js'
import { AdapterHostConfig } from '../plugins/adapters/schema.js'
import { QueueDefaults, SseConfig, TasksConfig } from '../plugins/dataplane/schema.js'
import { SessionsConfig } from '../plugins/sessions/schema.js'
import { AuthConfig } from '../plugins/auth/schema.js'

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

export const ServerConfig = Strict({
  host: Type.String({ minLength: 1, default: '127.0.0.1', description: 'bind address; a non-loopback address without auth logs a warning' }),
  port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080, description: '0 picks a free port' }),
  log_level: Type.Enum([...LOG_LEVELS], { default: 'info', description: 'overridden by LOG_LEVEL' }),
  log_format: Type.Enum(['json', 'pretty'], { default: 'json', description: 'overridden by LOG_FORMAT; CI stays json' }),
  body_limit_bytes: Type.Integer({ minimum: 1024, default: 1_048_576, description: 'request body limit on data and control routes' }),
  shutdown_timeout_ms: Type.Integer({ minimum: 1, default: 10_000, description: 'how long a graceful stop may take before the process exits anyway' }),
  run_dir: Type.Optional(Type.String({ minLength: 1, description: 'engine PID files (<pool_id>.pid); default ~/.cache/llama-orch/run' })),
}, { default: {} })

export const PolicyConfig = Strict({
  allow_outbound_network: Type.Boolean({ default: false, description: 'any download (models, engines, images) needs this' }),
  outbound_allowlist: Type.Array(Type.String({ minLength: 1 }), { default: [], description: 'hosts downloads may reach; empty = any host once allowed' }),
  engine_env_passthrough: Type.Array(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*\\*?$' }), {
    default: [],
    description: 'environment variables engines inherit beyond the built-in whitelist (PATH, HOME, locale, CUDA_*, GGML_*, …); ' +
      'a trailing * matches a prefix. Secrets are not inherited unless listed here',
  }),
  allow_package_installs: Type.Boolean({ default: false, description: 'system package installs by engine provisioners' }),
  allow_binary_downloads: Type.Boolean({ default: false, description: 'prebuilt engine binary downloads' }),
}, { default: {} })

/** npm package names, as npm itself accepts them (scoped or not). */
export const PACKAGE_NAME_PATTERN = '^(@[a-z0-9-~][a-z0-9-._~]*/)?[a-z0-9-~][a-z0-9-._~]*$'

export const ExtensionEntry = Type.Union([
  Type.String({ pattern: PACKAGE_NAME_PATTERN, description: 'a built-in name or an installed npm package name' }),
  Strict({
    package: Type.String({ pattern: PACKAGE_NAME_PATTERN, description: 'a built-in name or an installed npm package name' }),
    options: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: "validated by the extension's own optionsSchema" })),
    enabled: Type.Optional(Type.Boolean({ description: 'false keeps the entry without loading it' })),
  }),
])

export const Manifest = Strict({
  $schema: Type.Optional(Type.String({ description: 'editor hint, ignored' })),
  server: ServerConfig,
  policy: PolicyConfig,
  providers: Type.Array(ExtensionEntry, { default: [], description: 'engine provisioner plugins to enable' }),
  adapters: Type.Array(ExtensionEntry, { default: [], description: 'engine adapter plugins to enable' }),
  catalog: CatalogConfig,
  metrics: MetricsConfig,
  auth: AuthConfig,
  adapter_host: AdapterHostConfig,
  placement: PlacementConfig,
  queue: QueueDefaults,
  sessions: SessionsConfig,
  sse: SseConfig,
  tasks: TasksConfig,
  pools: Type.Array(PoolConfig, { description: 'the pools this orchestrator serves; [] serves none' }),
}, {
  $id: 'https://llama-orch.dev/schemas/manifest.schema.json',
  title: 'llama-orch manifest',
  description: 'Configuration file of the llama-orch server (YAML or JSON).',
})

export type Manifest = Static<typeof Manifest>
export type ExtensionEntry = Static<typeof ExtensionEntry>
