import type { ContractMetrics } from '../metrics/index.js'

/**
 * Task-level metrics (spec §3.5, §4.6, ORCH-3460), all owned by the data plane. Label children
 * are resolved once per stream; tokens are counted in a plain integer and flushed to
 * `tokens_out_total` every 32 tokens or 250 ms and at the terminal event, so the totals are exact
 * and no label object is built per token.
 */
export interface StreamLabels { engine: string, engine_version: string, pool_id: string, replica_id: string, priority: string }

const FLUSH_TOKENS = 32
const FLUSH_MS = 250

type Inc = { inc (n?: number): void }
type Obs = { observe (v: number): void }

export class StreamMetrics {
  readonly #tokensOut: Inc
  readonly #tokensIn: Inc
  readonly #firstToken: Obs
  readonly #decode: Obs
  #pending = 0
  #lastFlush: number

  readonly labels: StreamLabels

  constructor (m: ContractMetrics, labels: StreamLabels, nowMs: number) {
    this.labels = labels
    const replica = { engine: labels.engine, engine_version: labels.engine_version, pool_id: labels.pool_id, replica_id: labels.replica_id }
    const pool = { engine: labels.engine, engine_version: labels.engine_version, pool_id: labels.pool_id, priority: labels.priority }
    this.#tokensOut = m.tokens_out_total.labels(replica)
    this.#tokensIn = m.tokens_in_total.labels(replica)
    this.#firstToken = m.latency_first_token_ms.labels(pool)
    this.#decode = m.latency_decode_ms.labels(pool)
    this.#lastFlush = nowMs
    m.tasks_started_total.inc({ ...labels })
  }

  token (nowMs: number): void {
    if (++this.#pending >= FLUSH_TOKENS || nowMs - this.#lastFlush >= FLUSH_MS) this.flush(nowMs)
  }

  flush (nowMs: number): void {
    if (this.#pending > 0) this.#tokensOut.inc(this.#pending)
    this.#pending = 0
    this.#lastFlush = nowMs
  }

  firstToken (ms: number): void { this.#firstToken.observe(ms) }

  terminal (nowMs: number, tokensIn: number | undefined, decodeMs: number | undefined): void {
    this.flush(nowMs)
    if (tokensIn !== undefined && tokensIn > 0) this.#tokensIn.inc(tokensIn)
    if (decodeMs !== undefined) this.#decode.observe(decodeMs)
  }
}
