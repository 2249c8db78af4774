import createError from '@fastify/error'

/**
 * Errors of llama-orch, in one scheme (spec architecture.md §4): every error has a stable
 * `ORC_ERR_<PLUGIN>_<WHAT>` code, an HTTP status, and a message that says what to do.
 * Plain errors are @fastify/error constructors in their plugin's `errors.ts`; a family whose
 * callers branch on *which* failure it was (the catalog's, the model provisioner's, the pool's
 * gates) is a KindedError, its `kind` picking code and status from the family's table. Public
 * API errors are the SDK's ApiError, with the spec's ErrorKind names.
 */
export abstract class KindedError<K extends string> extends Error {
  readonly kind: K
  readonly code: string
  readonly statusCode: number
  readonly details: Record<string, unknown>

  constructor (table: Record<K, { code: string, statusCode: number }>, kind: K, message: string, details: Record<string, unknown>) {
    super(message)
    this.kind = kind
    this.code = table[kind].code
    this.statusCode = table[kind].statusCode
    this.details = details
  }
}

export const ORC_ERR_PACKAGE_ROOT = createError<[string]>(
  'ORC_ERR_PACKAGE_ROOT',
  'llama-orch: cannot find the package root above %s; run llama-orch from its installed package (package.json with "name": "llama-orch")',
  500
)
