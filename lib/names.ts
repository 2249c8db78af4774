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
  queue: 'orc.queue',
  sse: '@fastify/sse',
  health: 'orc.health',
  http: 'orc.http',
  /** Built-in provider extension `embedded` (not a boot stage). */
  embedded: 'orc.provider.embedded',
  // built-in adapter extensions (registered right after orc.adapters when the manifest enables them)
  adapterLlamacpp: 'orc.adapter.llamacpp',
  adapterVllm: 'orc.adapter.vllm',
  adapterTgi: 'orc.adapter.tgi',
  adapterTriton: 'orc.adapter.triton',
  adapterOpenai: 'orc.adapter.openai',
} as const

/** The boot graph, in registration order (extensions load right after their registry). */
export const BOOT_ORDER = [
  NAMES.correlation,
  NAMES.narration,
  NAMES.auth,
  NAMES.metrics,
  NAMES.catalog,
  NAMES.models,
  NAMES.artifacts,
  NAMES.provisioners,
  NAMES.pool,
  NAMES.adapters,
  NAMES.placement,
  NAMES.queue,
  NAMES.sse,
  NAMES.health,
  NAMES.http,
] as const
