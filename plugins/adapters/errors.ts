import createError from '@fastify/error'

/** The adapter registry and host (spec adapters §3.1). */
export const ORC_ERR_ADAPTERS_DUPLICATE_ENGINE = createError<[string]>(
  'ORC_ERR_ADAPTERS_DUPLICATE_ENGINE',
  'llama-orch: engine "%s" already has an adapter; enable only one adapter per engine',
  500
)

export const ORC_ERR_ADAPTERS_ALREADY_BOUND = createError<[string, string]>(
  'ORC_ERR_ADAPTERS_ALREADY_BOUND',
  'llama-orch: %s/%s is already bound; use rebind to replace its adapter',
  500
)

export const ORC_ERR_ADAPTERS_VERSION_PIN = createError<[string, string, string]>(
  'ORC_ERR_ADAPTERS_VERSION_PIN',
  'llama-orch: cannot bind %s/%s: %s (pool sets require_same_engine_version); run one engine build on every replica, or unset the pin',
  500
)
