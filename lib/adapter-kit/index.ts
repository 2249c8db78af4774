/**
 * `llama-orch/adapter-kit`: the stream machinery the built-in HTTP adapters share, public so
 * a third-party adapter for an HTTP engine writes only its protocol (`EngineProtocol`: the
 * request body, one frame handler, the control calls) and gets submit, cancel, timeouts,
 * retries and the error mapping of the built-ins (see `extensions/adapter-vllm`). The
 * contract types (`AdapterBinding`, `TokenEvent`, `UpstreamCondition`, …) stay in
 * `llama-orch/sdk`. Only re-exports: what is not listed here is internal.
 */
export { httpAdapterPlugin, standaloneAdapter, clientFor, timeoutsFor, narrateRetry, type KitContext } from './plugin.js'
export { createHttpAdapter, AUTH_HOLD_MS } from './http-adapter.js'
export type { EngineProtocol, GenerationStream, OneShotRequest, FrameSink, StopInfo, StreamTimeouts } from './protocol.js'
export { HttpOptions, SecretOptions, resolveSecret } from './options.js'
export { callOpts, probe, frameJson, num, text, trimSlash } from './control.js'
export { openAiStream, type OpenAiApi, type OpenAiStreamOptions } from './openai-stream.js'
export { promSamples, firstValue, type Sample } from './prometheus.js'
// What standaloneAdapter throws for bad options, and what a protocol's engineVersion throws
// when the engine will not say its version (as the built-ins do).
export { ORC_ERR_ADAPTER_NO_ENGINE_VERSION, ORC_ERR_ADAPTER_OPTIONS } from './errors.js'
// A task's stop sequences as an engine body field, and profile v1 in the OpenAI dialect (issue 11).
export { formatSchema, openAiBody, openAiResponseFormat, openAiSampling, OPENAI_NAMES, VLLM_NAMES, stopField, topKOf } from './request-fields.js'
// The client a protocol makes its control calls with (`KitContext.client`); the error a
// protocol may throw (the kit maps an UpstreamError by its condition) and the reader of
// engine error bodies in every dialect. Through the library's index, not its files.
export {
  UpstreamError, describeError, type ErrorBody, type HttpClient, type RetryInfo, type CallOptions, type CallResult, type ResponseHeaders,
} from '../http-client/index.js'
export { openAiEmbeddings } from './embeddings.js'
