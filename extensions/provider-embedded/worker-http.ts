/**
 * The llama-server HTTP API subset the embedded worker serves (decision 2; shapes and quirks
 * from spec embedded-engine.md §5): GET /health, /props, /slots, /metrics; POST /completion
 * (JSON and SSE), /tokenize, /apply-template and /v1/embeddings. Plain node:http: a handful of routes needs no framework, and
 * the worker starts faster without one.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Token } from 'node-llama-cpp'
import type { CompletionParams, WorkerEngine } from './worker-engine.js'
import { completionBody, prometheusText, propsBody, slotsBody } from './worker-shapes.js'
import { ORC_ERR_EMBEDDED_CLIENT_GONE } from './errors.js'
import { chatMessages } from './chat-template.js'

export interface HttpOptions { alias: string, metrics: boolean }

type Reply = ServerResponse<IncomingMessage>

function send (res: Reply, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) })
  res.end(text)
}

const ERROR_TYPES: Record<number, string> = { 400: 'invalid_request_error', 404: 'not_found_error', 501: 'not_supported_error', 503: 'unavailable_error' }

export function sendError (res: Reply, code: number, message: string): void {
  send(res, code, { error: { code, message, type: ERROR_TYPES[code] ?? 'server_error' } })
}

async function readJson (req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = []
  for await (const c of req) chunks.push(c as Buffer)
  const text = Buffer.concat(chunks).toString('utf8')
  if (text.trim() === '') return {}
  const body = JSON.parse(text) as unknown
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new TypeError('the request body must be a JSON object')
  return body as Record<string, unknown>
}

const num = (v: unknown, fallback: number): number => typeof v === 'number' && Number.isFinite(v) ? v : fallback

/** llama-server's request fields → engine parameters; throws a TypeError on bad input. */
export function completionParams (engine: WorkerEngine, b: Record<string, unknown>): CompletionParams {
  let prompt: Token[]
  if (typeof b.prompt === 'string') prompt = engine.tokenize(b.prompt, true)
  else if (Array.isArray(b.prompt) && b.prompt.every((x) => Number.isInteger(x))) prompt = b.prompt as Token[]
  else throw new TypeError('"prompt" must be a string or an array of token ids')
  if (prompt.length === 0) throw new TypeError('"prompt" is empty')
  if (prompt.length >= engine.nCtx) throw new TypeError(`the prompt has ${prompt.length} tokens, more than the context of ${engine.nCtx}`)
  const nPredict = num(b.n_predict, -1)
  const seed = num(b.seed, -1)
  const stop = Array.isArray(b.stop) ? b.stop.filter((s): s is string => typeof s === 'string' && s.length > 0) : []
  if (typeof b.grammar === 'string' && b.grammar !== '') throw new TypeError('"grammar" (GBNF) is not served by the embedded worker; send "json_schema"')
  const schema = b.json_schema
  if (schema !== undefined && schema !== null && (typeof schema !== 'object' || Array.isArray(schema))) throw new TypeError('"json_schema" must be an object')
  return {
    prompt,
    nPredict: nPredict >= 0 ? nPredict : undefined,
    temperature: num(b.temperature, 0.8),
    seed: seed >= 0 && seed !== 4294967295 ? seed : undefined,
    topK: num(b.top_k, 40),
    topP: num(b.top_p, 0.95),
    minP: num(b.min_p, 0.05),
    stop,
    cachePrompt: b.cache_prompt !== false,
    penalties: {
      repeat: num(b.repeat_penalty, 1),
      presence: num(b.presence_penalty, 0),
      frequency: num(b.frequency_penalty, 0),
      lastN: num(b.repeat_last_n, 64),
    },
    logitBias: logitBias(engine, b.logit_bias),
    jsonSchema: schema === null ? undefined : schema as object | undefined,
  }
}

/**
 * llama-server's `logit_bias`: `[[token, bias], …]` (a token as an id, or as text: every token
 * of it) or `{"token": bias}` (a key of digits is an id, any other key text), a bias of `false`
 * banning it.
 */
function logitBias (engine: WorkerEngine, v: unknown): Map<Token, number> {
  const out = new Map<Token, number>()
  if (v === undefined || v === null) return out
  if (typeof v !== 'object') throw new TypeError('"logit_bias" must be an array of [token, bias] pairs or an object')
  const pairs: unknown[] = Array.isArray(v) ? v : Object.entries(v)
  for (const pair of pairs) {
    if (!Array.isArray(pair) || pair.length !== 2) throw new TypeError('"logit_bias" entries must be [token, bias] pairs')
    const [key, bias] = pair
    const value = bias === false ? -Infinity : typeof bias === 'number' && Number.isFinite(bias) ? bias : undefined
    if (value === undefined) throw new TypeError('a "logit_bias" bias must be a number or false')
    const id = typeof key === 'number' ? key : typeof key === 'string' && !Array.isArray(v) && /^\d+$/.test(key) ? Number(key) : undefined
    const tokens = id !== undefined ? [id as Token] : typeof key === 'string' ? engine.tokenize(key, false) : []
    for (const t of tokens) out.set(t, value)
  }
  return out
}

async function completion (engine: WorkerEngine, alias: string, req: IncomingMessage, res: Reply): Promise<void> {
  const body = await readJson(req)
  const params = completionParams(engine, body)
  // a schema the engine cannot express is a 400 before any slot is taken or byte streamed
  if (params.jsonSchema !== undefined) await engine.grammarFor(params.jsonSchema)
  const stream = body.stream === true
  const ac = new AbortController()
  // a client that goes away (mid-stream, or while waiting for a slot) aborts its generation
  res.on('close', () => { if (!res.writableEnded) ac.abort(new ORC_ERR_EMBEDDED_CLIENT_GONE()) })
  let slot
  try {
    slot = await engine.acquire(ac.signal)
  } catch {
    return // aborted while queued: nobody to answer
  }
  const settings = {
    n_predict: params.nPredict ?? -1,
    seed: params.seed ?? 4294967295,
    temperature: params.temperature,
    top_k: params.topK,
    top_p: params.topP,
    min_p: params.minP,
    stop: params.stop,
    repeat_penalty: params.penalties.repeat,
    repeat_last_n: params.penalties.lastN,
    presence_penalty: params.penalties.presence,
    frequency_penalty: params.penalties.frequency,
    n_ctx: engine.nCtx,
  }
  slot.params = settings
  if (stream) res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' })
  let n = 0
  const write = (data: unknown): void => { if (!res.writableEnded && !res.destroyed) res.write(`data: ${JSON.stringify(data)}\n\n`) }
  try {
    const result = await engine.complete(slot, params, ac.signal, (tokens, content) => {
      n += tokens.length
      if (stream) write({ index: 0, content, tokens, stop: false, id_slot: -1, tokens_predicted: n, tokens_evaluated: params.prompt.length })
    })
    const final = completionBody(result, {
      alias,
      params,
      settings,
      stream,
      returnTokens: body.return_tokens === true,
      prompt: typeof body.prompt === 'string' ? body.prompt : '',
    })
    if (stream) { write(final); res.end() } else if (!res.destroyed) send(res, 200, final)
  } catch (err) {
    const message = (err as Error).message
    if (stream) { write({ error: { code: 500, message, type: 'server_error' } }); res.end() } else if (!res.destroyed) sendError(res, 500, message)
  } finally {
    engine.release(slot)
  }
}

async function tokenize (engine: WorkerEngine, req: IncomingMessage, res: Reply): Promise<void> {
  const b = await readJson(req)
  if (typeof b.content !== 'string') throw new TypeError('"content" must be a string')
  const tokens = engine.tokenize(b.content, b.add_special === true)
  send(res, 200, { tokens: b.with_pieces === true ? tokens.map((id) => ({ id, piece: engine.detokenize([id]) })) : tokens })
}

/**
 * `POST /v1/embeddings` as llama-server answers it (started with `--embeddings`): `input` a
 * string or strings, OpenAI's list of `embedding` objects, usage in prompt tokens.
 */
async function embeddings (engine: WorkerEngine, alias: string, req: IncomingMessage, res: Reply): Promise<void> {
  const b = await readJson(req)
  const input = typeof b.input === 'string' ? [b.input] : b.input
  if (!Array.isArray(input) || input.length === 0 || !input.every((x) => typeof x === 'string' && x !== '')) {
    throw new TypeError('"input" must be a non-empty string or a non-empty array of non-empty strings')
  }
  if (b.encoding_format !== undefined && b.encoding_format !== 'float') throw new TypeError('"encoding_format" must be "float"')
  const { vectors, tokens } = await engine.embed(input as string[])
  send(res, 200, {
    model: alias,
    object: 'list',
    usage: { prompt_tokens: tokens, total_tokens: tokens },
    data: vectors.map((embedding, index) => ({ embedding, index, object: 'embedding' })),
  })
}

/** `POST /apply-template` as llama-server answers it: `{messages}` → `{prompt}` by the model's own template. */
async function applyTemplate (engine: WorkerEngine, req: IncomingMessage, res: Reply): Promise<void> {
  const b = await readJson(req)
  send(res, 200, { prompt: engine.applyTemplate(chatMessages(b.messages)) })
}

/** `POST /slots/{id}?action=erase` as llama-server answers it; save/restore are not offered. */
async function slotErase (engine: WorkerEngine, id: number, req: IncomingMessage, res: ServerResponse): Promise<void> {
  req.resume()
  const action = new URL(req.url ?? '/', 'http://worker').searchParams.get('action')
  const slot = engine.slots[id]
  if (slot === undefined) return sendError(res, 400, 'Invalid slot ID')
  if (action !== 'erase') {
    return sendError(res, 400, action === 'save' || action === 'restore' ? 'This server does not support slot save and restore.' : 'Invalid action')
  }
  send(res, 200, { id_slot: id, n_erased: await engine.erase(slot) })
}

export function createWorkerServer (engine: WorkerEngine, opts: HttpOptions): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    const route = `${req.method} ${path}`
    if (!engine.ready) {
      req.resume()
      sendError(res, 503, 'Loading model')
      return
    }
    const handle = async (): Promise<void> => {
      const slotAction = /^POST \/slots\/(\d+)$/.exec(route)
      if (slotAction) return slotErase(engine, Number(slotAction[1]), req, res)
      switch (route) {
        case 'GET /health': return send(res, 200, { status: 'ok' })
        case 'GET /props': return send(res, 200, propsBody(engine, opts.alias))
        case 'GET /slots': return send(res, 200, slotsBody(engine))
        case 'GET /metrics':
          if (!opts.metrics) return sendError(res, 501, 'This server does not support metrics endpoint. Start it with `--metrics`')
          res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' })
          res.end(prometheusText(engine))
          return
        case 'POST /completion': case 'POST /completions': return completion(engine, opts.alias, req, res)
        case 'POST /tokenize': return tokenize(engine, req, res)
        case 'POST /apply-template': return applyTemplate(engine, req, res)
        case 'POST /v1/embeddings': case 'POST /embeddings': return embeddings(engine, opts.alias, req, res)
        default:
          req.resume()
          return sendError(res, 404, 'File Not Found')
      }
    }
    handle().catch((err: Error) => {
      if (res.headersSent) { res.end(); return }
      sendError(res, err instanceof SyntaxError || err instanceof TypeError ? 400 : 500, err.message)
    })
  })
}

export type { Token }
