import { Type, type Static } from 'typebox'
import { Nullable, Strict } from '../../sdk/schema-helpers.js'

export const TrustPolicy = Strict({
  mode: Nullable(Type.Enum(['strict', 'permissive'])),
  allowed_registries: Nullable(Type.Array(Type.String({ minLength: 1 }))),
  require_signature: Nullable(Type.Boolean()),
  require_sbom: Nullable(Type.Boolean()),
  ca_roots: Nullable(Type.Array(Type.String())),
})

export const FetchConfig = Strict({
  concurrency: Type.Integer({ minimum: 1, maximum: 64, default: 4, description: 'files downloaded at once (multi-file repos, and all pulls together)' }),
  hf_cli: Type.Boolean({ default: false, description: 'stage hf: refs with huggingface-cli (HF_HUB_ENABLE_HF_TRANSFER=1) instead of the native downloader' }),
  hf_endpoint: Nullable(Type.String({ minLength: 1, description: 'Hugging Face hub base URL; the HF_ENDPOINT environment variable overrides it' })),
  idle_timeout_ms: Type.Integer({
    minimum: 1000,
    default: 30_000,
    description: 'a download that receives nothing for this long fails (and resumes on the next pull)',
  }),
}, { default: {} })

export const CatalogConfig = Strict({
  root: Type.Optional(Type.String({ minLength: 1, description: 'catalog root holding index.json and engines.json; default ~/.cache/models' })),
  model_dirs: Type.Array(Type.String({ minLength: 1 }), {
    default: [],
    description: 'directories besides the root that model refs sent over the API (pool reload) may resolve into, symlinks followed',
  }),
  trust_policy: Nullable(TrustPolicy),
  fetch: FetchConfig,
  artifacts_root: Nullable(Type.String({
    minLength: 1,
    description: 'where POST /v1/artifacts stores content-addressed JSON; default ~/.cache/llama-orch/artifacts',
  })),
  artifacts_store: Type.Enum(['fs', 'memory'], { default: 'fs', description: 'memory keeps artifacts only while the process runs' }),
  artifacts_body_limit_bytes: Type.Integer({ minimum: 1024, default: 10_485_760, description: 'request body limit of POST /v1/artifacts' }),
}, { default: {} })

export type CatalogConfig = Static<typeof CatalogConfig>
export type FetchConfig = Static<typeof FetchConfig>
