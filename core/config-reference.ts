import { manifestJsonSchema } from './manifest-schema-doc.js'

interface Node {
  type?: string
  enum?: unknown[]
  anyOf?: Node[]
  properties?: Record<string, Node>
  patternProperties?: Record<string, Node>
  items?: Node
  required?: string[]
  default?: unknown
  description?: string
  minimum?: number
  maximum?: number
  pattern?: string
}

/**
 * The configuration reference table of the README, generated from the manifest schema
 * so the documentation cannot drift from what the loader accepts.
 */
export function configReference (): string {
  const rows: string[] = ['| key | type | default | notes |', '|---|---|---|---|']
  walk(manifestJsonSchema() as Node, '', rows, true)
  return rows.join('\n')
}

function walk (node: Node, path: string, rows: string[], required: boolean, row = true): void {
  const inner = node.anyOf?.find((n) => n.type !== 'null') ?? node
  if (row && path !== '' && path !== '$schema') {
    const notes = [node.description ?? inner.description, required && node.default === undefined ? 'required' : undefined]
      .filter(Boolean).join('; ')
    rows.push(`| \`${path}\` | ${typeOf(node)} | ${node.default === undefined ? '' : `\`${JSON.stringify(node.default)}\``} | ${notes.replace(/\|/g, '\\|')} |`)
  }
  if (inner.properties) {
    for (const [key, child] of Object.entries(inner.properties)) {
      walk(child, path === '' ? key : `${path}.${key}`, rows, inner.required?.includes(key) ?? false)
    }
  }
  const item = inner.items?.anyOf?.find((n) => n.type === 'object') ?? inner.items
  if (item?.properties) walk(item, `${path}[]`, rows, false, false)
}

function typeOf (node: Node): string {
  if (node.anyOf) return node.anyOf.map(typeOf).join(' \\| ')
  if (node.enum) return node.enum.map((v) => `\`${String(v)}\``).join(' \\| ')
  if (node.type === 'array') return node.items?.anyOf ? `(${typeOf(node.items)})[]` : `${typeOf(node.items ?? {})}[]`
  if (node.type === 'object' && node.patternProperties) return 'map'
  const range = node.minimum !== undefined || node.maximum !== undefined ? ` ${node.minimum ?? ''}..${node.maximum ?? ''}` : ''
  return `${node.type ?? 'any'}${range}`
}
