import { redactString } from '../../sdk/redact.js'
import { KindedError } from '../../lib/errors.js'

/** Typed model-provisioner failures (spec pools-provisioning-catalog.md §3.6). */
export const MODEL_ERRORS = {
  NotFound: { code: 'ORC_ERR_MODEL_NOT_FOUND', statusCode: 404 },
  PolicyDenied: { code: 'ORC_ERR_MODEL_POLICY_DENIED', statusCode: 403 },
  ToolMissing: { code: 'ORC_ERR_MODEL_TOOL_MISSING', statusCode: 500 },
  FetchFailed: { code: 'ORC_ERR_MODEL_FETCH_FAILED', statusCode: 502 },
  DigestMismatch: { code: 'ORC_ERR_MODEL_DIGEST_MISMATCH', statusCode: 400 },
  /** A ref with nothing to download (file:): resolved in place by ensurePresent, never staged. */
  Unstageable: { code: 'ORC_ERR_MODEL_UNSTAGEABLE', statusCode: 500 },
} as const

export type ModelErrorKind = keyof typeof MODEL_ERRORS

export class ModelError extends KindedError<ModelErrorKind> {
  constructor (kind: ModelErrorKind, message: string, details: Record<string, unknown> = {}) {
    // URLs may carry credentials or signed query strings: never let them into a message
    super(MODEL_ERRORS, kind, redactString(`llama-orch models: ${message}`), details)
    this.name = 'ModelError'
  }
}
