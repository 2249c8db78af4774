import { AjvCompiler } from '@fastify/ajv-compiler'
import type { FastifySchema, FastifySchemaCompiler } from 'fastify'

/**
 * The validator compiler of the `/v1` context (issue 10 #7, honour or reject). Fastify's default
 * ajv coerces types and drops unknown properties without a word, which lets `"max_tokens":"16"`,
 * `"max_tokens":true` or `"prompt":123` through and silently discards fields a client meant.
 *
 * - Bodies are JSON, so they arrive typed: validated as sent, no coercion, no removal. A body
 *   object refuses properties its schema does not name (ajv's `additionalProperties` error,
 *   one per unknown field, so the 400 names each), unless the schema opens itself explicitly
 *   (`additionalProperties` or `patternProperties`, e.g. free-form `content` or `metadata`).
 * - Path params, query strings and headers are strings on the wire: they keep Fastify's
 *   coercion (`?limit=5` is the integer 5) and defaults.
 *
 * Every failing field is reported at once (`allErrors`), as the manifest checker does.
 */

/** Fastify's own ajv settings, as @fastify/ajv-compiler applies them, plus every error at once. */
const COMMON = { useDefaults: true, addUsedSchema: false, allErrors: true } as const
const STRICT_BODY = { ...COMMON, coerceTypes: false, removeAdditional: false } as const
const STRING_PARTS = { ...COMMON, coerceTypes: 'array', removeAdditional: true } as const

type Json = Record<string, unknown>
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * A copy of a body schema in which every object that names its properties and says nothing
 * about others is closed (`additionalProperties: false`). The route's own schema object is
 * never touched: the OpenAPI document shows what the route declared.
 */
export function closeObjects (schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closeObjects)
  if (!isObject(schema)) return schema
  const out: Json = {}
  for (const [k, v] of Object.entries(schema)) {
    // `properties` and `patternProperties` map names to schemas; `enum`, `const`, `default`
    // and `examples` hold data, never schemas; the parts of an `allOf` each see only some of
    // the properties, so closing one would refuse the others' (left as declared)
    if (k === 'enum' || k === 'const' || k === 'default' || k === 'examples' || k === 'allOf') out[k] = v
    else if ((k === 'properties' || k === 'patternProperties' || k === '$defs' || k === 'definitions') && isObject(v)) {
      out[k] = Object.fromEntries(Object.entries(v).map(([name, s]) => [name, closeObjects(s)]))
    } else out[k] = closeObjects(v)
  }
  const declaresObject = out.type === 'object' || isObject(out.properties)
  if (declaresObject && isObject(out.properties) && out.additionalProperties === undefined && out.patternProperties === undefined) {
    out.additionalProperties = false
  }
  return out
}

/** The validator compiler for one encapsulated context; `externalSchemas` are those added with `addSchema`. */
export function partValidatorCompiler (externalSchemas: Record<string, unknown> = {}): FastifySchemaCompiler<FastifySchema> {
  const build = AjvCompiler()
  const strict = build(externalSchemas as never, { customOptions: STRICT_BODY })
  const lenient = build(externalSchemas as never, { customOptions: STRING_PARTS })
  return (route) => route.httpPart === 'body'
    ? strict({ ...route, schema: closeObjects(route.schema) as never })
    : lenient(route as never)
}
