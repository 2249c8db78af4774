import { createHash } from 'node:crypto'

/**
 * RFC 8785 (JCS) canonical JSON: object keys sorted by UTF-16 code units, no whitespace,
 * strings and numbers serialised as ECMAScript's JSON.stringify does (which is what JCS
 * prescribes). `undefined` members are left out, as JSON.stringify does; non-finite
 * numbers cannot be represented and throw.
 */
export function canonicalJson (value: unknown): string {
  // one string built by appending: traces of thousands of frames are hashed on every task end
  let out = ''
  const write = (v: unknown): void => {
    if (v === null || typeof v === 'boolean' || typeof v === 'string') { out += JSON.stringify(v); return }
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw new TypeError(`canonical JSON cannot represent ${v}`)
      out += JSON.stringify(v)
      return
    }
    if (Array.isArray(v)) {
      out += '['
      for (let i = 0; i < v.length; i++) {
        if (i > 0) out += ','
        if (v[i] === undefined) out += 'null'
        else write(v[i])
      }
      out += ']'
      return
    }
    if (typeof v === 'object') {
      const obj = v as Record<string, unknown>
      out += '{'
      let first = true
      for (const k of Object.keys(obj).sort()) {
        if (obj[k] === undefined) continue
        if (!first) out += ','
        first = false
        out += JSON.stringify(k) + ':'
        write(obj[k])
      }
      out += '}'
      return
    }
    throw new TypeError(`canonical JSON cannot represent a ${typeof v}`)
  }
  write(value)
  return out
}

/** Lowercase hex sha256 of the canonical JSON of `value`. */
export function canonicalSha256 (value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex')
}
