import type { AdapterBinding, CallOpts, WorkerAdapter } from '../../sdk/index.js'
import type { HttpClient } from '../http-client/client.js'
import type { EngineProtocol, StreamTimeouts } from './protocol.js'
import { ORC_ERR_ADAPTER_CANCELED } from './errors.js'
import { StreamRun, type RunContext, type Running } from './stream-run.js'

/** After a 401/403 the adapter reports `ready: false` this long, whatever its probe says (spec §1.4). */
export const AUTH_HOLD_MS = 30_000

/**
 * An adapter over a streaming HTTP protocol (spec adapters §1.3): `started` once the engine
 * answers 2xx with an event stream, one `token` per non-empty delta with `i` counting from 0,
 * at most one terminal event, nothing after a cancel, and every failure mapped by the shared
 * table. Retries before the first response byte happen in the HttpClient, never here.
 */
export function createHttpAdapter (
  protocol: EngineProtocol,
  binding: AdapterBinding,
  client: HttpClient,
  timeouts: StreamTimeouts,
  now: () => number = Date.now
): WorkerAdapter {
  const running = new Map<string, Running>()
  let version: string | undefined
  let authFailedAt = -Infinity
  const engineVersion = async (o?: CallOpts): Promise<string> => {
    version ??= await protocol.engineVersion(o)
    return version
  }
  const ctx: RunContext = {
    protocol,
    binding,
    client,
    timeouts,
    now,
    engineVersion,
    running,
    onError: (e) => { if (e.kind === 'error' && (e.data.upstream_status === 401 || e.data.upstream_status === 403)) authFailedAt = now() },
  }
  const abort = (run: Running): void => { run.canceled = true; run.controller.abort(new ORC_ERR_ADAPTER_CANCELED()) }
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
