/**
 * `lib/http-client`: the shared upstream HTTP library of the adapters (spec adapters §3.3,
 * ORCH-3610..3613). A library, not a Fastify plugin: adapters create one HttpClient and
 * close it when the app closes (see lib/adapter-kit/plugin.ts).
 */
export {
  HttpClient, safeUrl, type HttpClientOptions, type RetryInfo, type CallOptions, type CallResult, type StreamOptions, type StreamResponse, type ResponseHeaders,
} from './client.js'
export { SseDecoder, NdjsonDecoder, MAX_LINE_BYTES, sseEvents, ndjsonValues, type SseEvent, type DecoderOptions } from './decode.js'
export { DEFAULT_BACKOFF, retryDelayMs, parseRetryAfter, sleep, type BackoffPolicy } from './retry.js'
export { describeError, describeErrorText, type ErrorBody } from './upstream-error.js'
export { UpstreamError, DecodeError, ORC_ERR_HTTP_CLIENT_CLOSED } from './errors.js'
