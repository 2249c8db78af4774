import { Type, type Static } from 'typebox'
import { JsonSchemaSpec, Num } from './schema.js'

/**
 * `POST /v1/responses`, the stateless Responses API (openai-compat.md §1): text in (a string,
 * or messages of text parts), text out. Every field OpenAI documents for such a request is
 * named, so one the server cannot honour is refused by its rule (responses.ts) and an unknown
 * one by the strict validator.
 */
const Text = Type.Array(Type.Object({ type: Type.Enum(['input_text', 'output_text']), text: Type.String() }), { minItems: 1 })

const InputMessage = Type.Object({
  type: Type.Optional(Type.Literal('message')),
  role: Type.Enum(['system', 'developer', 'user', 'assistant']),
  content: Type.Union([Type.String(), Text]),
})

export const ResponsesRequest = Type.Object({
  model: Type.String({ minLength: 1, description: 'a model a pool serves (GET /v1/models)' }),
  input: Type.Union([Type.String({ minLength: 1 }), Type.Array(InputMessage, { minItems: 1, maxItems: 512 })]),
  instructions: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  max_output_tokens: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 2_147_483_647 }), Type.Null()])),
  temperature: Type.Optional(Num({ minimum: 0, maximum: 2 })),
  top_p: Type.Optional(Num({ exclusiveMinimum: 0, maximum: 1 })),
  stream: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
  text: Type.Optional(Type.Object({
    format: Type.Optional(Type.Object({
      type: Type.Enum(['text', 'json_object', 'json_schema']),
      ...JsonSchemaSpec,
      name: Type.Optional(JsonSchemaSpec.name),
      schema: Type.Optional(JsonSchemaSpec.schema),
    }, { description: 'json_schema needs name and schema' })),
  })),
  user: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  metadata: Type.Optional(Type.Union([Type.Record(Type.String({ maxLength: 64 }), Type.String({ maxLength: 512 }), { maxProperties: 16 }), Type.Null()])),
  store: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
  previous_response_id: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  background: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
  include: Type.Optional(Type.Union([Type.Array(Type.String()), Type.Null()])),
  tools: Type.Optional(Type.Array(Type.Object({}, { additionalProperties: true }))),
  tool_choice: Type.Optional(Type.Union([Type.String(), Type.Object({}, { additionalProperties: true })])),
  parallel_tool_calls: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
  truncation: Type.Optional(Type.Union([Type.Enum(['auto', 'disabled']), Type.Null()])),
  top_logprobs: Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: 20 }), Type.Null()])),
  reasoning: Type.Optional(Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()])),
})
export type ResponsesRequest = Static<typeof ResponsesRequest>
