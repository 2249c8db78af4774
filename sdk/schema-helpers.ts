import { Type, type TSchema } from 'typebox'

/** An optional field that also accepts an explicit `null` (the original config format allows both). */
export const Nullable = <T extends TSchema>(schema: T) => Type.Optional(Type.Union([schema, Type.Null()]))

/** Closed object: every config object rejects unknown keys (OC-CONFIG-6001). */
export const Strict = <P extends Parameters<typeof Type.Object>[0]>(properties: P, options: Record<string, unknown> = {}) =>
  Type.Object(properties, { additionalProperties: false, ...options })

export const UInt32 = (options: Record<string, unknown> = {}) => Type.Integer({ minimum: 0, maximum: 4_294_967_295, ...options })
export const Millis = (options: Record<string, unknown> = {}) => Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, ...options })
export const Uuid = (description: string) => Type.String({ format: 'uuid', description })
