/** Typed catalog failures (spec pools-provisioning-catalog.md §4.3); `kind` is the spec's name. */
export const CATALOG_ERRORS = {
  NotFound: { code: 'ORC_ERR_CATALOG_NOT_FOUND', statusCode: 404 },
  SchemaVersionMismatch: { code: 'ORC_ERR_CATALOG_SCHEMA_VERSION', statusCode: 500 },
  PathTraversal: { code: 'ORC_ERR_CATALOG_PATH_TRAVERSAL', statusCode: 400 },
  Busy: { code: 'ORC_ERR_CATALOG_BUSY', statusCode: 503 },
  Serde: { code: 'ORC_ERR_CATALOG_SERDE', statusCode: 500 },
  InvalidEntry: { code: 'ORC_ERR_CATALOG_INVALID_ENTRY', statusCode: 400 },
} as const

export type CatalogErrorKind = keyof typeof CATALOG_ERRORS

/** An error whose `kind` picks its stable `code` and HTTP status from a table. */
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

export class CatalogError extends KindedError<CatalogErrorKind> {
  constructor (kind: CatalogErrorKind, message: string, details: Record<string, unknown> = {}) {
    super(CATALOG_ERRORS, kind, `llama-orch catalog: ${message}`, details)
    this.name = 'CatalogError'
  }
}

export const isCatalogError = (err: unknown, kind?: CatalogErrorKind): err is CatalogError =>
  err instanceof CatalogError && (kind === undefined || err.kind === kind)
