import { Type, type Static } from 'typebox'
import { Strict } from '../../sdk/schema-helpers.js'

/** `adapters[].options.http`: per-adapter overrides of the shared client (spec §3.3, ORCH-3612). */
export const HttpOptions = Strict({
  connections: Type.Integer({ minimum: 1, maximum: 1024, default: 8, description: 'connections per engine origin' }),
  connect_timeout_ms: Type.Optional(Type.Integer({ minimum: 1, description: 'default 2000 on loopback, 10000 remote' })),
  request_timeout_ms: Type.Integer({ minimum: 1, default: 5000, description: 'health, props, version, metrics, tokenize' }),
  first_token_timeout_ms: Type.Integer({ minimum: 1, default: 30_000, description: 'request start to first token' }),
  idle_timeout_ms: Type.Integer({ minimum: 1, default: 30_000, description: 'gap between tokens; a pool timeouts.idle_ms wins' }),
  attempts: Type.Integer({ minimum: 1, maximum: 10, default: 3, description: 'tries in all for retriable failures' }),
  backoff_base_ms: Type.Integer({ minimum: 0, default: 100 }),
  backoff_cap_ms: Type.Integer({ minimum: 0, default: 2000 }),
  allow_h2: Type.Optional(Type.Boolean({ description: 'default: on for https origins only' })),
}, { default: {} })

export type HttpOptions = Static<typeof HttpOptions>

/** A secret given inline or through the name of an environment variable (never both logged). */
export const SecretOptions = {
  api_key: Type.Optional(Type.String({ minLength: 1, description: 'sent as a bearer token; never logged' })),
  api_key_env: Type.Optional(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$', description: 'environment variable holding the key' })),
}

/** The key from the options, else from the named environment variable. */
export function resolveSecret (
  o: { api_key?: string | undefined, api_key_env?: string | undefined },
  env: NodeJS.ProcessEnv = process.env
): string | undefined {
  if (o.api_key !== undefined) return o.api_key
  if (o.api_key_env === undefined) return undefined
  const v = env[o.api_key_env]
  return v === undefined || v === '' ? undefined : v
}
