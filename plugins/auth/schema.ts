import { Type, type Static } from 'typebox'
import { Strict } from '../../sdk/schema-helpers.js'

export const AuthConfig = Strict({
  api_keys: Type.Array(Type.String({ minLength: 1, description: 'a key clients send as X-API-Key' }), {
    default: [],
    description: 'API keys for the data and control planes; empty = no gate. /metrics, /healthz and /readyz stay public',
  }),
}, { default: {} })

export type AuthConfig = Static<typeof AuthConfig>
