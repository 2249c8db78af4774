import { Type, type Static } from 'typebox'
import { Nullable, Strict } from '../../core/schema-helpers.js'

export const TrustPolicy = Strict({
  mode: Nullable(Type.Enum(['strict', 'permissive'])),
  allowed_registries: Nullable(Type.Array(Type.String({ minLength: 1 }))),
  require_signature: Nullable(Type.Boolean()),
  require_sbom: Nullable(Type.Boolean()),
  ca_roots: Nullable(Type.Array(Type.String())),
})

export const CatalogConfig = Strict({
  root: Type.Optional(Type.String({ minLength: 1, description: 'catalog root holding index.json and engines.json; default ~/.cache/models' })),
  trust_policy: Nullable(TrustPolicy),
}, { default: {} })

export type CatalogConfig = Static<typeof CatalogConfig>
