import { randomUUID } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { ERROR_KINDS, type ErrorKind } from '../../sdk/api.js'
import type { Sampling } from '../../sdk/sampling.js'
import type { Task } from '../dataplane/index.js'
import { OpenAiError } from './errors.js'
import { parseFrame } from './frames.js'
import { engineFor, queueFields } from './task.js'

/**
 * One OpenAI request as one task (openai-compat.md §2), for every endpoint: admitted on the
 * same path as `POST /v1/tasks` (a refusal throws in the native kinds the error handler maps),
 * then its frames answered in the endpoint's shape, as one JSON body or as SSE chunks ending
 * with `[DONE]`. A client that goes away cancels the task, so no token is generated for it.
 */
export type FinishReason = 'stop' | 'length'
export interface Usage { prompt_tokens: number, completion_tokens: number, total_tokens: number }

/** What differs between endpoints: ids, object names and where the text goes. */
export interface Shape {
  idPrefix: string
  /** The whole answer of a non-streamed request. */
  body (text: string, finish: FinishReason): Record<string, unknown>
  chunkObject: string
  /** The choice of the first chunk, before any token (chat announces the role), if any. */
  opening?: () => Record<string, unknown>
  delta (text: string): Record<string, unknown>
  closing (finish: FinishReason): Record<string, unknown>
}

/** The OpenAI fields of a request that become task fields; the rest comes from headers and the model. */
export interface TaskPart {
  model: string
  workload?: 'completion' | 'embedding'
  user?: string | undefined
  max_tokens: number
  seed?: number | null | undefined
  stop?: string[]
  sampling?: Sampling | undefined
}

export interface RunSink {
  token (text: string): void
  /** `end` is the task's end frame (an embedding's vectors are in it). */
  end (finish: FinishReason, usage: Usage, end: Record<string, unknown>): void
  error (e: OpenAiError): void
}

const finishOf = (task: Readonly<Task>): FinishReason =>
  task.stopReason === 'length' || (task.stopReason !== 'eos' && task.stopReason !== 'stop' && task.tokensOut >= task.req.max_tokens) ? 'length' : 'stop'

const usageOf = (task: Readonly<Task>): Usage =>
  ({ prompt_tokens: task.tokensIn ?? 0, completion_tokens: task.tokensOut, total_tokens: (task.tokensIn ?? 0) + task.tokensOut })

/** A task's `error` frame in OpenAI's terms, with the status its kind has on the native API. */
function frameError (data: Record<string, unknown>): OpenAiError {
  const code = String(data.code ?? 'INTERNAL') as ErrorKind
  return new OpenAiError(ERROR_KINDS[code]?.status ?? 500, String(data.message ?? 'the task failed'), { code: code.toLowerCase() })
}

/**
 * Admits the request's task and feeds its frames to `sink`; `admitted` runs once the task
 * exists (before any frame). A client that goes away cancels the task.
 */
export function admitAndFollow (
  app: FastifyInstance, req: FastifyRequest, reply: FastifyReply, part: TaskPart, input: Record<string, unknown>, sink: RunSink,
  admitted?: (task: Readonly<Task>) => void
): Readonly<Task> {
  const dp = app.dataplane
  const taskId = randomUUID()
  const q = queueFields(req.headers, part.user)
  dp.admit({
    task_id: taskId,
    session_id: q.session_id,
    workload: part.workload ?? 'completion',
    model_ref: part.model,
    engine: engineFor(app.pool.configs, part.model),
    ctx: 0,
    priority: q.priority,
    max_tokens: part.max_tokens,
    deadline_ms: q.deadline_ms,
    ...input,
    ...(typeof part.seed === 'number' ? { seed: part.seed } : {}),
    ...(part.stop !== undefined && part.stop.length > 0 ? { stop: part.stop } : {}),
    ...(part.sampling !== undefined ? { sampling: part.sampling } : {}),
  }, req.correlationId, req.apiClient)
  const task = dp.task(taskId)!
  admitted?.(task)
  let over = false
  const stop = dp.follow(task, (text) => {
    const f = parseFrame(text)
    if (f.event === 'token') {
      sink.token(String(f.data.t))
    } else if (f.event === 'end') {
      over = true
      sink.end(finishOf(task), usageOf(task), f.data)
    } else if (f.event === 'error') {
      over = true
      sink.error(frameError(f.data))
    }
  })
  // the response closes before the task ended only when the client went away (the request's own
  // 'close' fires as soon as its body is read, so it says nothing about the client)
  reply.raw.once('close', () => { if (!over) { stop(); dp.cancel(taskId) } })
  return task
}

export const now = (): number => Math.floor(Date.now() / 1000)

/** Takes the response over from Fastify and opens an SSE stream on it (after admission, before any token). */
export function openSse (req: FastifyRequest, reply: FastifyReply): void {
  reply.hijack()
  const headers = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-correlation-id': req.correlationId }
  reply.raw.writeHead(200, headers)
}

/** A task run to its end: its whole text, how it finished, its usage and its end frame. */
export interface Collected { task: Readonly<Task>, text: string, finish: FinishReason, usage: Usage, end: Record<string, unknown> }

/** Admits the request's task and resolves once it ends (rejects with its refusal or its error). */
export async function admitAndCollect (
  app: FastifyInstance, req: FastifyRequest, reply: FastifyReply, part: TaskPart, input: Record<string, unknown>
): Promise<Collected> {
  let text = ''
  let task!: Readonly<Task>
  const ended = new Promise<Omit<Collected, 'task' | 'text'>>((resolve, reject) => {
    task = admitAndFollow(app, req, reply, part, input, {
      token: (t) => { text += t },
      end: (finish, usage, end) => resolve({ finish, usage, end }),
      error: reject,
    })
  })
  const { finish, usage, end } = await ended
  return { task, text, finish, usage, end }
}

/** The request answered in one JSON body once its task ends. */
export async function answerJson (
  app: FastifyInstance, req: FastifyRequest, reply: FastifyReply, part: TaskPart, input: Record<string, unknown>, shape: Shape
): Promise<Record<string, unknown>> {
  const { task, text, finish, usage } = await admitAndCollect(app, req, reply, part, input)
  return { id: `${shape.idPrefix}-${task.id}`, created: now(), model: part.model, ...shape.body(text, finish), usage }
}

/** The request answered as OpenAI's SSE chunks, a usage chunk when asked, `[DONE]` last. */
export function answerStream (
  app: FastifyInstance, req: FastifyRequest, reply: FastifyReply, part: TaskPart, input: Record<string, unknown>, shape: Shape, includeUsage: boolean
): void {
  const res = reply.raw
  let id = ''
  const at = now()
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}): void => {
    const c = { id, object: shape.chunkObject, created: at, model: part.model, choices, ...(includeUsage ? { usage: null } : {}), ...extra }
    res.write(`data: ${JSON.stringify(c)}\n\n`)
  }
  // headers go out once the task is admitted (a refusal is still a JSON error) and before any token
  const open = (task: Readonly<Task>): void => {
    id = `${shape.idPrefix}-${task.id}`
    openSse(req, reply)
    if (shape.opening) chunk([shape.opening()])
  }
  admitAndFollow(app, req, reply, part, input, {
    token: (t) => chunk([shape.delta(t)]),
    end: (finish, usage) => {
      chunk([shape.closing(finish)])
      if (includeUsage) chunk([], { usage })
      res.end('data: [DONE]\n\n')
    },
    error: (e) => {
      chunk([], { error: e.body().error })
      res.end('data: [DONE]\n\n')
    },
  }, open)
}
