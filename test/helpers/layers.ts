import ts from 'typescript'
import { dirname, join, normalize } from 'node:path'

/**
 * The layer table of spec architecture.md §2, as code: which folder may import which.
 *
 *   sdk/         L0  typebox, Fastify types and node: built-ins only
 *   lib/         L1  sdk/
 *   plugins/X/   L2  sdk/, lib/, its own folder, another plugin's index.ts with `import type`
 *   extensions/X L3  sdk/, lib/, its own folder
 *   core/        L4  anything
 *
 * Tests, fixtures, benches and scripts are not layered. A file-level import cycle among the
 * layered files (type imports included) is a violation too.
 */
export interface ImportEdge {
  from: string
  /** The specifier as written. */
  spec: string
  /** The repository path it resolves to; undefined for a package. */
  to: string | undefined
  typeOnly: boolean
  line: number
}

export interface Violation { file: string, line: number, message: string }

type Layer = { name: 'sdk' | 'lib' | 'plugins' | 'extensions' | 'core', unit: string }

/** The layer and unit (plugin or extension folder) of a source path; undefined when not layered. */
export function layerOf (path: string): Layer | undefined {
  if (/(^|\/)(test|tests|fixtures)\//.test(path)) return undefined
  const m = /^(sdk|lib|plugins|extensions|core)\/(?:([^/]+)\/)?/.exec(path)
  if (!m) return undefined
  const name = m[1] as Layer['name']
  const unit = name === 'plugins' || name === 'extensions' ? `${name}/${m[2] ?? ''}` : name
  return { name, unit }
}

/** Every import, re-export and dynamic import of one file. */
export function importsOf (path: string, text: string, exists: (p: string) => boolean): ImportEdge[] {
  const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true)
  const out: ImportEdge[] = []
  const add = (node: ts.Node, spec: string, typeOnly: boolean): void => {
    const line = source.getLineAndCharacterOfPosition(node.getStart()).line + 1
    out.push({ from: path, spec, to: spec.startsWith('.') ? resolve(path, spec, exists) : undefined, typeOnly, line })
  }
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      add(node, node.moduleSpecifier.text, node.importClause?.isTypeOnly === true)
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      add(node, node.moduleSpecifier.text, node.isTypeOnly)
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      add(node, node.argument.literal.text, true)
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [arg] = node.arguments
      if (arg && ts.isStringLiteral(arg)) add(node, arg.text, false)
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return out
}

function resolve (from: string, spec: string, exists: (p: string) => boolean): string {
  const raw = normalize(join(dirname(from), spec))
  for (const c of [raw.replace(/\.js$/, '.ts'), raw, `${raw}.ts`, join(raw, 'index.ts')]) if (exists(c)) return c
  return raw
}

const SDK_PACKAGES = /^(typebox(\/.*)?|node:.*)$/

/** Why one import breaks the table, or undefined when it is allowed. */
export function edgeViolation (e: ImportEdge): string | undefined {
  const from = layerOf(e.from)
  if (!from) return undefined
  if (e.to === undefined) {
    if (from.name !== 'sdk' || SDK_PACKAGES.test(e.spec)) return undefined
    if (e.spec === 'fastify' && e.typeOnly) return undefined
    return `sdk/ imports "${e.spec}"${e.spec === 'fastify' ? ' at run time' : ''}; the SDK may import typebox, Fastify types and node: built-ins only`
  }
  const to = layerOf(e.to)
  if (!to) return `imports ${e.to}, which is not part of the layered source (a test, fixture or script)`
  switch (from.name) {
    case 'core': return undefined
    case 'sdk': return to.name === 'sdk' ? undefined : `sdk/ imports ${e.to}; the SDK imports nothing of the project but itself`
    case 'lib': return to.name === 'sdk' || to.name === 'lib' ? undefined : `lib/ imports ${e.to}; lib/ may import sdk/ and lib/ only`
    case 'extensions':
      if (to.name === 'sdk' || to.name === 'lib' || to.unit === from.unit) return undefined
      return `${from.unit} imports ${e.to}; an extension may import sdk/, lib/ and its own folder only (the npm extension contract)`
    case 'plugins':
      if (to.name === 'sdk' || to.name === 'lib' || to.unit === from.unit) return undefined
      if (to.name === 'plugins') {
        if (!e.to.endsWith('/index.ts')) return `${from.unit} imports ${e.to}; reach another plugin through its index.ts`
        if (!e.typeOnly) return `${from.unit} imports ${e.to} at run time; use \`import type\` and reach the plugin through its decorator`
        return undefined
      }
      return `${from.unit} imports ${e.to}; a plugin may import sdk/, lib/ and other plugins' types only`
  }
}

/** File-level cycles among the layered files, each as the list of files around it. */
export function cycles (edges: ImportEdge[]): string[][] {
  const graph = new Map<string, Set<string>>()
  for (const e of edges) {
    if (e.to === undefined || !layerOf(e.from) || !layerOf(e.to)) continue
    if (!graph.has(e.from)) graph.set(e.from, new Set())
    graph.get(e.from)!.add(e.to)
  }
  // Tarjan's strongly connected components; any component of two or more files is a cycle
  let index = 0
  const idx = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const found: string[][] = []
  const connect = (v: string): void => {
    idx.set(v, index); low.set(v, index); index++
    stack.push(v); onStack.add(v)
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) { connect(w); low.set(v, Math.min(low.get(v)!, low.get(w)!)) } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!))
    }
    if (low.get(v) !== idx.get(v)) return
    const scc: string[] = []
    let w: string
    do { w = stack.pop()!; onStack.delete(w); scc.push(w) } while (w !== v)
    if (scc.length > 1 || graph.get(v)?.has(v)) found.push(scc.sort())
  }
  for (const v of [...graph.keys()].sort()) if (!idx.has(v)) connect(v)
  return found
}

/** Every violation of a tree given as path → text. */
export function layerViolations (files: ReadonlyMap<string, string>): Violation[] {
  const exists = (p: string): boolean => files.has(p)
  const edges = [...files].flatMap(([path, text]) => importsOf(path, text, exists))
  const out: Violation[] = []
  for (const e of edges) {
    const why = edgeViolation(e)
    if (why) out.push({ file: e.from, line: e.line, message: why })
  }
  for (const c of cycles(edges)) out.push({ file: c[0]!, line: 0, message: `import cycle among ${c.join(', ')}` })
  return out
}
