import { Type, type Static } from 'typebox'
import { Strict } from '../../sdk/schema-helpers.js'
import type { SamplingParam } from '../../sdk/sampling.js'
import type { AdapterBinding, CapabilitySnapshot, EngineMetricsSnapshot, WorkerHealth } from '../../sdk/index.js'
import type { EngineProtocol, FrameSink } from '../../lib/adapter-kit/protocol.js'
import { ORC_ERR_ADAPTER_NO_ENGINE_VERSION } from '../../lib/adapter-kit/errors.js'
import type { KitContext } from '../../lib/adapter-kit/plugin.js'
import { HttpOptions, SecretOptions, resolveSecret } from '../../lib/adapter-kit/options.js'
import { callOpts, frameJson, text, trimSlash } from '../../lib/adapter-kit/control.js'
import { promSamples } from '../../lib/adapter-kit/prometheus.js'
import { topKOf } from '../../lib/adapter-kit/request-fields.js'

const Field = (name: string, description: string) => Type.String({ minLength: 1, default: name, description })

export const TritonOptions = Strict({
  http: HttpOptions,
  ...SecretOptions,
  model: Type.Optional(Type.String({ minLength: 1, description: 'Triton model name; default: the pool model (TRT-LLM: usually ensemble)' })),
  model_version: Type.Optional(Type.String({ minLength: 1 })),
  metrics_url: Type.Optional(Type.String({ pattern: '^https?://', description: 'metrics endpoint; default: the replica host on port 8002' })),
  trtllm_version: Type.Optional(Type.String({ minLength: 1, description: 'appended to engine_version' })),
  ctx_max: Type.Optional(Type.Integer({ minimum: 1, description: 'context length to advertise (Triton does not report it)' })),
  fields: Strict({
    input_text: Field('text_input', 'input tensor holding the prompt'),
    max_tokens: Field('max_tokens', 'input holding the token budget'),
    seed: Field('random_seed', 'input holding the seed'),
    top_k: Field('top_k', 'input holding top_k (profile v1: 1; 0 = off when sampling)'),
    temperature: Field('temperature', 'input holding the temperature (sent only when a task sets one)'),
    top_p: Field('top_p', 'input holding top_p (sent only when set)'),
    repetition_penalty: Field('repetition_penalty', 'input holding the repetition penalty (sent only when set)'),
    presence_penalty: Field('presence_penalty', 'input holding the presence penalty (sent only when set)'),
    frequency_penalty: Field('frequency_penalty', 'input holding the frequency penalty (sent only when set)'),
    stream_flag: Field('stream', 'input asking for streamed responses'),
    output_text: Field('text_output', 'output holding the text'),
  }, { default: {} }),
  stream_output: Type.Enum(['delta', 'cumulative'], { default: 'delta', description: 'cumulative: each response repeats the text so far' }),
})
export type TritonOptions = Static<typeof TritonOptions>

const GPU = new Set(['nv_gpu_utilization', 'nv_gpu_memory_used_bytes'])

/**
 * The sampling parameters passed on to Triton's generate endpoint, each as the model input the
 * `fields` map names (TensorRT-LLM's ensemble takes them under these default names; a model
 * without such an input answers an error, which fails the task). No min_p, logit bias or JSON
 * grammar: TensorRT-LLM has none of them as a plain input.
 */
export const TRITON_SAMPLING: readonly SamplingParam[] = ['temperature', 'top_p', 'top_k', 'presence_penalty', 'frequency_penalty', 'repeat_penalty']

/**
 * NVIDIA Triton / TensorRT-LLM over HTTP (spec adapters §2.4, ORCH-3057, OC-ADAPT-5060/5070):
 * the generate_stream extension (SSE `data: {…}` per response; the stream ends with the
 * response, errors as `data: {"error"}`), readiness = server ready and model ready,
 * `GET /v2` for the version, model config for batch size, GPU gauges from `:8002/metrics`.
 * gRPC is not used (D11).
 */
export function tritonProtocol (binding: AdapterBinding, options: TritonOptions, { client }: KitContext): EngineProtocol {
  const base = trimSlash(binding.baseUrl)
  const model = options.model ?? binding.pool.model
  const modelPath = `/v2/models/${encodeURIComponent(model)}${options.model_version ? `/versions/${encodeURIComponent(options.model_version)}` : ''}`
  const metricsUrl = options.metrics_url ?? (() => { const u = new URL(base); u.port = '8002'; return `${u.origin}/metrics` })()
  const key = resolveSecret(options)
  const headers: Record<string, string> = key ? { authorization: `Bearer ${key}` } : {}
  const f = options.fields

  const version = async (o?: Parameters<EngineProtocol['props']>[0]): Promise<string> => {
    const v = await client.json<{ version?: string }>(`${base}/v2`, { headers, ...callOpts(o) })
    if (typeof v.version !== 'string') throw new ORC_ERR_ADAPTER_NO_ENGINE_VERSION('Triton GET /v2', 'version', 'check that the pool points at a Triton server')
    return options.trtllm_version ? `${v.version}+trtllm-${options.trtllm_version}` : v.version
  }

  const capabilities = async (o?: Parameters<EngineProtocol['props']>[0]): Promise<CapabilitySnapshot> => {
    const [config, v] = await Promise.all([
      client.json<{ max_batch_size?: number }>(`${base}${modelPath}/config`, { headers, ...callOpts(o) }),
      version(o).catch(() => null),
    ])
    return {
      ctx_max: options.ctx_max ?? null,
      slots_total: config.max_batch_size && config.max_batch_size > 0 ? config.max_batch_size : null,
      engine_version: v,
      supported_workloads: ['completion'],
      features: { streaming: true, cancel: true, seed: true, stop: false, chat: false, sampling: TRITON_SAMPLING, metrics_scrape: true, grpc: false },
    }
  }

  return {
    engine: 'triton',
    baseUrl: base,
    headers,
    open (req, d) {
      let previous = ''
      const frame = (data: string, _e: string, sink: FrameSink): void => {
        const v = frameJson(data)
        if (v.error !== undefined) { sink.fail('stream_error_frame', `triton reported an error mid-stream: ${String(v.error)}`); return }
        const out = text(v[f.output_text]) ?? ''
        if (options.stream_output === 'delta') { sink.token(out); return }
        sink.token(out.startsWith(previous) ? out.slice(previous.length) : out)
        previous = out
      }
      const s = req.sampling ?? {}
      const body: Record<string, unknown> = {
        [f.input_text]: req.prompt ?? (req.inputs ?? []).join('\n'),
        [f.max_tokens]: req.max_tokens,
        [f.stream_flag]: true,
        [f.top_k]: topKOf(s),
        [f.seed]: d.seed,
      }
      const optional: Array<[string, number | undefined]> = [
        [f.temperature, s.temperature], [f.top_p, s.top_p], [f.repetition_penalty, s.repeat_penalty],
        [f.presence_penalty, s.presence_penalty], [f.frequency_penalty, s.frequency_penalty],
      ]
      for (const [field, v] of optional) if (v !== undefined) body[field] = v
      // the stream has no final frame: the response ending is the end (Triton reports no finish reason)
      return { path: `${modelPath}/generate_stream`, body, frame, eof: (sink) => { sink.end({ stop_reason: 'eos' }) } }
    },
    async health (o): Promise<WorkerHealth> {
      const ask = (path: string) => client.call(`${base}${path}`, { headers, attempts: 1, ...callOpts(o) }).then((r) => r.status === 200, () => undefined)
      const [server, modelReady] = await Promise.all([ask('/v2/health/ready'), ask(`${modelPath}/ready`)])
      if (server === undefined) return { live: false, ready: false }
      return { live: true, ready: server && modelReady === true }
    },
    async props (o) {
      const c = await capabilities(o)
      return { slots_total: c.slots_total ?? null, slots_free: null, ctx_max: c.ctx_max ?? null, engine_version: c.engine_version ?? null }
    },
    engineVersion: version,
    capabilities,
    async scrapeMetrics (o): Promise<EngineMetricsSnapshot> {
      const r = await client.call(metricsUrl, { headers, ...callOpts(o) })
      if (r.status !== 200) return {}
      const gpus = new Map<string, { device: string, utilization_percent?: number, vram_used_bytes?: number }>()
      for (const s of promSamples(r.text, GPU)) {
        const device = s.labels.gpu_uuid ?? s.labels.device ?? '0'
        const g = gpus.get(device) ?? { device }
        if (s.name === 'nv_gpu_utilization') g.utilization_percent = s.value * 100 // Triton reports 0..1
        else g.vram_used_bytes = s.value
        gpus.set(device, g)
      }
      return gpus.size === 0 ? {} : { gpus: [...gpus.values()] }
    },
  }
}
