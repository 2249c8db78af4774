import type { Logger } from 'pino'

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

/** Style target for `human` (ORCH-3305); longer text is allowed up to the hard cap. */
export const HUMAN_STYLE_MAX = 100
/** Hard cap: anything longer is cut (spec §4.3). */
export const HUMAN_HARD_MAX = 160

export interface Narrator {
  /** One narration record: structured fields plus one short plain-English sentence. */
  narrate (fields: NarrationFields, human: string, level?: NarrationLevel): void
  /** A narrator whose records all carry `bindings` (ids of a task, a pool, a request). */
  child (bindings: Record<string, unknown>): Narrator
  readonly logger: Logger
}

export function capHuman (human: string): string {
  return human.length <= HUMAN_HARD_MAX ? human : `${human.slice(0, HUMAN_HARD_MAX - 1)}…`
}

export function createNarrator (logger: Logger): Narrator {
  return {
    logger,
    narrate (fields, human, level = 'info') {
      // redaction of every field happens in the logger's formatters (see logger.ts)
      logger[level]({ ...fields, human: capHuman(human) })
    },
    child (bindings) {
      return createNarrator(logger.child(bindings))
    },
  }
}
