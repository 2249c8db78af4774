import { Type, type Static } from 'typebox'

/**
 * A task's sampling (issue 11 item 2, openai-compat.md §2): what reaches the engine beyond
 * greedy decoding. Each adapter names the parameters its engine honours in
 * `capabilities().features.sampling`; admission refuses a task that sets one its engine does
 * not (honour or reject, §3). Absent, a parameter keeps sampler profile v1's value: greedy
 * (temperature 0), no penalty, no bias, free text.
 */
const JsonSchema = Type.Object({}, { additionalProperties: true, description: 'a JSON Schema the output must match' })

export const ResponseFormat = Type.Union([
  Type.Object({ type: Type.Literal('json_object') }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('json_schema'), schema: JsonSchema }, { additionalProperties: false }),
], { description: 'constrain the output to JSON: any object (json_object), or one matching a schema (json_schema)' })

export const Sampling = Type.Object({
  temperature: Type.Optional(Type.Number({ minimum: 0, maximum: 2, description: '0 = greedy (the default, profile v1)' })),
  top_p: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1, description: 'nucleus sampling; needs temperature > 0' })),
  top_k: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000, description: '0 = off; needs temperature > 0' })),
  min_p: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: '0 = off; needs temperature > 0' })),
  presence_penalty: Type.Optional(Type.Number({ minimum: -2, maximum: 2, description: '0 = off' })),
  frequency_penalty: Type.Optional(Type.Number({ minimum: -2, maximum: 2, description: '0 = off' })),
  repeat_penalty: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 10, description: 'multiplicative (llama.cpp, vLLM repetition_penalty); 1 = off' })),
  logit_bias: Type.Optional(Type.Record(Type.String({ pattern: '^[0-9]{1,9}$' }), Type.Number({ minimum: -100, maximum: 100 }), {
    maxProperties: 1024,
    description: 'token id → bias added to its logit, -100..100 (-100 bans it)',
  })),
  response_format: Type.Optional(ResponseFormat),
}, { additionalProperties: false })

export type Sampling = Static<typeof Sampling>
export type SamplingParam = keyof Sampling
export type ResponseFormat = Static<typeof ResponseFormat>

/** Every sampling parameter, in the order tables show them. */
export const SAMPLING_PARAMS: readonly SamplingParam[] = Object.keys(Sampling.properties) as SamplingParam[]

/** Profile v1's value of each parameter: sent as is, it asks nothing of the engine. */
const NEUTRAL: Readonly<Record<SamplingParam, (v: unknown) => boolean>> = {
  temperature: (v) => v === 0,
  top_p: (v) => v === 1,
  top_k: (v) => v === 0,
  min_p: (v) => v === 0,
  presence_penalty: (v) => v === 0,
  frequency_penalty: (v) => v === 0,
  repeat_penalty: (v) => v === 1,
  logit_bias: (v) => typeof v === 'object' && v !== null && Object.keys(v).length === 0,
  response_format: () => false,
}

/**
 * The parameters a task sets to something other than profile v1's value: those its engine
 * must honour. `temperature: 0` or `top_p: 1` (what many clients send) ask nothing, so every
 * engine takes them.
 */
export function samplingParams (s: Sampling | undefined): SamplingParam[] {
  return s === undefined ? [] : SAMPLING_PARAMS.filter((p) => s[p] !== undefined && !NEUTRAL[p](s[p]))
}

/**
 * A parameter set to a non-neutral value that greedy decoding would make meaningless
 * (top_p < 1, top_k > 1, min_p > 0 at temperature 0), or undefined: such a task is refused
 * rather than sampled greedily with the parameter silently without effect.
 */
export function withoutEffect (s: Sampling | undefined): SamplingParam | undefined {
  if (s === undefined || (s.temperature ?? 0) > 0) return undefined
  if (s.top_p !== undefined && s.top_p < 1) return 'top_p'
  if (s.top_k !== undefined && s.top_k > 1) return 'top_k'
  if (s.min_p !== undefined && s.min_p > 0) return 'min_p'
  return undefined
}
