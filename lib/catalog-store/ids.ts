import { CatalogError } from './errors.js'

/** Longest catalog id accepted: ids become file names and metric label values. */
export const MAX_ID_LENGTH = 512

/**
 * Names an id may not take (issue 10 #3): every property of `Object.prototype` and
 * `prototype`. The store keeps entries in Maps, so these could not corrupt it; refusing them
 * keeps any plain-object consumer of the catalog (a client, a dashboard) safe as well.
 */
export const RESERVED_IDS: ReadonlySet<string> = new Set([...Object.getOwnPropertyNames(Object.prototype), 'prototype'])

// C0 and C1 control characters, DEL, and the Unicode line/paragraph separators
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/

/** What is wrong with `id` as a catalog id, or null when it is fine. */
export function idProblem (id: unknown): string | null {
  if (typeof id !== 'string' || id.trim() === '') return 'must be a non-empty string'
  if (id.length > MAX_ID_LENGTH) return `must be at most ${MAX_ID_LENGTH} characters, got ${id.length}`
  if (id !== id.trim()) return 'must not start or end with whitespace'
  if (CONTROL.test(id)) return 'must not contain control characters (NUL, newline, tab, …)'
  if (id.includes('\\')) return 'must not contain a backslash; use "/" to separate path segments'
  if (id.split('/').some((s) => s === '..' || s.endsWith(':..'))) return 'must not contain a ".." segment'
  if (RESERVED_IDS.has(id)) return `must not be the reserved name ${JSON.stringify(id)}`
  return null
}

/** Throws InvalidEntry (400) naming `field` unless `id` is a valid catalog id; returns it. */
export function assertModelId (id: unknown, field = 'id'): string {
  const problem = idProblem(id)
  if (problem !== null) {
    throw new CatalogError('InvalidEntry',
      `${field} ${problem}; expected a model ref or name of printable characters, e.g. hf:org/repo/file.gguf or tiny`,
      { field })
  }
  return id as string
}

/** Digest algorithms the catalog accepts, with the exact hex length of each (OCI image-spec). */
export const DIGEST_HEX_LENGTHS = { sha256: 64, sha512: 128 } as const

/**
 * The normalised form (`sha256:<64 lowercase hex>`) of a digest, or InvalidEntry (400)
 * naming `field`. Hex may be given in either case; it is stored in lowercase.
 */
export function normaliseDigest (text: unknown, field = 'digest'): string {
  const m = typeof text === 'string' ? /^([a-z0-9]+):([0-9a-f]+)$/.exec(text.toLowerCase()) : null
  const want = m !== null && Object.hasOwn(DIGEST_HEX_LENGTHS, m[1]!) ? (DIGEST_HEX_LENGTHS as Record<string, number>)[m[1]!] : undefined
  if (m === null || want === undefined || m[2]!.length !== want) {
    const shown = typeof text === 'string' ? JSON.stringify(text.slice(0, 80)) : typeof text
    throw new CatalogError('InvalidEntry',
      `${field} must be sha256:<64 hex digits> (or sha512:<128 hex digits>), got ${shown}`, { field })
  }
  return `${m[1]}:${m[2]}`
}
