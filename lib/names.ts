// The single source of plugin names: every `fp` footer and every `dependencies`
// list imports these constants, so a rename cannot leave a dangling dependency.
export const NAMES = {
  correlation: 'orc.correlation',
  narration: 'orc.narration',
  auth: 'orc.auth',
  metrics: 'orc.metrics',
  catalog: 'orc.catalog',
  models: 'orc.models',
  artifacts: 'orc.artifacts',
  provisioners: 'orc.provisioners',
  pool: 'orc.pool',
  adapters: 'orc.adapters',
  placement: 'orc.placement',
  sessions: 'orc.sessions',
  dataplane: 'orc.dataplane',
  sse: '@fastify/sse',
  openapi: '@fastify/swagger',
  health: 'orc.health',
  http: 'orc.http',
  /** Built-in provider extension `embedded` (not a boot stage). */
  embedded: 'orc.provider.embedded',
  providerLlamacpp: 'orc.provider.llamacpp',
  providerVllm: 'orc.provider.vllm',
  providerTgi: 'orc.provider.tgi',
  providerTriton: 'orc.provider.triton',
  // built-in adapter extensions (registered right after orc.adapters when the manifest enables them)
  adapterLlamacpp: 'orc.adapter.llamacpp',
  adapterVllm: 'orc.adapter.vllm',
  adapterTgi: 'orc.adapter.tgi',
  adapterTriton: 'orc.adapter.triton',
  adapterOpenai: 'orc.adapter.openai',
} as const

/** The boot graph of spec architecture.md §3, in registration order (extensions load right after their registry). */
export const BOOT_ORDER = [
  NAMES.correlation,
  NAMES.narration,
  NAMES.auth,
  NAMES.metrics,
  NAMES.catalog,
  NAMES.models,
  NAMES.artifacts,
  NAMES.provisioners,
  NAMES.adapters,
  NAMES.pool,
  NAMES.placement,
  NAMES.sessions,
  NAMES.dataplane,
  NAMES.sse,
  NAMES.openapi,
  NAMES.health,
  NAMES.http,
] as const
