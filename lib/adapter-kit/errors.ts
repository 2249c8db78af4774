import createError from '@fastify/error'

/** What the adapter kit and the adapters built on it throw (spec adapters §1.3). */

/** An engine that answered its version endpoint without a version: the adapter cannot pin or report it. */
export const ORC_ERR_ADAPTER_NO_ENGINE_VERSION = createError<[string, string, string]>(
  'ORC_ERR_ADAPTER_NO_ENGINE_VERSION',
  '%s has no %s, so the engine version is unknown; %s',
  502
)

export const ORC_ERR_ADAPTER_OPTIONS = createError<[string]>(
  'ORC_ERR_ADAPTER_OPTIONS',
  'llama-orch: invalid adapter options: %s; fix them as the adapter\'s optionsSchema says',
  500
)

/** The abort reason of a canceled stream (never reaches a client: the stream ends `canceled`). */
export const ORC_ERR_ADAPTER_CANCELED = createError(
  'ORC_ERR_ADAPTER_CANCELED',
  'canceled',
  499
)
