import { type Static } from 'typebox'
import { Strict } from '../../sdk/schema-helpers.js'
import type { Sampling, SamplingParam } from '../../sdk/sampling.js'
import type { AdapterBinding, CapabilitySnapshot } from '../../sdk/index.js'
import type { UpstreamCondition } from '../../sdk/worker-errors.js'
import type { EngineProtocol, FrameSink, StopInfo } from '../../lib/adapter-kit/protocol.js'
import { ORC_ERR_ADAPTER_NO_ENGINE_VERSION } from '../../lib/adapter-kit/errors.js'
import type { KitContext } from '../../lib/adapter-kit/plugin.js'
import { HttpOptions, SecretOptions, resolveSecret } from '../../lib/adapter-kit/options.js'
import { callOpts, frameJson, num, probe, text, trimSlash } from '../../lib/adapter-kit/control.js'
import { formatSchema, stopField } from '../../lib/adapter-kit/request-fields.js'

export const TgiOptions = Strict({ http: HttpOptions, ...SecretOptions })
export type TgiOptions = Static<typeof TgiOptions>

interface Info { version?: string, sha?: string, max_concurrent_requests?: number, max_total_tokens?: number, model_id?: string, model_sha?: string }

/** The sampling parameters TGI's `/generate` honours (no min_p, presence penalty or logit bias). */
export const TGI_SAMPLING: readonly SamplingParam[] = ['temperature', 'top_p', 'top_k', 'frequency_penalty', 'repeat_penalty', 'response_format']

/**
 * Profile v1 on TGI (greedy through do_sample:false; TGI rejects temperature 0 and top_p 1
 * with 422), then the task's sampling in TGI's `parameters`: neutral values are left out,
 * as TGI refuses them, and a response format is a JSON grammar.
 */
export function tgiSampling (s: Sampling = {}): Record<string, unknown> {
  const p: Record<string, unknown> = { do_sample: (s.temperature ?? 0) > 0 }
  if (p.do_sample === true) p.temperature = s.temperature
  if (s.top_k !== undefined && s.top_k > 0) p.top_k = s.top_k
  if (s.top_p !== undefined && s.top_p < 1) p.top_p = s.top_p
  if (s.repeat_penalty !== undefined) p.repetition_penalty = s.repeat_penalty
  if (s.frequency_penalty !== undefined) p.frequency_penalty = s.frequency_penalty
  if (s.response_format !== undefined) p.grammar = { type: 'json', value: formatSchema(s.response_format) }
  return p
}

const FINISH: Record<string, StopInfo['stop_reason']> = { eos_token: 'eos', length: 'length', stop_sequence: 'stop' }

/** TGI's `error_type` inside a stream: an interrupted generation is a reset, the rest are engine errors. */
function streamCondition (errorType: string | undefined): UpstreamCondition {
  if (errorType === 'incomplete_generation') return 'incomplete_generation'
  if (errorType === 'overloaded') return 'http_429'
  return 'stream_error_frame'
}

/**
 * Hugging Face Text Generation Inference (spec adapters §2.3, ORCH-3056, OC-ADAPT-5040/5050):
 * `/generate_stream` with `data:{…}` frames (no space), special tokens not emitted, the last
 * frame carrying `details`; `/info` for version, slots and context; `/health`.
 */
export function tgiProtocol (binding: AdapterBinding, options: TgiOptions, { client }: KitContext): EngineProtocol {
  const base = trimSlash(binding.baseUrl)
  const key = resolveSecret(options)
  const headers: Record<string, string> = key ? { authorization: `Bearer ${key}` } : {}
  const info = async (o?: Parameters<EngineProtocol['props']>[0]): Promise<Info> => client.json<Info>(`${base}/info`, { headers, ...callOpts(o) })
  const versionOf = (i: Info): string | null => i.version === undefined ? null : i.sha ? `${i.version}+${i.sha.slice(0, 7)}` : i.version

  const capabilities = async (o?: Parameters<EngineProtocol['props']>[0]): Promise<CapabilitySnapshot> => {
    const i = await info(o)
    return {
      ctx_max: i.max_total_tokens ?? null,
      slots_total: i.max_concurrent_requests ?? null,
      engine_version: versionOf(i),
      supported_workloads: ['completion'],
      features: {
        streaming: true, cancel: true, seed: true, stop: true, chat: false, sampling: TGI_SAMPLING, batching: 'continuous', model_sha: i.model_sha ?? null,
      },
    }
  }

  const frame = (data: string, _event: string, sink: FrameSink): void => {
    const v = frameJson(data)
    if (v.error !== undefined) {
      sink.fail(streamCondition(text(v.error_type)), `tgi reported an error mid-stream: ${String(v.error)}`)
      return
    }
    const token = v.token as { text?: unknown, special?: unknown } | undefined
    if (token && token.special !== true) sink.token(text(token.text) ?? '')
    const details = v.details as Record<string, unknown> | null | undefined
    if (details) {
      sink.end({
        stop_reason: FINISH[text(details.finish_reason) ?? ''] ?? 'eos',
        tokens_out: num(details.generated_tokens),
        tokens_in: num(details.input_length),
      })
    }
  }

  return {
    engine: 'tgi',
    baseUrl: base,
    headers,
    open (req, d) {
      const body = {
        inputs: req.prompt ?? (req.inputs ?? []).join('\n'),
        parameters: {
          max_new_tokens: req.max_tokens,
          ...tgiSampling(req.sampling),
          seed: d.seed,
          details: true,
          ...stopField(req),
        },
      }
      return { path: '/generate_stream', body, frame }
    },
    health: (o) => probe(client, `${base}/health`, headers, o),
    async props (o) {
      const c = await capabilities(o)
      return { slots_total: c.slots_total ?? null, slots_free: null, ctx_max: c.ctx_max ?? null, engine_version: c.engine_version ?? null }
    },
    async engineVersion (o) {
      const v = versionOf(await info(o))
      if (v === null) throw new ORC_ERR_ADAPTER_NO_ENGINE_VERSION('TGI /info', 'version', 'check that the pool points at a TGI server')
      return v
    },
    capabilities,
  }
}
