import type { Sampling } from '../../sdk/sampling.js'
import { missingParam, OpenAiError } from './errors.js'
import type { ChatRequest, CompletionRequest } from './schema.js'

/**
 * Honour or reject (openai-compat.md §3), the OpenAI layer's half. Sampling parameters
 * (temperature, top_p, top_k, min_p, penalties, logit_bias, response_format) become the
 * task's `sampling`, which admission refuses for an engine that does not honour one
 * (plugins/dataplane/honour.ts; per engine: the adapters' tables, in the README). The fields
 * here are OpenAI's that no engine is driven with yet: each is accepted only at the value
 * that means what the server does, any other value is refused naming it, never dropped.
 */
export interface Rule {
  /** The values that mean what the server does; `undefined` and `null` always pass. */
  honoured: (v: unknown) => boolean
  /** What is honoured, for the table and the refusal. */
  accepts: string
}

const is = (want: unknown) => (v: unknown): boolean => v === want

export const COMPLETION_RULES: Readonly<Record<string, Rule>> = {
  n: { honoured: is(1), accepts: '1 (one choice per request)' },
  best_of: { honoured: is(1), accepts: '1' },
  echo: { honoured: is(false), accepts: 'false' },
  logprobs: { honoured: () => false, accepts: 'null (log probabilities are not reported yet)' },
  suffix: { honoured: is(''), accepts: 'null (no insertion)' },
}

/** The chat endpoint's extra fields; the shared ones rule as for completions. */
export const CHAT_RULES: Readonly<Record<string, Rule>> = {
  n: COMPLETION_RULES.n!,
  logprobs: { honoured: is(false), accepts: 'false (log probabilities are not reported yet)' },
  top_logprobs: { honoured: () => false, accepts: 'null' },
  tools: { honoured: (v) => Array.isArray(v) && v.length === 0, accepts: '[] (no tool calls yet)' },
  tool_choice: { honoured: is('none'), accepts: '"none"' },
  parallel_tool_calls: { honoured: () => true, accepts: 'any (no tools are called)' },
}

const empty = (v: unknown): boolean => Array.isArray(v) ? v.length === 0 : typeof v === 'object' && v !== null && Object.keys(v).length === 0

/** The Responses API's fields beyond text and sampling: nothing stored, no tools, no reasoning. */
export const RESPONSES_RULES: Readonly<Record<string, Rule>> = {
  store: { honoured: is(false), accepts: 'false (stateless: nothing is stored)' },
  previous_response_id: { honoured: () => false, accepts: 'null (no stored response to continue)' },
  background: { honoured: is(false), accepts: 'false' },
  include: { honoured: empty, accepts: '[]' },
  tools: CHAT_RULES.tools!,
  tool_choice: { honoured: (v) => v === 'none' || v === 'auto', accepts: '"none" or "auto" (no tools, so none is called)' },
  parallel_tool_calls: CHAT_RULES.parallel_tool_calls!,
  truncation: { honoured: is('disabled'), accepts: '"disabled" (a prompt over the context is refused, never cut)' },
  top_logprobs: { honoured: is(0), accepts: '0 (log probabilities are not reported yet)' },
  reasoning: { honoured: empty, accepts: '{} (no reasoning models)' },
}

export interface Refused { param: string, message: string }

/** The first field the server cannot honour at the value sent, or undefined. */
export function refusedParam (body: object, rules: Readonly<Record<string, Rule>> = COMPLETION_RULES): Refused | undefined {
  for (const [param, rule] of Object.entries(rules)) {
    const v = (body as Record<string, unknown>)[param]
    if (v === undefined || v === null || rule.honoured(v)) continue
    const message = `${param} ${JSON.stringify(v)} cannot be honoured: this server accepts ${rule.accepts}; leave it out or send that value`
    return { param, message }
  }
  return undefined
}

/** Throws the 400 for the first field of `body` the server cannot honour. */
export function refuseUnhonoured (body: object, rules: Readonly<Record<string, Rule>>): void {
  const refused = refusedParam(body, rules)
  if (refused) throw new OpenAiError(400, refused.message, { param: refused.param, code: 'unsupported_value' })
}

type SamplingFields = Pick<CompletionRequest, 'temperature' | 'top_p' | 'top_k' | 'min_p' | 'presence_penalty' | 'frequency_penalty' |
  'repeat_penalty' | 'logit_bias'> & Pick<ChatRequest, 'response_format'>

/** The request's sampling fields as the task's `sampling` (undefined when it sets none; `null` is unset). */
export function samplingOf (body: SamplingFields): Sampling | undefined {
  const s: Sampling = {}
  const copy = <K extends keyof Sampling & keyof SamplingFields>(k: K): void => {
    const v = body[k]
    if (v !== undefined && v !== null) s[k] = v as Sampling[K]
  }
  for (const k of ['temperature', 'top_p', 'top_k', 'min_p', 'presence_penalty', 'frequency_penalty', 'repeat_penalty', 'logit_bias'] as const) copy(k)
  const f = body.response_format
  if (f?.type === 'json_object') s.response_format = { type: 'json_object' }
  if (f?.type === 'json_schema') {
    if (f.json_schema === undefined) throw missingParam('response_format.json_schema')
    s.response_format = { type: 'json_schema', schema: f.json_schema.schema }
  }
  return Object.keys(s).length > 0 ? s : undefined
}

/** The table as the README shows it (generated by `npm run gen`, drift-tested). */
export function honourTable (): string {
  const tables = [COMPLETION_RULES, CHAT_RULES, RESPONSES_RULES]
  const params = [...new Set(tables.flatMap((r) => Object.keys(r)))]
  const rows = params.map((p) => `| \`${p}\` | ${tables.map((r) => r[p]?.accepts ?? '—').join(' | ')} |`)
  return ['| parameter | `/v1/completions` honours | `/v1/chat/completions` honours | `/v1/responses` honours |', '|---|---|---|---|', ...rows].join('\n')
}
