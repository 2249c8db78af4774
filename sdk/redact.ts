/**
 * Secret scrubbing shared by every log line, narration, error message and proof bundle
 * (ORCH-3302, ORCH-3613, decision 11). Two layers: fields whose *name* says they hold a
 * secret are replaced whole; every string is also scanned for secret-shaped text.
 */
export const REDACTED = '[REDACTED]'

const SECRET_KEY = /(^|[_.-])(api[_-]?key|apikey|token|secret|password|passwd|authorization|cookie|credentials?)$/i

const STRING_RULES: Array<[RegExp, string]> = [
  // `Authorization: Bearer abc`, `bearer abc`
  [/\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+/gi, `$1 ${REDACTED}`],
  // header-ish text: `x-api-key: abc`, `authorization=abc`
  [/\b(x-api-key|api[_-]?key|authorization|proxy-authorization)(["']?\s*[:=]\s*["']?)(?!Bearer\b|Basic\b|\[REDACTED)[^\s"',;&]+/gi, `$1$2${REDACTED}`],
  // OpenAI-style and Hugging Face tokens
  [/\bsk-[A-Za-z0-9_-]{6,}/g, `sk-${REDACTED}`],
  [/\bhf_[A-Za-z0-9]{10,}/g, `hf_${REDACTED}`],
  // credentials in URLs: scheme://user:pass@host
  [/\b([a-z][a-z0-9+.-]*:\/\/)[^/\s@]+@/gi, `$1${REDACTED}@`],
  // secrets in query strings
  [/([?&](?:api[_-]?key|apikey|key|token|access_token|auth|password|secret|signature|sig)=)[^&\s#"']+/gi, `$1${REDACTED}`],
]

export function isSecretKey (key: string): boolean {
  return SECRET_KEY.test(key)
}

// Every rule needs one of these words; most log strings have none, so one test skips six.
const MAYBE_SECRET = /bearer|basic|key|authorization|sk-|hf_|@|token|auth|password|secret|sig/i

export function redactString (text: string): string {
  if (!MAYBE_SECRET.test(text)) return text
  let out = text
  for (const [pattern, replacement] of STRING_RULES) out = out.replace(pattern, replacement)
  return out
}

/**
 * Returns a scrubbed copy of plain objects, arrays and errors. Class instances other
 * than errors (a Fastify request, a socket) are returned untouched: their own log
 * serializers decide what of them is written, and those serializers scrub too.
 */
export function redactValue (value: unknown, depth = 0, ancestors = new Set<object>()): unknown {
  if (typeof value === 'string') return redactString(value)
  if (value === null || typeof value !== 'object') return value
  if (ancestors.has(value) || depth > 8) return '[Circular or too deep]'
  if (!(value instanceof Error) && !Array.isArray(value)) {
    const proto = Object.getPrototypeOf(value)
    if (proto !== Object.prototype && proto !== null) return value
  }
  ancestors.add(value)
  try {
    const inner = (v: unknown): unknown => redactValue(v, depth + 1, ancestors)
    if (Array.isArray(value)) return value.map(inner)
    const copy: Record<string, unknown> = {}
    if (value instanceof Error) {
      copy.type = value.name
      copy.message = redactString(value.message)
      if (value.stack) copy.stack = redactString(value.stack)
      // `new Error(m, { cause })` makes a non-enumerable cause that entries() would miss
      if (value.cause !== undefined) copy.cause = inner(value.cause)
    }
    for (const [k, v] of Object.entries(value)) copy[k] = isSecretKey(k) && v !== null && v !== undefined ? REDACTED : inner(v)
    return copy
  } finally {
    // only the current path counts: an object referenced twice is not a cycle
    ancestors.delete(value)
  }
}
