import { createHash } from 'node:crypto'

/**
 * RFC 8785 (JCS) canonical JSON: object keys sorted by UTF-16 code units, no whitespace,
 * strings and numbers serialised as ECMAScript's JSON.stringify does (which is what JCS
 * prescribes). `undefined` members are left out, as JSON.stringify does; non-finite
 * numbers cannot be represented and throw.
 */
export function canonicalJson (value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`canonical JSON cannot represent ${value}`)
    return JSON.stringify(value)
  }
  if (Array.isArray(value)) return `[${value.map((v) => v === undefined ? 'null' : canonicalJson(v)).join(',')}]`
  if (typeof value === 'object') {
    const obj = value as Record<string, unknown>
    const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort()
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`
  }
  throw new TypeError(`canonical JSON cannot represent a ${typeof value}`)
}

/** Lowercase hex sha256 of the canonical JSON of `value`. */
export function canonicalSha256 (value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex')
}
