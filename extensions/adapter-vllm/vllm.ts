import { Type, type Static } from 'typebox'
import { Strict } from '../../sdk/schema-helpers.js'
import type { AdapterBinding, CapabilitySnapshot } from '../../sdk/index.js'
import type { EngineProtocol } from '../../lib/adapter-kit/protocol.js'
import { openAiEmbeddings } from '../../lib/adapter-kit/embeddings.js'
import { openAiBody, openAiSampling, VLLM_NAMES } from '../../lib/adapter-kit/request-fields.js'
import { ORC_ERR_ADAPTER_NO_ENGINE_VERSION } from '../../lib/adapter-kit/errors.js'
import type { KitContext } from '../../lib/adapter-kit/plugin.js'
import { HttpOptions, SecretOptions, resolveSecret } from '../../lib/adapter-kit/options.js'
import { callOpts, probe, trimSlash } from '../../lib/adapter-kit/control.js'
import { openAiStream } from '../../lib/adapter-kit/openai-stream.js'
import { firstValue, promSamples } from '../../lib/adapter-kit/prometheus.js'

export const VllmOptions = Strict({
  http: HttpOptions,
  ...SecretOptions,
  api: Type.Enum(['completions', 'chat'], { default: 'completions', description: 'raw /v1/completions (default) or /v1/chat/completions' }),
  served_model: Type.Optional(Type.String({ minLength: 1, description: 'the model name vLLM serves; default: the pool model' })),
  max_num_seqs: Type.Optional(Type.Integer({ minimum: 1, description: 'slots_total to report (vLLM exposes no slot counts)' })),
})
export type VllmOptions = Static<typeof VllmOptions>

/** The sampling parameters vLLM honours (its OpenAI server, chat and completions alike): all of them. */
export const VLLM_SAMPLING = openAiSampling(VLLM_NAMES, true)

const KV = ['vllm:kv_cache_usage_perc', 'vllm:gpu_cache_usage_perc']
const KV_SET = new Set(KV)

interface Models { data?: Array<{ id?: string, max_model_len?: number }> }

/**
 * vLLM's OpenAI-compatible server (spec adapters §2.2, ORCH-3055, OC-ADAPT-5020/5021/5030):
 * `/v1/completions` streaming with usage, `/health` (503 or 500 when the engine died),
 * `/version`, `/v1/models` (`max_model_len`), `/metrics` (`vllm:` prefix).
 */
export function vllmProtocol (binding: AdapterBinding, options: VllmOptions, { client }: KitContext): EngineProtocol {
  const base = trimSlash(binding.baseUrl)
  const model = options.served_model ?? binding.pool.model
  const key = resolveSecret(options)
  const headers: Record<string, string> = key ? { authorization: `Bearer ${key}` } : {}

  const capabilities = async (o?: Parameters<EngineProtocol['props']>[0]): Promise<CapabilitySnapshot> => {
    const [models, version] = await Promise.all([
      client.json<Models>(`${base}/v1/models`, { headers, ...callOpts(o) }),
      client.json<{ version?: string }>(`${base}/version`, { headers, ...callOpts(o) }).catch(() => ({ version: undefined })),
    ])
    const entry = models.data?.find((m) => m.id === model) ?? models.data?.[0]
    return {
      ctx_max: entry?.max_model_len ?? null,
      slots_total: options.max_num_seqs ?? null,
      engine_version: version.version ?? null,
      supported_workloads: ['completion', 'embedding'],
      features: {
        streaming: true,
        cancel: true,
        seed: true,
        stop: true,
        chat: options.api === 'chat',
        sampling: VLLM_SAMPLING,
        metrics_scrape: true,
        batching: 'continuous',
      },
    }
  }

  return {
    engine: 'vllm',
    baseUrl: base,
    headers,
    open (req, d) {
      if (req.workload === 'embedding') return openAiEmbeddings('/v1/embeddings', model, req.inputs ?? [])
      const prompt = req.prompt ?? (req.inputs ?? []).join('\n')
      const common = { ...openAiBody(model, req, d, VLLM_NAMES), max_tokens: req.max_tokens }
      return options.api === 'chat'
        ? openAiStream({
          engine: 'vllm',
          api: 'chat',
          path: '/v1/chat/completions',
          body: { ...common, messages: req.messages ?? [{ role: 'user', content: prompt }] },
          stopMeans: 'eos-unless-stop-reason',
        })
        : openAiStream({
          engine: 'vllm',
          api: 'completions',
          path: '/v1/completions',
          body: { ...common, prompt },
          stopMeans: 'eos-unless-stop-reason',
        })
    },
    health: (o) => probe(client, `${base}/health`, headers, o),
    async props (o) {
      const c = await capabilities(o)
      return { slots_total: c.slots_total ?? null, slots_free: null, ctx_max: c.ctx_max ?? null, engine_version: c.engine_version ?? null }
    },
    async engineVersion (o) {
      const v = await client.json<{ version?: string }>(`${base}/version`, { headers, ...callOpts(o) })
      if (typeof v.version !== 'string') throw new ORC_ERR_ADAPTER_NO_ENGINE_VERSION('vLLM /version', 'version', 'check that the pool points at a vLLM server')
      return v.version
    },
    capabilities,
    async scrapeMetrics (o) {
      const r = await client.call(`${base}/metrics`, { headers, ...callOpts(o) })
      if (r.status !== 200) return {}
      const kv = firstValue(promSamples(r.text, KV_SET), KV)
      return kv === undefined ? {} : { kv_cache_usage_ratio: kv }
    },
  }
}
