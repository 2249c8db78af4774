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

export class CatalogError extends Error {
  readonly kind: CatalogErrorKind
  readonly code: string
  readonly statusCode: number
  readonly details: Record<string, unknown>

  constructor (kind: CatalogErrorKind, message: string, details: Record<string, unknown> = {}) {
    super(`llama-orch catalog: ${message}`)
    this.name = 'CatalogError'
    this.kind = kind
    this.code = CATALOG_ERRORS[kind].code
    this.statusCode = CATALOG_ERRORS[kind].statusCode
    this.details = details
  }
}

export const isCatalogError = (err: unknown, kind?: CatalogErrorKind): err is CatalogError =>
  err instanceof CatalogError && (kind === undefined || err.kind === kind)
