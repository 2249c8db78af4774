/**
 * Response bodies in llama-server's exact shapes (spec embedded-engine.md §5): the keys a
 * real llama-server returns, including its quirks (EOS counted in `tokens_predicted`, the
 * unset seed reported as 4294967295, `llamacpp:`-prefixed Prometheus names).
 */
import type { Token } from 'node-llama-cpp'
import type { CompletionParams, CompletionResult, WorkerEngine } from './worker-engine.js'

export interface FinalContext {
  alias: string
  params: CompletionParams
  settings: Record<string, unknown>
  stream: boolean
  returnTokens: boolean
  prompt: string
}

const round = (x: number): number => Math.round(x * 1000) / 1000
const perSecond = (n: number, ms: number): number => ms > 0 ? round(n / (ms / 1000)) : 0

/** The `/completion` answer (non-streamed) or the final `stop:true` SSE chunk (streamed). */
export function completionBody (r: CompletionResult, c: FinalContext): Record<string, unknown> {
  const promptN = c.params.prompt.length - r.cacheN
  return {
    index: 0,
    content: c.stream ? '' : r.text,
    tokens: c.returnTokens ? r.tokens : [],
    id_slot: r.slot,
    stop: true,
    model: c.alias,
    tokens_predicted: r.predicted,
    tokens_evaluated: c.params.prompt.length,
    generation_settings: c.settings,
    prompt: c.prompt,
    has_new_line: r.text.includes('\n'),
    truncated: false,
    stop_type: r.stopType,
    stopping_word: r.stoppingWord,
    tokens_cached: r.tokensCached,
    timings: {
      cache_n: r.cacheN,
      prompt_n: promptN,
      prompt_ms: round(r.promptMs),
      prompt_per_token_ms: promptN > 0 ? round(r.promptMs / promptN) : 0,
      prompt_per_second: perSecond(promptN, r.promptMs),
      predicted_n: r.predicted,
      predicted_ms: round(r.predictedMs),
      predicted_per_token_ms: r.predicted > 0 ? round(r.predictedMs / r.predicted) : 0,
      predicted_per_second: perSecond(r.predicted, r.predictedMs),
    },
  }
}

const DEFAULT_PARAMS = { n_predict: -1, seed: 4294967295, temperature: 0.8, top_k: 40, top_p: 0.95, min_p: 0.05, stop: [] as string[] }

export function propsBody (engine: WorkerEngine, alias: string): Record<string, unknown> {
  const model = engine.model!
  const piece = (t: Token | null): string => t === null ? '' : model.detokenize([t], true)
  return {
    default_generation_settings: { id: 0, id_task: -1, n_ctx: engine.nCtx, is_processing: false, params: { ...DEFAULT_PARAMS, n_ctx: engine.nCtx } },
    total_slots: engine.slots.length,
    model_alias: alias,
    model_path: engine.opts.modelPath,
    chat_template: model.fileInfo.metadata.tokenizer?.chat_template ?? '',
    chat_template_caps: {},
    bos_token: piece(model.tokens.bos),
    eos_token: piece(model.tokens.eos),
    modalities: { vision: false, audio: false },
    is_sleeping: false,
    build_info: engine.buildInfo,
  }
}

export function slotsBody (engine: WorkerEngine): Array<Record<string, unknown>> {
  return engine.slots.map((s) => ({
    id: s.id,
    id_task: s.taskId,
    is_processing: s.busy,
    n_ctx: engine.nCtx,
    n_prompt_tokens: s.promptTokens,
    n_prompt_tokens_cache: s.cached.length,
    n_prompt_tokens_processed: s.promptTokens,
    next_token: { has_next_token: s.busy, n_remain: -1, n_decoded: 0 },
    params: { ...DEFAULT_PARAMS, ...s.params },
    speculative: false,
  }))
}

/** llama-server's `/metrics` (with `--metrics`): Prometheus 0.0.4 text, names prefixed `llamacpp:`. */
export function prometheusText (engine: WorkerEngine): string {
  const c = engine.counters
  const kv = engine.kvUsage()
  const busy = engine.slots.filter((s) => s.busy).length
  const rows: Array<[string, 'counter' | 'gauge', string, number]> = [
    ['prompt_tokens_total', 'counter', 'Number of prompt tokens processed.', c.promptTokens],
    ['prompt_seconds_total', 'counter', 'Prompt process time', c.promptSeconds],
    ['tokens_predicted_total', 'counter', 'Number of generation tokens processed.', c.predictedTokens],
    ['tokens_predicted_seconds_total', 'counter', 'Predict process time', c.predictedSeconds],
    ['n_decode_total', 'counter', 'Total number of llama_decode() calls', c.decodes],
    ['n_busy_slots_per_decode', 'counter', 'Average number of busy slots per llama_decode() call', c.decodes > 0 ? busy : 0],
    ['prompt_tokens_seconds', 'gauge', 'Average prompt throughput in tokens/s.', c.promptSeconds > 0 ? c.promptTokens / c.promptSeconds : 0],
    ['predicted_tokens_seconds', 'gauge', 'Average generation throughput in tokens/s.', c.predictedSeconds > 0 ? c.predictedTokens / c.predictedSeconds : 0],
    ['kv_cache_usage_ratio', 'gauge', 'KV-cache usage. 1 means 100 percent usage.', kv.ratio],
    ['kv_cache_tokens', 'gauge', 'KV-cache tokens.', kv.tokens],
    ['requests_processing', 'gauge', 'Number of requests processing.', busy],
    ['requests_deferred', 'gauge', 'Number of requests deferred.', engine.queued],
  ]
  return rows.map(([name, type, help, value]) =>
    `# HELP llamacpp:${name} ${help}\n# TYPE llamacpp:${name} ${type}\nllamacpp:${name} ${Number.isFinite(value) ? value : 0}\n`).join('')
}
