/**
 * Narration (spec adapters-observability-testing.md §4): one structured record per event with
 * a short plain-English `human` line. The types extensions narrate with; the plugin
 * `orc.narration` decorates `app.narration` with a Narrator.
 */

/** Who speaks (spec §4.2). */
export type Actor =
  | 'orchestratord' | 'adapter-host' | 'adapter' | 'pool-managerd' | 'engine-provisioner'
  | 'model-provisioner' | 'catalog' | 'harness'

/** What happened; the spec's vocabulary, open to additions by extensions. */
export type Action =
  | 'start' | 'stop' | 'load' | 'admission' | 'reject' | 'placement' | 'submit' | 'started' | 'retry'
  | 'backoff' | 'breaker-open' | 'breaker-close' | 'cancel' | 'end' | 'error' | 'bind' | 'rebind'
  | 'health' | 'scrape' | 'preload' | 'ready' | 'unready' | 'drain' | 'reload' | 'crash' | 'restart'
  | (string & {})

export interface NarrationFields {
  actor: Actor
  action: Action
  /** Engine name for adapter calls; otherwise a pool, task or model id. */
  target: string
  [field: string]: unknown
}

export type NarrationLevel = 'debug' | 'info' | 'warn' | 'error'

export interface Narrator {
  /** One narration record: structured fields plus one short plain-English sentence. */
  narrate (fields: NarrationFields, human: string, level?: NarrationLevel): void
  /** A narrator whose records all carry `bindings` (ids of a task, a pool, a request). */
  child (bindings: Record<string, unknown>): Narrator
}
