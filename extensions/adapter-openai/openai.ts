import { Type, type Static } from 'typebox'
import { Strict } from '../../sdk/schema-helpers.js'
import type { AdapterBinding, CapabilitySnapshot, WorkerHealth } from '../../sdk/index.js'
import type { EngineProtocol } from '../../lib/adapter-kit/protocol.js'
import { openAiEmbeddings } from '../../lib/adapter-kit/embeddings.js'
import { OPENAI_NAMES, openAiBody, openAiSampling } from '../../lib/adapter-kit/request-fields.js'
import type { SamplingParam } from '../../sdk/sampling.js'
import type { KitContext } from '../../lib/adapter-kit/plugin.js'
import { HttpOptions, SecretOptions, resolveSecret } from '../../lib/adapter-kit/options.js'
import { callOpts, probe, trimSlash } from '../../lib/adapter-kit/control.js'
import { openAiStream } from '../../lib/adapter-kit/openai-stream.js'
import { responsesStream } from './responses-stream.js'

/**
 * The sampling parameters OpenAI honours, per API: chat takes response_format, legacy
 * completions do not, and the Responses API takes only temperature and top_p here.
 */
export const OPENAI_SAMPLING: Readonly<Record<'chat' | 'completions' | 'responses', readonly SamplingParam[]>> = {
  chat: openAiSampling(OPENAI_NAMES, true),
  completions: openAiSampling(OPENAI_NAMES, false),
  responses: ['temperature', 'top_p'],
}

export const OPENAI_BASE_URL = 'https://api.openai.com/v1'

export const OpenAiOptions = Strict({
  http: HttpOptions,
  ...SecretOptions,
  base_url: Type.Optional(Type.String({ pattern: '^https?://', description: `e.g. ${OPENAI_BASE_URL}; default: the replica URL the pool manager binds` })),
  model: Type.Optional(Type.String({ minLength: 1, description: 'remote model id; default: the pool model' })),
  api: Type.Enum(['chat', 'completions', 'responses'], {
    default: 'chat',
    description: '/chat/completions (default), legacy /completions, or the Responses API /responses (no seed: best effort only)',
  }),
  organization: Type.Optional(Type.String({ minLength: 1, description: 'OpenAI-Organization header' })),
  project: Type.Optional(Type.String({ minLength: 1, description: 'OpenAI-Project header' })),
  health_cache_ms: Type.Integer({ minimum: 0, default: 30_000, description: 'health answers are reused this long to save quota' }),
  ctx_max: Type.Optional(Type.Integer({ minimum: 1, description: 'context length to advertise (the API does not report it)' })),
  concurrency: Type.Optional(Type.Integer({ minimum: 1, description: 'concurrent streams to allow per replica' })),
})
export type OpenAiOptions = Static<typeof OpenAiOptions>

/**
 * Any remote OpenAI-compatible API (spec adapters §2.5, OC-ADAPT-OAI-6000..6031): bearer key
 * from the options or a named environment variable (never logged), `GET /models/{model}` as
 * health (cached), chat, legacy completions or Responses API streaming, `system_fingerprint` reported in a
 * `metrics` frame. Cancel aborts the request (the API has no server-side cancel).
 */
export function openAiProtocol (binding: AdapterBinding, options: OpenAiOptions, { client }: KitContext): EngineProtocol {
  const base = trimSlash(options.base_url ?? (binding.baseUrl || OPENAI_BASE_URL))
  const model = options.model ?? binding.pool.model
  const key = resolveSecret(options)
  const headers: Record<string, string> = {}
  if (key) headers.authorization = `Bearer ${key}`
  if (options.organization) headers['openai-organization'] = options.organization
  if (options.project) headers['openai-project'] = options.project
  const modelUrl = `${base}/models/${encodeURIComponent(model)}`
  let cached: { at: number, health: WorkerHealth } | undefined

  const capabilities = async (): Promise<CapabilitySnapshot> => ({
    ctx_max: options.ctx_max ?? null,
    slots_total: options.concurrency ?? null,
    engine_version: model,
    supported_workloads: ['completion', 'embedding'],
    features: {
      streaming: true,
      cancel: true,
      seed: 'best_effort',
      stop: options.api !== 'responses',
      chat: options.api === 'chat',
      remote: true,
      sampling: OPENAI_SAMPLING[options.api],
    },
  })

  return {
    engine: 'openai',
    baseUrl: base,
    headers,
    open (req, d) {
      if (req.workload === 'embedding') return openAiEmbeddings('/embeddings', model, req.inputs ?? [])
      const prompt = req.prompt ?? (req.inputs ?? []).join('\n')
      const common = openAiBody(model, req, d)
      if (options.api === 'responses') {
        // the Responses API takes no seed and no stream_options
        const { temperature = 0, top_p: topP = 1 } = req.sampling ?? {}
        return responsesStream('/responses', { model, input: prompt, max_output_tokens: req.max_tokens, stream: true, temperature, top_p: topP })
      }
      return options.api === 'chat'
        ? openAiStream({
          engine: 'openai',
          api: 'chat',
          path: '/chat/completions',
          body: { ...common, messages: req.messages ?? [{ role: 'user', content: prompt }], max_completion_tokens: req.max_tokens },
          stopMeans: 'stop',
        })
        : openAiStream({
          engine: 'openai',
          api: 'completions',
          path: '/completions',
          body: { ...common, prompt, max_tokens: req.max_tokens },
          stopMeans: 'stop',
        })
    },
    async health (o) {
      if (cached && Date.now() - cached.at < options.health_cache_ms) return cached.health
      const health = await probe(client, modelUrl, headers, o)
      cached = { at: Date.now(), health }
      return health
    },
    async props () {
      const c = await capabilities()
      return { slots_total: c.slots_total ?? null, slots_free: null, ctx_max: c.ctx_max ?? null, engine_version: model }
    },
    async engineVersion (o) {
      const m = await client.json<{ id?: string }>(modelUrl, { headers, ...callOpts(o) })
      return m.id ?? model
    },
    capabilities,
  }
}
