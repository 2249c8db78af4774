import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import { Value } from 'typebox/value'
import type { TSchema } from 'typebox'
import type { AdapterBinding, WorkerAdapter } from '../../sdk/index.js'
import { HttpClient, type RetryInfo } from '../http-client/client.js'
import { createHttpAdapter } from './http-adapter.js'
import { ORC_ERR_ADAPTER_OPTIONS } from './errors.js'
import type { EngineProtocol, StreamTimeouts } from './protocol.js'
import type { HttpOptions } from './options.js'

export interface KitContext { client: HttpClient, http: HttpOptions }

/** Stream timeouts of a pool: its `timeouts` block wins over the adapter's options. */
export function timeoutsFor (http: HttpOptions, pool: AdapterBinding['pool']): StreamTimeouts {
  return { firstTokenMs: http.first_token_timeout_ms, idleMs: pool.timeouts?.idle_ms ?? http.idle_timeout_ms, wallMs: pool.timeouts?.wall_ms ?? null }
}

/** The HttpClient an adapter's `http` options describe. */
export function clientFor (h: HttpOptions, onRetry?: (info: RetryInfo) => void): HttpClient {
  return new HttpClient({
    connections: h.connections,
    requestTimeoutMs: h.request_timeout_ms,
    backoff: { attempts: h.attempts, baseMs: h.backoff_base_ms, capMs: h.backoff_cap_ms },
    ...(h.connect_timeout_ms !== undefined ? { connectTimeoutMs: h.connect_timeout_ms } : {}),
    ...(h.allow_h2 !== undefined ? { allowH2: h.allow_h2 } : {}),
    ...(onRetry ? { onRetry } : {}),
  })
}

/**
 * An adapter outside an app (tests, the conformance suite, benchmarks): options are
 * validated and defaulted like a manifest entry's; close the returned client when done.
 */
export function standaloneAdapter<O extends { http: HttpOptions }> (
  schema: TSchema,
  protocol: (binding: AdapterBinding, options: O, kit: KitContext) => EngineProtocol,
  binding: AdapterBinding,
  raw: Record<string, unknown> = {},
  o: { onRetry?: (info: RetryInfo) => void } = {}
): { adapter: WorkerAdapter, client: HttpClient } {
  const options = Value.Default(schema, Value.Clone(raw)) as O
  if (!Value.Check(schema, options)) {
    throw new ORC_ERR_ADAPTER_OPTIONS([...Value.Errors(schema, options)].map((e) => `${e.instancePath} ${e.message}`).join('; '))
  }
  const client = clientFor(options.http, o.onRetry)
  return {
    adapter: createHttpAdapter(protocol(binding, options, { client, http: options.http }), binding, client, timeoutsFor(options.http, binding.pool)),
    client,
  }
}

/** One retry, narrated by the adapter host's voice (spec §1.5: action=retry, backoff_ms, attempt). */
export function narrateRetry (app: FastifyInstance, engine: string, info: RetryInfo): void {
  app.narration.narrate({
    actor: 'adapter-host',
    action: 'retry',
    target: engine,
    ...info.context,
    attempt: info.attempt,
    backoff_ms: info.backoff_ms,
    reason: info.reason,
    ...(info.upstream_status !== undefined ? { upstream_status: info.upstream_status } : {}),
  }, `retries ${info.method} to ${engine} in ${info.backoff_ms} ms (try ${info.attempt}, ${info.reason})`, 'warn')
}

/**
 * The body of a built-in HTTP adapter plugin: one HttpClient for the engine (closed with the
 * app), retries narrated, and a factory that wraps the engine's protocol in the shared kit.
 */
export function httpAdapterPlugin<O extends { http: HttpOptions }> (
  engine: string,
  protocol: (binding: AdapterBinding, options: O, kit: KitContext) => EngineProtocol
): FastifyPluginAsync<O> {
  return async (app, options) => {
    const h = options.http
    const client = clientFor(h, (info) => narrateRetry(app, engine, info))
    app.adapters.add({
      engine,
      create: (binding) => createHttpAdapter(protocol(binding, options, { client, http: h }), binding, client, timeoutsFor(h, binding.pool)),
    })
    app.addHook('onClose', async () => { await client.close() })
  }
}
