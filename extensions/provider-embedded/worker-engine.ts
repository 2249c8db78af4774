/**
 * The engine inside an embedded worker: one node-llama-cpp context with one sequence per
 * slot, a FIFO of requests waiting for a free slot, greedy/seeded completion with an
 * AbortSignal, and the counters llama-server exposes on `/metrics`. No HTTP here.
 */
import { engineVersion } from './version.js'
import { applyTemplate as applyChatTemplate, type ChatMessage } from './chat-template.js'
import {
  getLlama, LlamaCompletion, LlamaLogLevel, TokenBias,
  type LLamaContextualRepeatPenalty, type Llama, type LlamaContext, type LlamaEmbeddingContext, type LlamaContextSequence, type LlamaGrammar,
  type LlamaModel, type Token,
} from 'node-llama-cpp'
import { ORC_ERR_EMBEDDED_NO_GPU_BACKEND, ORC_ERR_EMBEDDED_SHUTTING_DOWN } from './errors.js'

export interface EngineOptions {
  modelPath: string
  /** Context per slot, in tokens. */
  ctx: number
  threads: number
  parallel: number
  /** `auto` lets node-llama-cpp pick CUDA/Vulkan/Metal when present; `false` is CPU only. */
  gpu: 'auto' | false
  /** Fail the load when no GPU backend came up (compute policy gpu-required). */
  requireGpu: boolean
}

export interface Slot {
  id: number
  busy: boolean
  taskId: number
  completion: LlamaCompletion
  sequence: LlamaContextSequence
  /** Tokens the slot's sequence holds after its last task (prompt + generated). */
  cached: Token[]
  promptTokens: number
  params: Record<string, unknown>
}

export interface CompletionParams {
  prompt: Token[]
  nPredict: number | undefined
  temperature: number
  seed: number | undefined
  topK: number
  topP: number
  minP: number
  stop: string[]
  cachePrompt: boolean
  /** llama-server's penalties; all neutral = none applied (node-llama-cpp's repeatPenalty: false). */
  penalties: { repeat: number, presence: number, frequency: number, lastN: number }
  /** Token id → logit bias (`-Infinity` bans). */
  logitBias: Map<Token, number>
  /** The JSON Schema the output must match (llama-server's `json_schema`). */
  jsonSchema: object | undefined
}

export interface CompletionResult {
  slot: number
  tokens: Token[]
  text: string
  /** Tokens predicted, the EOS token included (llama-server counts it). */
  predicted: number
  stopType: 'eos' | 'limit' | 'word' | 'none'
  stoppingWord: string
  cacheN: number
  promptMs: number
  predictedMs: number
  tokensCached: number
}

export interface Counters {
  promptTokens: number
  promptSeconds: number
  predictedTokens: number
  predictedSeconds: number
  decodes: number
  deferred: number
}

export class WorkerEngine {
  llama: Llama | undefined
  model: LlamaModel | undefined
  context: LlamaContext | undefined
  readonly slots: Slot[] = []
  readonly counters: Counters = { promptTokens: 0, promptSeconds: 0, predictedTokens: 0, predictedSeconds: 0, decodes: 0, deferred: 0 }
  private readonly waiters: Array<{ resolve: (s: Slot) => void, reject: (e: unknown) => void, signal: AbortSignal, onAbort: () => void }> = []
  private nextTask = 0
  private readonly grammars = new Map<string, Promise<LlamaGrammar>>()
  /** The embedding context, made on the first embedding request (most pools never embed). */
  private embedding: Promise<LlamaEmbeddingContext> | undefined
  /** Embeddings run one at a time on their one sequence. */
  private embedLine: Promise<unknown> = Promise.resolve()

  readonly opts: EngineOptions

  constructor (opts: EngineOptions) { this.opts = opts }

  get ready (): boolean { return this.context !== undefined }

  async load (): Promise<void> {
    this.llama = await getLlama({ gpu: this.opts.gpu, build: 'never', logLevel: LlamaLogLevel.error })
    if (this.opts.requireGpu && this.llama.gpu === false) {
      throw new ORC_ERR_EMBEDDED_NO_GPU_BACKEND()
    }
    this.model = await this.llama.loadModel({ modelPath: this.opts.modelPath, ...(this.llama.gpu === false ? { gpuLayers: 0 } : {}) })
    this.context = await this.model.createContext({ contextSize: this.opts.ctx, sequences: this.opts.parallel, threads: this.opts.threads })
    for (let id = 0; id < this.opts.parallel; id++) {
      const sequence = this.context.getSequence()
      this.slots.push({
        id,
        busy: false,
        taskId: -1,
        completion: new LlamaCompletion({ contextSequence: sequence }),
        sequence,
        cached: [],
        promptTokens: 0,
        params: {},
      })
    }
  }

  get computeMode (): 'gpu' | 'cpu' { return this.llama?.gpu === false || this.llama === undefined ? 'cpu' : 'gpu' }

  get nCtx (): number { return this.context?.contextSize ?? this.opts.ctx }

  get buildInfo (): string {
    return engineVersion()
  }

  tokenize (text: string, addSpecial: boolean): Token[] {
    return this.model!.tokenize(text, addSpecial)
  }

  detokenize (tokens: readonly Token[]): string {
    return this.model!.detokenize(tokens)
  }

  /** The chat as the model's own template renders it, ready for a completion (issue 11). */
  applyTemplate (messages: readonly ChatMessage[]): string {
    return applyChatTemplate(this.model!, messages)
  }

  /** Waits (FIFO) for a free slot; an abort while waiting removes the request from the line. */
  acquire (signal: AbortSignal): Promise<Slot> {
    const free = this.slots.find((s) => !s.busy)
    if (free) { free.busy = true; return Promise.resolve(free) }
    this.counters.deferred++
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          const i = this.waiters.indexOf(waiter)
          if (i >= 0) this.waiters.splice(i, 1)
          reject(signal.reason)
        },
      }
      signal.addEventListener('abort', waiter.onAbort, { once: true })
      this.waiters.push(waiter)
    })
  }

  release (slot: Slot): void {
    slot.taskId = -1
    const next = this.waiters.shift()
    if (next) {
      next.signal.removeEventListener('abort', next.onAbort)
      next.resolve(slot)
    } else {
      slot.busy = false
    }
  }

  get queued (): number { return this.waiters.length }

  /**
   * Drops the KV cache of an idle slot (llama-server `POST /slots/{id}?action=erase`); returns the
   * tokens erased. A busy slot already serves another task, whose cache it keeps: 0 erased.
   */
  async erase (slot: Slot): Promise<number> {
    if (slot.busy) return 0
    slot.busy = true // held while clearing, so no task starts on a half-cleared sequence
    const n = slot.cached.length
    slot.cached = []
    try {
      await slot.sequence.clearHistory()
    } finally {
      this.release(slot)
    }
    return n
  }

  async complete (slot: Slot, p: CompletionParams, signal: AbortSignal, onTokens: (tokens: Token[], text: string) => void): Promise<CompletionResult> {
    slot.taskId = this.nextTask++
    slot.promptTokens = p.prompt.length
    const cacheN = p.cachePrompt ? commonPrefix(slot.cached, p.prompt) : 0
    const tokens: Token[] = []
    const t0 = performance.now()
    let tFirst: number | undefined
    const meta = await slot.completion.generateCompletionWithMeta(p.prompt, {
      ...(p.nPredict !== undefined ? { maxTokens: p.nPredict } : {}),
      temperature: p.temperature,
      ...(p.seed !== undefined ? { seed: p.seed } : {}),
      topK: p.topK,
      topP: p.topP,
      minP: p.minP,
      ...(p.stop.length > 0 ? { customStopTriggers: p.stop } : {}),
      ...(penalised(p) ? { repeatPenalty: this.repeatPenalty(p) } : {}),
      ...(p.logitBias.size > 0 ? { tokenBias: this.tokenBias(p.logitBias) } : {}),
      ...(p.jsonSchema !== undefined ? { grammar: await this.grammarFor(p.jsonSchema) } : {}),
      signal,
      stopOnAbortSignal: true,
      onToken: (chunk) => {
        tFirst ??= performance.now()
        tokens.push(...chunk)
        onTokens(chunk, this.detokenize(chunk))
      },
    })
    const t1 = performance.now()
    const reason = meta.metadata.stopReason
    const eos = reason === 'eogToken' || reason === 'stopGenerationTrigger'
    const stopType = eos ? 'eos' : reason === 'maxTokens' ? 'limit' : reason === 'customStopTrigger' ? 'word' : 'none'
    const stoppingWord = meta.metadata.stopReason === 'customStopTrigger'
      ? meta.metadata.customStopTrigger.map((x) => typeof x === 'string' ? x : this.detokenize([x])).join('')
      : ''
    const predicted = tokens.length + (eos ? 1 : 0)
    const promptMs = (tFirst ?? t1) - t0
    const predictedMs = t1 - (tFirst ?? t1)
    slot.cached = [...p.prompt, ...tokens]
    const c = this.counters
    c.promptTokens += p.prompt.length - cacheN
    c.promptSeconds += promptMs / 1000
    c.predictedTokens += predicted
    c.predictedSeconds += predictedMs / 1000
    c.decodes += predicted + (p.prompt.length > cacheN ? 1 : 0)
    return { slot: slot.id, tokens, text: meta.response, predicted, stopType, stoppingWord, cacheN, promptMs, predictedMs, tokensCached: slot.cached.length }
  }

  private repeatPenalty (p: CompletionParams): LLamaContextualRepeatPenalty {
    const { repeat, presence, frequency, lastN } = p.penalties
    // llama.cpp penalises every token, newlines included, over the last repeat_last_n
    return { penalty: repeat, presencePenalty: presence, frequencyPenalty: frequency, lastTokens: lastN, penalizeNewLine: true }
  }

  private tokenBias (bias: ReadonlyMap<Token, number>): TokenBias {
    const tb = TokenBias.for(this.model!)
    for (const [token, logit] of bias) tb.set(token, logit === -Infinity ? 'never' : { logit })
    return tb
  }

  /**
   * A schema's grammar, compiled once per distinct schema (compiling costs far more than a
   * lookup). A schema node-llama-cpp cannot express throws a TypeError naming `json_schema`.
   */
  async grammarFor (schema: object): Promise<LlamaGrammar> {
    const key = JSON.stringify(schema)
    let g = this.grammars.get(key)
    if (g === undefined) {
      g = this.llama!.createGrammarForJsonSchema(schema as never).catch((err: unknown) => {
        this.grammars.delete(key)
        throw new TypeError(`"json_schema" cannot be turned into a grammar: ${(err as Error).message}`)
      })
      this.grammars.set(key, g)
    }
    return await g
  }

  /**
   * One vector per text (llama-server `/v1/embeddings` with `--embeddings`), from an embedding
   * context of its own beside the slots' context, and the tokens they held.
   */
  async embed (texts: readonly string[]): Promise<{ vectors: number[][], tokens: number }> {
    this.embedding ??= this.model!.createEmbeddingContext({ contextSize: this.opts.ctx, threads: this.opts.threads })
    const run = this.embedLine.then(async () => {
      const context = await this.embedding!
      const vectors: number[][] = []
      let tokens = 0
      for (const text of texts) {
        const input = this.tokenize(text, true)
        if (input.length > this.nCtx) throw new TypeError(`an input has ${input.length} tokens, more than the context of ${this.nCtx}`)
        tokens += input.length
        vectors.push([...(await context.getEmbeddingFor(input)).vector])
      }
      return { vectors, tokens }
    })
    this.embedLine = run.catch(() => {})
    return await run
  }

  /** Fraction of the KV cells in use over all slots. */
  kvUsage (): { tokens: number, ratio: number } {
    const tokens = this.slots.reduce((n, s) => n + s.cached.length, 0)
    return { tokens, ratio: this.slots.length === 0 ? 0 : tokens / (this.nCtx * this.slots.length) }
  }

  async dispose (): Promise<void> {
    await (await this.embedding?.catch(() => undefined))?.dispose()
    for (const w of this.waiters.splice(0)) w.reject(new ORC_ERR_EMBEDDED_SHUTTING_DOWN())
    await this.llama?.dispose()
  }
}

const penalised = (p: CompletionParams): boolean =>
  p.penalties.repeat !== 1 || p.penalties.presence !== 0 || p.penalties.frequency !== 0

function commonPrefix (a: readonly Token[], b: readonly Token[]): number {
  let n = 0
  // the last prompt token is always evaluated again to produce logits, as llama-server does
  while (n < a.length && n < b.length - 1 && a[n] === b[n]) n++
  return n
}
