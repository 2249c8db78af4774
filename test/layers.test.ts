import t, { type Test } from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fromRoot } from '../lib/package-root.js'
import { layerViolations } from './helpers/layers.js'

/** Every TypeScript file of the layered folders, as repository path → text. */
function sourceTree (): Map<string, string> {
  const files = new Map<string, string>()
  for (const top of ['sdk', 'lib', 'plugins', 'extensions', 'core']) {
    for (const rel of readdirSync(fromRoot(top), { recursive: true }) as string[]) {
      if (!rel.endsWith('.ts')) continue
      const path = join(top, rel)
      files.set(path, readFileSync(fromRoot(path), 'utf8'))
    }
  }
  return files
}

t.test('every import follows the layer table of spec architecture.md §2, and no file-level cycle remains', async (t) => {
  const tree = sourceTree()
  t.ok(tree.size > 150, `reads the whole source tree (${tree.size} files)`)
  const found = layerViolations(tree).map((v) => `${v.file}:${v.line}: ${v.message}`)
  t.same(found, [], 'no violation')
})

/** The real tree plus one file, so a test shows the check notices what it is added for. */
const withFile = (path: string, text: string): Map<string, string> => new Map([...sourceTree(), [path, text]])
const messages = (files: Map<string, string>): string[] => layerViolations(files).map((v) => `${v.file}: ${v.message}`)

/** Exactly one violation, matching `pattern`. */
function one (t: Test, files: Map<string, string>, pattern: string | RegExp, what?: string): void {
  const found = messages(files)
  t.equal(found.length, 1, `one violation${what ? ` (${what})` : ''}: ${found.join(' | ')}`)
  if (typeof pattern === 'string') t.equal(found[0], pattern)
  else t.match(found[0], pattern)
}

t.test('an upward import fails the check, naming the file and the rule it breaks', async (t) => {
  one(t, withFile('lib/upward.ts', "import { pool } from '../plugins/pool/index.js'\n"),
    'lib/upward.ts: lib/ imports plugins/pool/index.ts; lib/ may import sdk/ and lib/ only')
  one(t, withFile('sdk/upward.ts', "import { NAMES } from '../lib/names.js'\n"),
    'sdk/upward.ts: sdk/ imports lib/names.ts; the SDK imports nothing of the project but itself')
  one(t, withFile('sdk/runtime.ts', "import Fastify from 'fastify'\n"), /sdk\/ imports "fastify" at run time/)
  one(t, withFile('sdk/pino.ts', "import pino from 'pino'\n"), /sdk\/ imports "pino"; the SDK may import typebox, Fastify types/)
  one(t, withFile('extensions/adapter-x/index.ts', "import type { Pool } from '../../plugins/pool/index.js'\n"), /extensions\/adapter-x imports plugins\/pool\/index\.ts; an extension may import sdk\/, lib\/ and its own folder only/)
  one(t, withFile('extensions/adapter-x/index.ts', "import { x } from '../provider-embedded/index.js'\n"), /an extension may import/)
  one(t, withFile('plugins/health/peek.ts', "import type { PoolManager } from '../pool/manager.js'\n"),
    'plugins/health/peek.ts: plugins/health imports plugins/pool/manager.ts; reach another plugin through its index.ts')
  one(t, withFile('plugins/health/peek.ts', "import { poolRoutes } from '../pool/index.js'\n"), /plugins\/health imports plugins\/pool\/index\.ts at run time; use `import type`/)
  one(t, withFile('plugins/health/peek.ts', "const m = await import('../pool/index.js')\n"), /at run time/, 'a dynamic import is a run-time import')
  one(t, withFile('plugins/pool/fixtures.ts', "import { x } from '../../test/helpers/build.js'\n"), /not part of the layered source/)
})

t.test('what the table allows passes', async (t) => {
  const allowed = [
    [
      'plugins/health/peek.ts',
      "import type { Pool } from '../pool/index.js'\nimport { NAMES } from '../../lib/names.js'\nimport { ApiError } from '../../sdk/api.js'\n",
    ],
    ['plugins/health/types.ts', "type P = import('../pool/index.js').Pool\nexport type { P }\n"],
    [
      'extensions/adapter-x/index.ts',
      "import { httpAdapterPlugin } from '../../lib/adapter-kit/plugin.js'\nimport { EXTENSION_API } from '../../sdk/index.js'\n",
    ],
    ['sdk/extra.ts', "import type { FastifyInstance } from 'fastify'\nimport { Type } from 'typebox'\nimport { createHash } from 'node:crypto'\n"],
    ['core/extra.ts', "import pool from '../plugins/pool/index.js'\nimport { x } from '../extensions/provider-embedded/index.js'\n"],
  ] as const
  for (const [path, text] of allowed) t.same(messages(withFile(path, text)), [], path)
})

t.test('a file-level import cycle fails the check, type imports included', async (t) => {
  const tree = new Map([
    ['lib/a.ts', "import { b } from './b.js'\nexport const a = 1\n"],
    ['lib/b.ts', "import type { C } from './c.js'\nexport const b = 2\n"],
    ['lib/c.ts', "import { a } from './a.js'\nexport type C = number\n"],
    ['lib/d.ts', "import { a } from './a.js'\n"],
  ])
  t.same(messages(tree), ['lib/a.ts: import cycle among lib/a.ts, lib/b.ts, lib/c.ts'])
})
