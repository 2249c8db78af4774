import { Type, type Static } from 'typebox'
import { Strict } from '../../sdk/schema-helpers.js'
import { SAMPLING_PARAMS, type Sampling, type SamplingParam } from '../../sdk/sampling.js'
import type { AdapterBinding, CapabilitySnapshot, WorkerProps } from '../../sdk/index.js'
import type { EngineProtocol, FrameSink, StopInfo } from '../../lib/adapter-kit/protocol.js'
import { ORC_ERR_ADAPTER_NO_ENGINE_VERSION } from '../../lib/adapter-kit/errors.js'
import type { KitContext } from '../../lib/adapter-kit/plugin.js'
import { HttpOptions, SecretOptions, resolveSecret } from '../../lib/adapter-kit/options.js'
import { callOpts, frameJson, num, probe, text, trimSlash } from '../../lib/adapter-kit/control.js'
import { firstValue, promSamples } from '../../lib/adapter-kit/prometheus.js'
import { describeError } from '../../lib/http-client/upstream-error.js'
import { SessionSlots } from './session-slots.js'
import { openAiEmbeddings } from '../../lib/adapter-kit/embeddings.js'
import { formatSchema, topKOf } from '../../lib/adapter-kit/request-fields.js'

export const LlamacppOptions = Strict({
  http: HttpOptions,
  ...SecretOptions,
  engine_version: Type.Optional(Type.String({ minLength: 1, description: 'reported when /props has no build_info (older builds)' })),
})
export type LlamacppOptions = Static<typeof LlamacppOptions>

/**
 * The sampling parameters llama-server's `/completion` honours (and the embedded worker, which
 * serves the same API): all of them; a response format becomes its `json_schema` field.
 */
export const LLAMACPP_SAMPLING: readonly SamplingParam[] = SAMPLING_PARAMS

/** Profile v1 (greedy, neutral filters) with the task's sampling over it, in `/completion`'s fields. */
export function llamacppSampling (s: Sampling = {}): Record<string, unknown> {
  const body: Record<string, unknown> = {
    temperature: s.temperature ?? 0,
    top_k: topKOf(s),
    top_p: s.top_p ?? 1,
    min_p: s.min_p ?? 0,
  }
  if (s.repeat_penalty !== undefined) body.repeat_penalty = s.repeat_penalty
  if (s.presence_penalty !== undefined) body.presence_penalty = s.presence_penalty
  if (s.frequency_penalty !== undefined) body.frequency_penalty = s.frequency_penalty
  if (s.logit_bias !== undefined) body.logit_bias = s.logit_bias
  if (s.response_format !== undefined) body.json_schema = formatSchema(s.response_format)
  return body
}

const STOP: Record<string, StopInfo['stop_reason']> = { eos: 'eos', limit: 'length', word: 'stop' }
const KV = new Set(['llamacpp:kv_cache_usage_ratio'])

interface Props { total_slots?: number, build_info?: string, n_ctx?: number, default_generation_settings?: { n_ctx?: number } }

/**
 * llama.cpp's `llama-server` (spec adapters §2.1, ORCH-3054, OC-ADAPT-5001/5010/5011):
 * native `/completion` SSE (no `[DONE]`; the final frame has `stop:true` and counts, EOS
 * included in `tokens_predicted`), `/health` 503 while loading, `/props`, `/slots`,
 * `/tokenize`, `/metrics`. Cancel closes the request; the server frees the slot.
 */
export function llamacppProtocol (binding: AdapterBinding, options: LlamacppOptions, { client }: KitContext): EngineProtocol {
  const base = trimSlash(binding.baseUrl)
  const key = resolveSecret(options)
  const headers: Record<string, string> = key ? { authorization: `Bearer ${key}` } : {}

  const props = async (o?: Parameters<EngineProtocol['props']>[0]): Promise<Props> => client.json<Props>(`${base}/props`, { headers, ...callOpts(o) })

  const sessions = new SessionSlots()
  const frame = (data: string, event: string, sink: FrameSink, session: string): void => {
    const v = frameJson(data)
    if (event === 'error' || v.error !== undefined) {
      sink.fail('stream_error_frame', `llamacpp reported an error mid-stream: ${describeError(event === 'error' ? { error: v } : v).message}`)
      return
    }
    const content = text(v.content)
    if (content !== undefined) sink.token(content)
    if (v.stop !== true) return
    // the final frame names the slot (intermediate ones say -1): it now holds this session's KV
    const slot = num(v.id_slot)
    if (slot !== undefined && slot >= 0) sessions.remember(session, slot)
    const timings = (v.timings ?? {}) as Record<string, unknown>
    const promptMs = num(timings.prompt_ms)
    const predictedMs = num(timings.predicted_ms)
    if (promptMs !== undefined && predictedMs !== undefined) sink.metrics({ engine_prompt_ms: promptMs, engine_predicted_ms: predictedMs })
    const stopType = text(v.stop_type) ?? (v.stopped_limit === true ? 'limit' : v.stopped_word === true ? 'word' : 'eos')
    sink.end({
      stop_reason: STOP[stopType] ?? 'eos',
      tokens_out: num(v.tokens_predicted) ?? num(timings.predicted_n),
      tokens_in: num(v.tokens_evaluated) ?? num(timings.prompt_n),
    })
  }

  const capabilities = async (o?: Parameters<EngineProtocol['props']>[0]): Promise<CapabilitySnapshot> => {
    const p = await props(o)
    return {
      ctx_max: p.default_generation_settings?.n_ctx ?? p.n_ctx ?? null,
      slots_total: p.total_slots ?? null,
      engine_version: p.build_info ?? options.engine_version ?? null,
      // embeddings need a server started with --embeddings (the embedded worker always serves them)
      supported_workloads: ['completion', 'embedding'],
      features: { streaming: true, cancel: true, seed: true, stop: true, chat: true, metrics_scrape: true, tokenize: true, sampling: LLAMACPP_SAMPLING },
    }
  }

  return {
    engine: 'llamacpp',
    baseUrl: base,
    headers,
    async open (req, d) {
      if (req.workload === 'embedding') return openAiEmbeddings('/v1/embeddings', undefined, req.inputs ?? [])
      // a chat: the engine renders it with the model's own template (llama-server, and the
      // embedded worker, answer POST /apply-template), then continues it as a completion
      const prompt = req.messages !== undefined
        ? (await client.json<{ prompt: string }>(`${base}/apply-template`, { method: 'POST', body: { messages: req.messages }, headers })).prompt
        : req.prompt ?? (req.inputs ?? []).join('\n')
      const body: Record<string, unknown> = {
        prompt,
        n_predict: req.max_tokens,
        stream: true,
        seed: d.seed,
        ...llamacppSampling(req.sampling),
        stop: req.stop ?? [],
      }
      if (d.strict) body.cache_prompt = false
      return { path: '/completion', body, frame: (data, event, sink) => frame(data, event, sink, req.session_id) }
    },
    health: (o) => probe(client, `${base}/health`, headers, o),
    async props (o): Promise<WorkerProps> {
      const [caps, slots] = await Promise.all([capabilities(o), client.call(`${base}/slots`, { headers, ...callOpts(o) }).catch(() => undefined)])
      let free: number | null = null
      if (slots?.status === 200) {
        try {
          const list = JSON.parse(slots.text) as Array<{ is_processing?: boolean }>
          if (Array.isArray(list)) free = list.filter((s) => s.is_processing !== true).length
        } catch {}
      }
      return { slots_total: caps.slots_total ?? null, slots_free: free, ctx_max: caps.ctx_max ?? null, engine_version: caps.engine_version ?? null }
    },
    async engineVersion (o) {
      const v = (await props(o)).build_info ?? options.engine_version
      if (v === undefined) throw new ORC_ERR_ADAPTER_NO_ENGINE_VERSION('llama-server /props', 'build_info', 'set the llamacpp adapter option engine_version')
      return v
    },
    capabilities,
    async scrapeMetrics (o) {
      const r = await client.call(`${base}/metrics`, { headers, ...callOpts(o) })
      if (r.status !== 200) return {} // 501 without --metrics: no samples, none invented
      const kv = firstValue(promSamples(r.text, KV), ['llamacpp:kv_cache_usage_ratio'])
      return kv === undefined ? {} : { kv_cache_usage_ratio: kv }
    },
    extras: {
      /** Erases the slot that holds the session's KV, unless another session has used it since. */
      async freeSession (sessionId: string, o?: Parameters<EngineProtocol['props']>[0]): Promise<void> {
        const slot = sessions.take(sessionId)
        if (slot === undefined) return
        await client.json(`${base}/slots/${slot}?action=erase`, { method: 'POST', headers, ...callOpts(o) })
      },
      /** POST /tokenize: the prompt's token ids (an idempotent POST, retried like a GET). */
      async tokenize (content: string): Promise<number[]> {
        const r = await client.json<{ tokens?: Array<number | { id: number }> }>(`${base}/tokenize`, {
          method: 'POST',
          headers,
          body: { content, add_special: true },
          idempotent: true,
        })
        return (r.tokens ?? []).map((x) => typeof x === 'number' ? x : x.id)
      },
    },
  }
}
