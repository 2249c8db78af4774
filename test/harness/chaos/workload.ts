/**
 * The chaos client: submits tasks through the public API only and records an SSE transcript of
 * each, with the moment the cancel acknowledgment came back relative to the frames. Everything
 * the invariants judge comes from these transcripts (spec §6.1: outer harnesses use public APIs).
 */
import { randomUUID } from 'node:crypto'
import { Agent, request } from 'undici'

export interface TFrame {
  id?: number
  event: string
  json: Record<string, unknown> | null
  /** The read chunk it arrived in (0-based): frames of one server write share a chunk. */
  chunk: number
  /** It arrived after the cancel acknowledgment did. */
  afterAck: boolean
}

export interface Transcript {
  task_id: string
  /** How it was opened: POST with Accept: text/event-stream, or POST 202 then GET /stream. */
  via: 'post-sse' | 'post-get'
  /** The admission answer (200 opened stream, 202, or a refusal). */
  status: number
  /** A refusal's code and Retry-After (never accepted, counted apart). */
  refusal?: { code: string, retry_after: string | null }
  frames: TFrame[]
  /** Token index after which a cancel was sent, if one was. */
  cancel_at?: number
  /** Status of the cancel call (204), once it came back. */
  cancel_status?: number
  /** The cancel call failed in transport. */
  cancel_error?: string
  /** A transport error while reading (the client saw the connection fail). */
  read_error?: string
}

/** Deliberately broken client readers, for the harness's own test (chaos-broken.test.ts). */
export type ClientFault = 'drop-terminal' | 'dup-terminal' | 'token-after-ack' | null

export interface TaskSpec {
  model_ref: string
  prompt: string
  max_tokens: number
  via: Transcript['via']
  /** Cancel after receiving token number `cancelAt` (0-based). */
  cancelAt?: number
  deadline_ms?: number
  clientFault?: ClientFault
}

export const agent = new Agent({ connections: 512, keepAliveTimeout: 2000, pipelining: 0 })

const TERMINAL = new Set(['end', 'error'])

/** Frames out of a growing buffer: complete blocks parsed, the rest left for the next chunk. */
function takeFrames (buf: string, chunk: number, afterAck: boolean): { frames: TFrame[], rest: string } {
  const frames: TFrame[] = []
  let at = buf.indexOf('\n\n')
  while (at >= 0) {
    const block = buf.slice(0, at)
    buf = buf.slice(at + 2)
    at = buf.indexOf('\n\n')
    if (block.trim() === '' || block.startsWith(':')) continue
    const f: TFrame = { event: 'message', json: null, chunk, afterAck }
    for (const line of block.split('\n')) {
      const i = line.indexOf(':')
      const [k, v] = [line.slice(0, i), line.slice(i + 1).trimStart()]
      if (k === 'id') f.id = Number(v)
      else if (k === 'event') f.event = v
      else if (k === 'data') { try { f.json = JSON.parse(v) } catch { f.json = { unparsable: v } } }
    }
    frames.push(f)
  }
  return { frames, rest: buf }
}

/** Runs one task to the end of its stream (or its refusal) and returns the transcript. */
export async function runTask (base: string, spec: TaskSpec): Promise<Transcript> {
  const taskId = randomUUID()
  const body = JSON.stringify({
    task_id: taskId,
    model_ref: spec.model_ref,
    prompt: spec.prompt,
    max_tokens: spec.max_tokens,
    deadline_ms: spec.deadline_ms ?? 20_000,
  })
  const tr: Transcript = { task_id: taskId, via: spec.via, status: 0, frames: [] }
  const headers = { 'content-type': 'application/json', ...(spec.via === 'post-sse' ? { accept: 'text/event-stream' } : {}) }
  let res = await request(`${base}/v1/tasks`, { method: 'POST', headers, body, dispatcher: agent })
  tr.status = res.statusCode
  if (res.statusCode !== 200 && res.statusCode !== 202) {
    const text = await res.body.text()
    let code = 'UNKNOWN'
    try { code = String(JSON.parse(text).code) } catch {}
    const ra = res.headers['retry-after']
    tr.refusal = { code, retry_after: ra === undefined ? null : String(ra) }
    return tr
  }
  if (spec.via === 'post-get') {
    await res.body.dump()
    res = await request(`${base}/v1/tasks/${taskId}/stream`, { dispatcher: agent, headers: { accept: 'text/event-stream' } })
  }
  let acked = false
  let cancel: Promise<void> | undefined
  let tokens = 0
  let chunk = 0
  let buf = ''
  try {
    for await (const c of res.body) {
      const got = takeFrames(buf + String(c), chunk++, acked)
      buf = got.rest
      for (const f of got.frames) {
        tr.frames.push(f)
        if (f.event !== 'token') continue
        if (spec.cancelAt !== undefined && tokens === spec.cancelAt && !cancel) {
          tr.cancel_at = tokens
          cancel = request(`${base}/v1/tasks/${taskId}/cancel`, { method: 'POST', dispatcher: agent }).then(async (r) => {
            await r.body.dump()
            tr.cancel_status = r.statusCode
            acked = true
          }, (err) => { tr.cancel_error = String(err) })
        }
        tokens++
      }
    }
  } catch (err) {
    tr.read_error = String(err)
  }
  await cancel
  applyClientFault(tr, spec.clientFault ?? null)
  return tr
}

/** The lossy/duplicating reader knobs: they corrupt the observed side only. */
function applyClientFault (tr: Transcript, fault: ClientFault): void {
  if (fault === null) return
  const last = tr.frames.findLastIndex((f) => TERMINAL.has(f.event))
  if (fault === 'drop-terminal' && last >= 0) tr.frames.splice(last, 1)
  if (fault === 'dup-terminal' && last >= 0) tr.frames.push({ ...tr.frames[last]! })
  if (fault === 'token-after-ack' && tr.cancel_status !== undefined) {
    const chunk = (tr.frames.at(-1)?.chunk ?? 0) + 1
    tr.frames.splice(last >= 0 ? last : tr.frames.length, 0, { event: 'token', json: { t: 'x', i: 9999 }, chunk, afterAck: true })
  }
}
