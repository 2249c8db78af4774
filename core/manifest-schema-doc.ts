import { Manifest } from './manifest.js'

/**
 * The manifest schema as editors should see it. In code every field with a default is
 * required (the loader fills defaults before checking), which would make an editor flag
 * keys a user may leave out; here such fields are dropped from `required`. Output is
 * deterministic, so the checked-in `schemas/manifest.schema.json` can be compared byte-for-byte.
 */
export function manifestJsonSchema (): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    ...(relax(JSON.parse(JSON.stringify(Manifest))) as Record<string, unknown>),
  }
}

function relax (node: unknown): unknown {
  if (Array.isArray(node)) return node.map(relax)
  if (node === null || typeof node !== 'object') return node
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(node)) out[k] = relax(v)
  const props = out.properties as Record<string, { default?: unknown }> | undefined
  if (Array.isArray(out.required) && props) {
    const required = (out.required as string[]).filter((key) => props[key]?.default === undefined)
    if (required.length > 0) out.required = required
    else delete out.required
  }
  return out
}
