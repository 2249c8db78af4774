import { KindedError } from '../errors.js'

/** Typed catalog failures (spec pools-provisioning-catalog.md §4.3); `kind` is the spec's name. */
export const CATALOG_ERRORS = {
  NotFound: { code: 'ORC_ERR_CATALOG_NOT_FOUND', statusCode: 404 },
  SchemaVersionMismatch: { code: 'ORC_ERR_CATALOG_SCHEMA_VERSION', statusCode: 500 },
  PathTraversal: { code: 'ORC_ERR_CATALOG_PATH_TRAVERSAL', statusCode: 400 },
  Busy: { code: 'ORC_ERR_CATALOG_BUSY', statusCode: 503 },
  Serde: { code: 'ORC_ERR_CATALOG_SERDE', statusCode: 500 },
  InvalidEntry: { code: 'ORC_ERR_CATALOG_INVALID_ENTRY', statusCode: 400 },
  /** The same id with another digest (D14): delete it first or use another id. */
  Conflict: { code: 'ORC_ERR_CATALOG_CONFLICT', statusCode: 409 },
  /** A strict trust policy the model breaks (§3.3): nothing is written. */
  Untrusted: { code: 'ORC_ERR_CATALOG_UNTRUSTED', statusCode: 400 },
} as const

export type CatalogErrorKind = keyof typeof CATALOG_ERRORS

export class CatalogError extends KindedError<CatalogErrorKind> {
  constructor (kind: CatalogErrorKind, message: string, details: Record<string, unknown> = {}) {
    super(CATALOG_ERRORS, kind, `llama-orch catalog: ${message}`, details)
    this.name = 'CatalogError'
  }
}

export const isCatalogError = (err: unknown, kind?: CatalogErrorKind): err is CatalogError =>
  err instanceof CatalogError && (kind === undefined || err.kind === kind)

/** Model refs that cannot be parsed (spec pools-provisioning-catalog.md §3.2): a 400 to the caller. */
export const REF_ERRORS = {
  InvalidRef: { code: 'ORC_ERR_MODEL_INVALID_REF', statusCode: 400 },
  UnsupportedScheme: { code: 'ORC_ERR_MODEL_UNSUPPORTED_SCHEME', statusCode: 400 },
} as const

export type RefErrorKind = keyof typeof REF_ERRORS

export class RefError extends KindedError<RefErrorKind> {
  constructor (kind: RefErrorKind, message: string) {
    super(REF_ERRORS, kind, `llama-orch model ref: ${message}`, {})
    this.name = 'RefError'
  }
}
