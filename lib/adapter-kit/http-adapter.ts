import type {
  AdapterBinding, CallOpts, CapabilitySnapshot, EndData, EngineMetricsSnapshot, TaskRequest, WorkerAdapter, WorkerHealth, WorkerProps,
} from '../../sdk/index.js'
import type { Determinism } from '../../sdk/determinism.js'
import type { UpstreamCondition } from '../../sdk/worker-errors.js'
import type { HttpClient } from '../http-client/client.js'
import { StreamRun, type RunContext, type Running } from './stream-run.js'

export interface StopInfo { stop_reason: EndData['stop_reason'], tokens_out?: number | undefined, tokens_in?: number | undefined }

/** What a protocol's frame handler reports; the kit turns it into events. */
export interface FrameSink {
  /** One upstream delta; empty text is dropped. */
  token (text: string): void
  metrics (data: Record<string, number | boolean | string>): void
  /** The terminal frame. */
  end (info: StopInfo): void
  fail (condition: UpstreamCondition, message: string, upstreamStatus?: number): void
}

/** One generation request in an engine's protocol, with its per-stream decoding state. */
export interface GenerationStream {
  path: string
  body: unknown
  /** One SSE event. */
  frame (data: string, event: string, sink: FrameSink): void
  /** The body ended without a terminal frame (default: WORKER_RESET). */
  eof? (sink: FrameSink): void
}

export interface StreamTimeouts { firstTokenMs: number, idleMs: number, wallMs?: number | null | undefined }

/** The engine-specific half of an HTTP adapter; the kit supplies submit, cancel and close. */
export interface EngineProtocol {
  engine: string
  baseUrl: string
  /** Sent on every call (credentials); never logged. */
  headers?: Record<string, string>
  open (req: TaskRequest, d: Determinism): GenerationStream
  health (o?: CallOpts): Promise<WorkerHealth>
  props (o?: CallOpts): Promise<WorkerProps>
  /** Uncached; the kit caches the first success. */
  engineVersion (o?: CallOpts): Promise<string>
  capabilities? (o?: CallOpts): Promise<CapabilitySnapshot>
  scrapeMetrics? (o?: CallOpts): Promise<EngineMetricsSnapshot>
  close? (): Promise<void>
  /** Engine-specific extras put on the adapter object (e.g. llama.cpp `tokenize`). */
  extras?: Record<string, unknown>
}

/** After a 401/403 the adapter reports `ready: false` this long, whatever its probe says (spec §1.4). */
export const AUTH_HOLD_MS = 30_000

/**
 * An adapter over a streaming HTTP protocol (spec adapters §1.3): `started` once the engine
 * answers 2xx with an event stream, one `token` per non-empty delta with `i` counting from 0,
 * at most one terminal event, nothing after a cancel, and every failure mapped by the shared
 * table. Retries before the first response byte happen in the HttpClient, never here.
 */
export function createHttpAdapter (protocol: EngineProtocol, binding: AdapterBinding, client: HttpClient, timeouts: StreamTimeouts, now: () => number = Date.now): WorkerAdapter {
  const running = new Map<string, Running>()
  let version: string | undefined
  let authFailedAt = -Infinity
  const engineVersion = async (o?: CallOpts): Promise<string> => {
    version ??= await protocol.engineVersion(o)
    return version
  }
  const ctx: RunContext = {
    protocol, binding, client, timeouts, now, engineVersion, running,
    onError: (e) => { if (e.kind === 'error' && (e.data.upstream_status === 401 || e.data.upstream_status === 403)) authFailedAt = now() },
  }
  const abort = (run: Running): void => { run.canceled = true; run.controller.abort(new Error('canceled')) }
  const adapter: WorkerAdapter = {
    engine: protocol.engine,
    async health (o) {
      const h = await protocol.health(o)
      return now() - authFailedAt < AUTH_HOLD_MS ? { live: h.live, ready: false } : h
    },
    props: (o) => protocol.props(o),
    engineVersion,
    submit: (req, o) => new StreamRun(ctx, req, o),
    async cancel (taskId) {
      const run = running.get(taskId)
      if (run && !run.canceled) abort(run)
    },
    async close () {
      for (const run of running.values()) abort(run)
      await protocol.close?.()
    },
  }
  if (protocol.capabilities) adapter.capabilities = (o) => protocol.capabilities!(o)
  if (protocol.scrapeMetrics) adapter.scrapeMetrics = (o) => protocol.scrapeMetrics!(o)
  return Object.assign(adapter, protocol.extras)
}
