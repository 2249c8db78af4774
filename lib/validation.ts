import type { TSchema } from 'typebox'
import { Value } from 'typebox/value'
import { Settings } from 'typebox/system'

/** One problem found in a document: a JSON pointer (`/pools/0/engine`) and what is wrong there. */
export interface Issue { path: string; message: string }

interface RawError {
  keyword: string
  schemaPath: string
  instancePath: string
  params: Record<string, unknown>
  message: string
}

const SHAPE_KEYWORDS = new Set(['type', 'const', 'enum'])

/**
 * Validates `value` against `schema` and explains every failure at once, in
 * words a person editing a config file can act on: unknown keys name the
 * allowed ones, unions say which alternatives exist, missing keys are named.
 */
export function schemaIssues (schema: TSchema, value: unknown): Issue[] {
  const previous = Settings.Get().maxErrors
  // typebox stops at 8 errors by default; a config check must report all of them
  Settings.Set({ maxErrors: 10_000 })
  let errors: RawError[]
  try {
    errors = [...Value.Errors(schema, value)] as unknown as RawError[]
  } finally {
    Settings.Set({ maxErrors: previous })
  }
  return sortIssues(dedupe(explain(errors, schema)))
}

export function formatIssues (issues: Issue[]): string[] {
  return issues.map((i) => `${i.path || '/'}: ${i.message}`)
}

export function sortIssues (issues: Issue[]): Issue[] {
  return [...issues].sort((a, b) => a.path.localeCompare(b.path, 'en', { numeric: true }))
}

function explain (errors: RawError[], schema: TSchema): Issue[] {
  // `additionalProperties: false` also yields one "schema is false" error per extra key; the
  // additionalProperties error itself says the same thing better.
  let rest = errors.filter((e) => e.keyword !== 'boolean')
  const unions = rest.filter((e) => e.keyword === 'anyOf')
  const outer = unions.filter((a) => !unions.some((b) => b !== a && a.schemaPath.startsWith(`${b.schemaPath}/anyOf/`)))
  const issues: Issue[] = []
  for (const union of outer) {
    const prefix = `${union.schemaPath}/anyOf/`
    const children = rest.filter((e) => e.schemaPath.startsWith(prefix))
    rest = rest.filter((e) => e !== union && !e.schemaPath.startsWith(prefix))
    issues.push(...explainUnion(union, children, schema))
  }
  for (const e of rest) issues.push(...explainOne(e, schema))
  return issues
}

function explainUnion (union: RawError, children: RawError[], schema: TSchema): Issue[] {
  const prefix = `${union.schemaPath}/anyOf/`
  const branches = new Map<string, RawError[]>()
  for (const e of children) {
    const index = e.schemaPath.slice(prefix.length).split('/')[0] ?? ''
    branches.set(index, [...(branches.get(index) ?? []), e])
  }
  // A branch "fits" when the value has that branch's shape and only its contents are wrong:
  // then the branch's own errors are the useful ones (e.g. an unknown key inside an object form).
  const fits = [...branches.values()].filter((errs) =>
    !errs.some((e) => e.instancePath === union.instancePath && SHAPE_KEYWORDS.has(e.keyword)))
  if (fits.length === 1) return explain(fits[0]!, schema)
  const expected = children
    .filter((e) => e.instancePath === union.instancePath && SHAPE_KEYWORDS.has(e.keyword))
    .map(expectation)
  const unique = [...new Set(expected)]
  const message = unique.length > 0 ? `must be ${unique.join(' or ')}` : 'does not match any allowed form'
  return [{ path: union.instancePath, message }]
}

function expectation (e: RawError): string {
  if (e.keyword === 'const') return JSON.stringify(e.params.allowedValue)
  if (e.keyword === 'enum') return (e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(' or ')
  return article(String(e.params.type))
}

function article (type: string): string {
  if (type === 'null') return 'null'
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`
}

function explainOne (e: RawError, schema: TSchema): Issue[] {
  const at = e.instancePath
  switch (e.keyword) {
    case 'required':
      return (e.params.requiredProperties as string[]).map((p) => ({ path: `${at}/${escape(p)}`, message: 'is required' }))
    case 'additionalProperties': {
      const known = Object.keys(schemaAt(schema, e.schemaPath)?.properties ?? {})
      const hint = known.length > 0 ? `; known keys here: ${known.join(', ')}` : ''
      return (e.params.additionalProperties as string[]).map((p) => ({ path: `${at}/${escape(p)}`, message: `is not a known key${hint}` }))
    }
    case 'type':
      return [{ path: at, message: `must be ${article(String(e.params.type))}` }]
    case 'enum':
    case 'const':
      return [{ path: at, message: `must be ${expectation(e)}` }]
    default:
      return [{ path: at, message: e.message }]
  }
}

function schemaAt (schema: TSchema, pointer: string): { properties?: Record<string, unknown> } | undefined {
  let node: unknown = schema
  for (const part of pointer.replace(/^#\/?/, '').split('/').filter(Boolean)) {
    if (node === null || typeof node !== 'object') return undefined
    node = (node as Record<string, unknown>)[part.replace(/~1/g, '/').replace(/~0/g, '~')]
  }
  return node as { properties?: Record<string, unknown> } | undefined
}

function escape (key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1')
}

function dedupe (issues: Issue[]): Issue[] {
  const seen = new Set<string>()
  return issues.filter((i) => {
    const key = `${i.path}\u0000${i.message}`
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}
