import type { Determinism } from '../../sdk/determinism.js'
import type { ResponseFormat, Sampling, SamplingParam } from '../../sdk/sampling.js'
import type { TaskRequest } from '../../sdk/task.js'

/**
 * A task's stop sequences as the `stop` field of an engine body (issue 11), or nothing when it
 * has none, so engines that reject an empty list (or read it differently) never see one.
 */
export function stopField (req: Pick<TaskRequest, 'stop'>): { stop?: string[] } {
  return req.stop !== undefined && req.stop.length > 0 ? { stop: req.stop } : {}
}

/** The fields of `s` that are set, renamed by `names` (engine dialects differ in spelling). */
function renamed (s: Sampling, names: Partial<Record<SamplingParam, string>>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [p, name] of Object.entries(names)) {
    const v = s[p as SamplingParam]
    if (v !== undefined) out[name] = v
  }
  return out
}

/**
 * The JSON Schema a task's format asks for, for engines that take a schema (llama.cpp's
 * `json_schema`, TGI's JSON grammar): `json_object` is any object, as OpenAI defines it.
 */
export function formatSchema (f: ResponseFormat): object {
  return f.type === 'json_object' ? { type: 'object' } : f.schema
}

/** top_k under profile v1: 1 (greedy) unless sampling, then off (0) unless the task asks, as OpenAI samples. */
export function topKOf (s: Pick<Sampling, 'top_k' | 'temperature'>): number {
  return s.top_k ?? ((s.temperature ?? 0) > 0 ? 0 : 1)
}

/** OpenAI's `response_format` for a task's format (chat and completions bodies of vLLM, chat of OpenAI). */
export function openAiResponseFormat (f: ResponseFormat): Record<string, unknown> {
  return f.type === 'json_object' ? { type: 'json_object' } : { type: 'json_schema', json_schema: { name: 'output', schema: f.schema, strict: true } }
}

/** The sampling parameters the OpenAI dialect spells as the task does. */
export const OPENAI_NAMES: Partial<Record<SamplingParam, string>> = {
  temperature: 'temperature', top_p: 'top_p', presence_penalty: 'presence_penalty', frequency_penalty: 'frequency_penalty', logit_bias: 'logit_bias',
}

/** vLLM's OpenAI server also takes its sampler's extras (top_k, min_p, repetition_penalty) as top-level fields. */
export const VLLM_NAMES: Partial<Record<SamplingParam, string>> = { ...OPENAI_NAMES, top_k: 'top_k', min_p: 'min_p', repeat_penalty: 'repetition_penalty' }

/**
 * Sampler profile v1 in the OpenAI dialect (vLLM and OpenAI chat and completions bodies),
 * then the task's sampling over it: greedy (temperature 0, top_p 1) unless the task says
 * otherwise, the task's seed, usage in the stream, its stop sequences. The adapter's
 * capability lists exactly the parameters `names` maps (admission refuses the rest).
 */
export function openAiBody (
  model: string, req: Pick<TaskRequest, 'stop' | 'sampling'>, d: Pick<Determinism, 'seed'>, names: Partial<Record<SamplingParam, string>> = OPENAI_NAMES
): Record<string, unknown> {
  const s = req.sampling ?? {}
  const body: Record<string, unknown> = {
    model, stream: true, stream_options: { include_usage: true }, temperature: 0, top_p: 1, seed: d.seed, ...stopField(req), ...renamed(s, names),
  }
  if (s.response_format !== undefined) body.response_format = openAiResponseFormat(s.response_format)
  return body
}

/** The parameters an OpenAI-dialect body carries for `names` (+ response_format where the API has it). */
export function openAiSampling (names: Partial<Record<SamplingParam, string>>, responseFormat: boolean): SamplingParam[] {
  const params = Object.keys(names) as SamplingParam[]
  return responseFormat ? [...params, 'response_format'] : params
}
