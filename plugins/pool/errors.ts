import createError from '@fastify/error'
import { KindedError } from '../../lib/errors.js'

/**
 * Why a replica did not start (ORCH-3421): the gate it failed, in order model → engine →
 * health → bind. The pool records the message in `last_error` and retries after backoff.
 */
export const GATE_ERRORS = {
  model: { code: 'ORC_ERR_POOL_GATE_MODEL', statusCode: 503 },
  engine: { code: 'ORC_ERR_POOL_GATE_ENGINE', statusCode: 503 },
  health: { code: 'ORC_ERR_POOL_GATE_HEALTH', statusCode: 503 },
  bind: { code: 'ORC_ERR_POOL_GATE_BIND', statusCode: 503 },
} as const

export type Gate = keyof typeof GATE_ERRORS

export class GateError extends KindedError<Gate> {
  constructor (gate: Gate, message: string) {
    super(GATE_ERRORS, gate, message, {})
    this.name = 'GateError'
  }

  get gate (): Gate { return this.kind }
}

export const ORC_ERR_POOL_MODEL_RETIRED = createError<[string]>(
  'ORC_ERR_POOL_MODEL_RETIRED',
  'model %s is Retired in the catalog; set it Active (POST /v1/catalog/models/{id}/state) to serve it',
  403
)

export const ORC_ERR_POOL_MODEL_REFUSED = createError<[string]>(
  'ORC_ERR_POOL_MODEL_REFUSED',
  'model ref %s; nothing was registered',
  400
)

export const ORC_ERR_POOL_PERF_PROBE = createError<[number]>(
  'ORC_ERR_POOL_PERF_PROBE',
  'perf probe: /completion answered %s; the engine serves but could not be measured, so placement has no perf hints for it',
  502
)
