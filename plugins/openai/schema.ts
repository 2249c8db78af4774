import { Type, type Static } from 'typebox'

/**
 * `POST /v1/completions` as OpenAI defines it (openai-compat.md §1, §3): every field OpenAI
 * documents is named here, so a known field this server cannot honour is refused by
 * `honour.ts` with its name and an unknown one by the strict body validator.
 */
export const Num = (o: Record<string, unknown> = {}) => Type.Union([Type.Number(o), Type.Null()])

/**
 * The sampling fields both endpoints take (the task's `sampling`): OpenAI's, plus llama-server's
 * extras `top_k`, `min_p` and `repeat_penalty`. Ranges are the task's (sdk/sampling.ts).
 */
export const SamplingFields = {
  temperature: Type.Optional(Num({ minimum: 0, maximum: 2 })),
  top_p: Type.Optional(Num({ exclusiveMinimum: 0, maximum: 1 })),
  top_k: Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: 1_000_000 }), Type.Null()])),
  min_p: Type.Optional(Num({ minimum: 0, maximum: 1 })),
  presence_penalty: Type.Optional(Num({ minimum: -2, maximum: 2 })),
  frequency_penalty: Type.Optional(Num({ minimum: -2, maximum: 2 })),
  repeat_penalty: Type.Optional(Num({ exclusiveMinimum: 0, maximum: 10 })),
  logit_bias: Type.Optional(Type.Union([
    Type.Record(Type.String({ pattern: '^[0-9]{1,9}$' }), Type.Number({ minimum: -100, maximum: 100 }), { maxProperties: 1024 }),
    Type.Null(),
  ])),
}

/** A named JSON Schema as OpenAI sends it (chat's `response_format.json_schema`, the Responses API's `text.format`). */
export const JsonSchemaSpec = {
  name: Type.String({ minLength: 1, maxLength: 64 }),
  description: Type.Optional(Type.String()),
  schema: Type.Object({}, { additionalProperties: true }),
  strict: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
}

export const CompletionRequest = Type.Object({
  model: Type.String({ minLength: 1, description: 'a model a pool serves (GET /v1/models)' }),
  prompt: Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { minItems: 1, maxItems: 1 })], {
    description: 'one prompt: a string, or an array of one string',
  }),
  max_tokens: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 2_147_483_647 }), Type.Null()])),
  stream: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
  stream_options: Type.Optional(Type.Union([Type.Object({ include_usage: Type.Optional(Type.Boolean()) }), Type.Null()])),
  seed: Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: 0xFFFF_FFFE }), Type.Null()])),
  user: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  ...SamplingFields,
  n: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Null()])),
  best_of: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Null()])),
  echo: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
  stop: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String(), { maxItems: 4 }), Type.Null()])),
  logprobs: Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: 5 }), Type.Null()])),
  suffix: Type.Optional(Type.Union([Type.String(), Type.Null()])),
})
export type CompletionRequest = Static<typeof CompletionRequest>

export const ModelParams = Type.Object({ id: Type.String({ minLength: 1 }) })

/** A chat message as OpenAI sends it: text content, or an array of text parts. */
const Content = Type.Union([Type.String(), Type.Array(Type.Object({ type: Type.Literal('text'), text: Type.String() }), { minItems: 1 })])
const Message = Type.Object({
  role: Type.Enum(['system', 'developer', 'user', 'assistant']),
  content: Content,
  name: Type.Optional(Type.String()),
})

/** `POST /v1/chat/completions` (openai-compat.md §1): the fields OpenAI documents for text chats. */
export const ChatRequest = Type.Object({
  model: Type.String({ minLength: 1, description: 'a model a pool serves (GET /v1/models)' }),
  messages: Type.Array(Message, { minItems: 1, maxItems: 512 }),
  max_tokens: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 2_147_483_647 }), Type.Null()])),
  max_completion_tokens: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 2_147_483_647 }), Type.Null()])),
  stream: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
  stream_options: Type.Optional(Type.Union([Type.Object({ include_usage: Type.Optional(Type.Boolean()) }), Type.Null()])),
  seed: Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: 0xFFFF_FFFE }), Type.Null()])),
  user: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  stop: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String(), { maxItems: 4 }), Type.Null()])),
  ...SamplingFields,
  n: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Null()])),
  logprobs: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
  top_logprobs: Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: 20 }), Type.Null()])),
  response_format: Type.Optional(Type.Object({
    type: Type.Enum(['text', 'json_object', 'json_schema']),
    json_schema: Type.Optional(Type.Object(JsonSchemaSpec, { description: 'required with type json_schema' })),
  })),
  tools: Type.Optional(Type.Array(Type.Object({}, { additionalProperties: true }))),
  tool_choice: Type.Optional(Type.Union([Type.String(), Type.Object({}, { additionalProperties: true })])),
  parallel_tool_calls: Type.Optional(Type.Boolean()),
})
export type ChatRequest = Static<typeof ChatRequest>

/** `POST /v1/embeddings` (openai-compat.md §1): text inputs; token-id inputs are not taken. */
export const EmbeddingsRequest = Type.Object({
  model: Type.String({ minLength: 1, description: 'a model a pool serves (GET /v1/models)' }),
  input: Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { minItems: 1, maxItems: 2048 })], {
    description: 'a string or up to 2048 strings (token-id arrays are not accepted)',
  }),
  encoding_format: Type.Optional(Type.Union([Type.Enum(['float', 'base64']), Type.Null()])),
  dimensions: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Null()])),
  user: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
})
export type EmbeddingsRequest = Static<typeof EmbeddingsRequest>
