/**
 * The OpenAI-compatible API (spec openai-compat.md), mounted under `/v1` by the http stage
 * beside the native task API: its routes read `app.dataplane` and `app.pool`, nothing of its
 * own is decorated.
 */
export { openaiRoutes } from './routes.js'
export { CHAT_RULES, COMPLETION_RULES, honourTable, refusedParam, refuseUnhonoured, samplingOf, type Rule } from './honour.js'
export { OpenAiError, type OpenAiErrorBody } from './errors.js'
