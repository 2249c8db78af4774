import type { ErrorHint } from '../../sdk/worker-errors.js'

export interface ErrorBody { message: string, hint: ErrorHint }

const str = (v: unknown): string | undefined => typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined

/**
 * Reads an engine's error object in every dialect: llama.cpp and OpenAI `{error:{message,
 * type, code}}`, older vLLM `{object:"error", message, type, code}`, TGI `{error, error_type}`,
 * Triton `{error}`. Anything else is quoted (cut short).
 */
export function describeError (value: unknown, fallback = ''): ErrorBody {
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>
    const e = o.error
    if (e !== null && typeof e === 'object') {
      const eo = e as Record<string, unknown>
      return { message: str(eo.message) ?? JSON.stringify(e).slice(0, 200), hint: { error_type: str(eo.type), code: str(eo.code) } }
    }
    if (typeof e === 'string') return { message: e, hint: { error_type: str(o.error_type), code: str(o.code) } }
    if (o.object === 'error') return { message: str(o.message) ?? 'error', hint: { error_type: str(o.type), code: str(o.code) } }
  }
  return { message: fallback.slice(0, 200), hint: {} }
}

/** describeError over a body's text (JSON or not). */
export function describeErrorText (text: string): ErrorBody {
  try {
    return describeError(JSON.parse(text), text)
  } catch {
    return { message: text.slice(0, 200), hint: {} }
  }
}
