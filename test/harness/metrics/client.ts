/**
 * The harness's HTTP client: the workload talks to the app over real HTTP only (spec §6.1:
 * outer harnesses use public APIs, never internal state).
 */
import { Agent, request } from 'undici'

export interface Reply { status: number, body: string, json: any }

export class Client {
  readonly base: string
  readonly #agent = new Agent({ keepAliveTimeout: 500, connections: 64 })

  constructor (base: string) { this.base = base }

  async call (method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
    const res = await request(this.base + path, {
      method,
      dispatcher: this.#agent,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    })
    const text = await res.body.text()
    let json: any = null
    try { json = text ? JSON.parse(text) : null } catch {}
    return { status: res.statusCode, body: text, json }
  }

  /**
   * POSTs and reads an SSE answer to its end; `onChunk` sees the text so far (to act mid-stream).
   * A non-200 answer is returned whole, its body as text.
   */
  async sse (path: string, body: unknown, onChunk?: (raw: string) => void | Promise<void>): Promise<Reply> {
    const res = await request(this.base + path, {
      method: 'POST',
      dispatcher: this.#agent,
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify(body),
    })
    let raw = ''
    const decoder = new TextDecoder()
    for await (const chunk of res.body) {
      raw += decoder.decode(chunk as Uint8Array, { stream: true })
      await onChunk?.(raw)
    }
    let json: any = null
    try { json = JSON.parse(raw) } catch {}
    return { status: res.statusCode, body: raw, json }
  }

  async close (): Promise<void> { await this.#agent.close() }
}

/** The `event:` names of an SSE transcript, in order (comments and `metrics` frames left out). */
export function sseEvents (raw: string): string[] {
  return [...raw.matchAll(/^event: (\S+)$/gm)].map((m) => m[1]!).filter((e) => e !== 'metrics')
}
