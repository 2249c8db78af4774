import type { FastifyBaseLogger } from 'fastify'
import type { Narrator } from '../../sdk/narration.js'

/** Style target for `human` (ORCH-3305); longer text is allowed up to the hard cap. */
export const HUMAN_STYLE_MAX = 100
/** Hard cap: anything longer is cut (spec §4.3). */
export const HUMAN_HARD_MAX = 160

export function capHuman (human: string): string {
  return human.length <= HUMAN_HARD_MAX ? human : `${human.slice(0, HUMAN_HARD_MAX - 1)}…`
}

export function createNarrator (logger: FastifyBaseLogger): Narrator {
  return {
    narrate (fields, human, level = 'info') {
      // redaction of every field happens in the logger's formatters (see logger.ts)
      logger[level]({ ...fields, human: capHuman(human) })
    },
    child (bindings) {
      return createNarrator(logger.child(bindings))
    },
  }
}
