import { readFile } from 'node:fs/promises'
import { LineCounter, parseDocument, isNode, type Document } from 'yaml'
import { Value } from 'typebox/value'
import { Manifest } from './manifest.js'
import { manifestRuleIssues } from './manifest-rules.js'
import { explainRemovedKeys } from './manifest-removed.js'
import { schemaIssues, sortIssues, type Issue } from '../lib/validation.js'
import { ManifestError, ORC_ERR_MANIFEST_READ } from './errors.js'

/** Where each JSON pointer of a parsed file sits in the text, to point a user at the line. */
export type Locate = (pointer: string) => { line: number, col: number } | undefined

/**
 * Fills defaults and validates a manifest object: schema first, then the rules
 * that span fields. Throws one ManifestError holding every problem.
 */
export function parseManifest (raw: unknown, source = 'manifest', locate?: Locate): Manifest {
  const withDefaults = Value.Default(Manifest, Value.Clone(raw)) as Partial<Manifest>
  const issues = [...explainRemovedKeys(schemaIssues(Manifest, withDefaults)), ...manifestRuleIssues(withDefaults)]
  if (issues.length > 0) throw new ManifestError(source, sortIssues(withLocations(issues, locate)))
  return withDefaults as Manifest
}

/** Reads a YAML or JSON manifest (JSON is YAML 1.2), reporting syntax errors with their line. */
export async function loadManifest (file: string): Promise<Manifest> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    throw new ORC_ERR_MANIFEST_READ(file, (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message)
  }
  return parseManifestText(text, file)
}

export function parseManifestText (text: string, source: string): Manifest {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false })
  if (doc.errors.length > 0) {
    throw new ManifestError(source, doc.errors.map((e) => {
      const pos = lineCounter.linePos(e.pos[0])
      return { path: '', message: `${e.message.split('\n')[0]} (line ${pos.line}:${pos.col})` }
    }))
  }
  return parseManifest(doc.toJS() ?? {}, source, locator(doc, lineCounter))
}

function locator (doc: Document, lineCounter: LineCounter): Locate {
  return (pointer) => {
    const parts = pointer.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    // a missing key has no node: point at the closest ancestor that exists
    for (let n = parts.length; n >= 0; n--) {
      const node = n === 0 ? doc.contents : doc.getIn(parts.slice(0, n).map((p) => (/^\d+$/.test(p) ? Number(p) : p)), true)
      if (isNode(node) && node.range) return lineCounter.linePos(node.range[0])
    }
    return undefined
  }
}

function withLocations (issues: Issue[], locate?: Locate): Issue[] {
  if (!locate) return issues
  return issues.map((i) => {
    const pos = locate(i.path)
    return pos ? { ...i, message: `${i.message} (line ${pos.line})` } : i
  })
}
