// orc-adapter-kit-echo: a third-party llama-orch adapter for an HTTP engine, built on
// `llama-orch/adapter-kit`, plain ESM, no build. The kit does what every HTTP adapter must get
// right (spec adapters §1): started → token* → end | error, cancel, first-token/idle/deadline
// timeouts, retries only before the first response byte, and the shared error table. This file
// only says how to speak the engine: the request body, one handler per SSE frame, and the
// control calls. Compare examples/adapter-echo, which implements the whole contract by hand.
//
// The engine (`kit-echo`) speaks a small llama-server-like dialect:
//   POST /completion  {prompt, n_predict, seed, temperature, stream: true} → text/event-stream of
//                     data: {"content":"…","stop":false} … then one final frame with "stop":true,
//                     "stop_type" (eos | limit | word), "tokens_predicted", "tokens_evaluated";
//                     a failure mid-stream is `event: error` or a frame with an "error" object
//   GET  /health      2xx when ready (503 while loading)
//   GET  /props       {"version", "total_slots", "idle_slots", "n_ctx"}
import fp from 'fastify-plugin'
import { Type } from 'typebox'
import { EXTENSION_API, Strict } from 'llama-orch/sdk'
import {
  HttpOptions, ORC_ERR_ADAPTER_NO_ENGINE_VERSION, SecretOptions, callOpts, describeError, frameJson,
  httpAdapterPlugin, num, probe, resolveSecret, text, trimSlash,
} from 'llama-orch/adapter-kit'

export const ENGINE = 'kit-echo'

// Strict (additionalProperties: false) so a typo in the manifest fails `config check`
// instead of being ignored; `http` is the kit's client block every built-in adapter takes.
export const KitEchoOptions = Strict({
  http: HttpOptions,
  ...SecretOptions,
  slots: Type.Optional(Type.Integer({ minimum: 1, description: 'slots_total to report when /props has no total_slots' })),
})

/** @type {import('llama-orch/sdk').ExtensionDescriptor} */
export const extension = {
  kind: 'adapter',
  apiVersion: EXTENSION_API,
  engines: [ENGINE],
  optionsSchema: KitEchoOptions,
  description: 'kit-echo: /completion SSE, /health, /props, on llama-orch/adapter-kit',
}

/**
 * The engine's stop_type in the contract's words; an engine that says nothing stopped at EOS.
 * @type {Record<string, import('llama-orch/adapter-kit').StopInfo['stop_reason']>}
 */
const STOP = { eos: 'eos', limit: 'length', word: 'stop' }

/**
 * The engine-specific half of the adapter, one per (pool, replica); the kit wraps it.
 * @param {import('llama-orch/sdk').AdapterBinding} binding
 * @param {{ http: import('llama-orch/adapter-kit').HttpOptions, api_key?: string, api_key_env?: string, slots?: number }} options validated, defaults filled
 * @param {import('llama-orch/adapter-kit').KitContext} kit
 * @returns {import('llama-orch/adapter-kit').EngineProtocol}
 */
export function kitEchoProtocol (binding, options, { client }) {
  const base = trimSlash(binding.baseUrl)
  const key = resolveSecret(options)
  /** @type {Record<string, string>} the kit sends these on every call and never logs them */
  const headers = key ? { authorization: `Bearer ${key}` } : {}
  /** @param {import('llama-orch/sdk').CallOpts} [o] @returns {Promise<Record<string, unknown>>} */
  const props = (o) => client.json(`${base}/props`, { headers, ...callOpts(o) })

  return {
    engine: ENGINE,
    baseUrl: base,
    headers,
    open (req, d) {
      return {
        path: '/completion',
        // sampler profile v1: greedy, with the task's seed (or the one derived from its id)
        body: { prompt: req.prompt ?? (req.inputs ?? []).join('\n'), n_predict: req.max_tokens, seed: d.seed, temperature: 0, stream: true },
        frame (data, event, sink) {
          const v = frameJson(data)
          if (event === 'error' || v.error !== undefined) {
            sink.fail('stream_error_frame', `${ENGINE} reported an error mid-stream: ${describeError(event === 'error' ? { error: v } : v).message}`)
            return
          }
          const t = text(v.content)
          if (t !== undefined) sink.token(t)
          if (v.stop === true) {
            sink.end({
              stop_reason: STOP[text(v.stop_type) ?? 'eos'] ?? 'eos',
              tokens_out: num(v.tokens_predicted),
              tokens_in: num(v.tokens_evaluated),
            })
          }
        },
        // no eof(): a body that ends before its `stop: true` frame is the kit's default, WORKER_RESET
      }
    },
    health: (o) => probe(client, `${base}/health`, headers, o),
    async props (o) {
      const p = await props(o)
      return {
        slots_total: num(p.total_slots) ?? options.slots ?? null,
        slots_free: num(p.idle_slots) ?? null,
        ctx_max: num(p.n_ctx) ?? null,
        engine_version: text(p.version) ?? null,
      }
    },
    async engineVersion (o) {
      const v = text((await props(o)).version)
      // the built-ins' error for it: a stable code and what to check; the host then binds the
      // replica with its version unknown, and `started` says engine_version "unknown"
      if (v === undefined) throw new ORC_ERR_ADAPTER_NO_ENGINE_VERSION(`${ENGINE} /props`, 'version', 'check that the pool points at a kit-echo engine')
      return v
    },
    async capabilities (o) {
      const p = await props(o)
      return {
        ctx_max: num(p.n_ctx) ?? null,
        slots_total: num(p.total_slots) ?? options.slots ?? null,
        engine_version: text(p.version) ?? null,
        supported_workloads: ['completion'],
        features: { streaming: true, cancel: true, seed: true },
      }
    },
  }
}

// The plugin llama-orch registers with the validated options: one HttpClient per adapter
// entry (closed with the app), retries narrated, a factory for engine kit-echo.
export default fp(httpAdapterPlugin(ENGINE, kitEchoProtocol), {
  name: 'orc-adapter-kit-echo',
  fastify: '5.x',
  dependencies: ['orc.adapters', 'orc.narration'],
  decorators: { fastify: ['adapters', 'narration'] },
})
