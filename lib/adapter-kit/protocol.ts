/**
 * The engine-specific half of an HTTP adapter (spec adapters §1.3): what a protocol file
 * (`extensions/adapter-vllm/vllm.ts`, …) implements for the shared kit to stream.
 */
import type { CallOpts, CapabilitySnapshot, EndData, EngineMetricsSnapshot, TaskRequest, WorkerHealth, WorkerProps } from '../../sdk/index.js'
import type { Determinism } from '../../sdk/determinism.js'
import type { UpstreamCondition } from '../../sdk/worker-errors.js'

export interface StopInfo {
  stop_reason: EndData['stop_reason']
  tokens_out?: number | undefined
  tokens_in?: number | undefined
  embeddings?: number[][] | undefined
}

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

/**
 * A request answered in one JSON body rather than a stream (an embedding, issue 11): the kit
 * POSTs `body` to `path` and hands the parsed answer to `result`, which ends the task.
 */
export interface OneShotRequest {
  path: string
  body: unknown
  result (answer: unknown, sink: FrameSink): void
}

export interface StreamTimeouts { firstTokenMs: number, idleMs: number, wallMs?: number | null | undefined }

/** The engine-specific half of an HTTP adapter; the kit supplies submit, cancel and close. */
export interface EngineProtocol {
  engine: string
  baseUrl: string
  /** Sent on every call (credentials); never logged. */
  headers?: Record<string, string>
  /** May ask the engine first (a chat's template), hence the promise; its UpstreamErrors are the task's. */
  open (req: TaskRequest, d: Determinism): GenerationStream | OneShotRequest | Promise<GenerationStream | OneShotRequest>
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
