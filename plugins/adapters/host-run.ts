import type { TaskRequest, TokenEvent, WorkerErrorData } from '../../sdk/index.js'
import { endedWithoutTerminal, workerError } from '../../sdk/worker-errors.js'
import type { Binding } from './binding.js'

export interface InFlight { poolId: string, binding: Binding, controller: AbortController, canceled: boolean }

/** What a HostRun asks of its host. */
export interface HostRunHooks {
  choose (): Promise<[string, Binding] | WorkerErrorData>
  /** No replica: narrate why. */
  refuse (err: WorkerErrorData): void
  /** Registers the task in flight (and the caller's signal); narrates `submit`. */
  begin (replicaId: string, binding: Binding): InFlight
  /** Unregisters the task; with a terminal event, counts it for the breaker and narrates it. */
  end (entry: InFlight, replicaId: string, last: TokenEvent | undefined): void
}

const DONE: IteratorResult<TokenEvent> = { value: undefined, done: true }

/**
 * One task streamed through the host: the adapter's events passed on with one `then` per
 * event (no async generator in between), the terminal event replaced when the task was
 * canceled, and exactly one terminal event whatever the adapter does.
 */
export class HostRun implements AsyncIterableIterator<TokenEvent> {
  private readonly hooks: HostRunHooks
  private readonly req: TaskRequest
  private readonly deadlineAt: number
  private readonly poolId: string
  private inner: AsyncIterator<TokenEvent> | undefined
  private entry: InFlight | undefined
  private replicaId = ''
  private tokens = 0
  private done = false

  constructor (hooks: HostRunHooks, poolId: string, req: TaskRequest, deadlineAt: number) {
    this.hooks = hooks
    this.poolId = poolId
    this.req = req
    this.deadlineAt = deadlineAt
  }

  [Symbol.asyncIterator] (): this { return this }

  next (): Promise<IteratorResult<TokenEvent>> {
    if (this.done) return Promise.resolve(DONE)
    if (!this.inner) return this.start()
    return this.inner.next().then(this.onResult, this.onThrow)
  }

  async return (): Promise<IteratorResult<TokenEvent>> {
    if (!this.done && this.entry) {
      this.done = true
      this.closeInner()
      this.hooks.end(this.entry, this.replicaId, undefined)
    }
    this.done = true
    return DONE
  }

  private async start (): Promise<IteratorResult<TokenEvent>> {
    const chosen = await this.hooks.choose()
    if (!Array.isArray(chosen)) {
      this.done = true
      this.hooks.refuse(chosen)
      return { value: { kind: 'error', data: chosen }, done: false }
    }
    const [replicaId, binding] = chosen
    this.replicaId = replicaId
    const entry = this.entry = this.hooks.begin(replicaId, binding)
    try {
      this.inner = binding.adapter.submit(this.req, {
        signal: entry.controller.signal,
        deadlineAt: this.deadlineAt,
        poolId: this.poolId,
        replicaId,
      })[Symbol.asyncIterator]()
    } catch (err) {
      return this.onThrow(err)
    }
    return this.next()
  }

  private readonly onResult = (r: IteratorResult<TokenEvent>): IteratorResult<TokenEvent> => {
    if (this.done) return DONE
    if (this.entry!.canceled) return this.finish(undefined)
    if (r.done) return this.finish({ kind: 'error', data: endedWithoutTerminal(this.entry!.binding.adapter.engine) })
    const e = r.value
    if (e.kind === 'token') this.tokens++
    else if (e.kind === 'end' || e.kind === 'error') return this.finish(e)
    return r
  }

  private readonly onThrow = (err: unknown): IteratorResult<TokenEvent> => {
    if (this.done) return DONE
    const engine = this.entry!.binding.adapter.engine
    return this.finish(this.entry!.canceled
      ? undefined
      : { kind: 'error', data: workerError('adapter_exception', engine, `adapter failure: ${(err as Error)?.message ?? String(err)}`) })
  }

  /** `last` undefined = canceled: the stream ends `end{canceled}` with the tokens passed on. */
  private finish (last: TokenEvent | undefined): IteratorResult<TokenEvent> {
    this.done = true
    this.closeInner()
    const event: TokenEvent = last ?? { kind: 'end', data: { tokens_out: this.tokens, decode_time_ms: 0, stop_reason: 'canceled' } }
    this.hooks.end(this.entry!, this.replicaId, last === undefined ? event : last)
    return { value: event, done: false }
  }

  private closeInner (): void {
    try { void this.inner?.return?.()?.catch(() => {}) } catch {}
  }
}
