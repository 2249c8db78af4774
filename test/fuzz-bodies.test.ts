import t from 'tap'
import fc from 'fast-check'
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { f0, type F0 } from './fixtures/dataplane.js'

/**
 * Issue 10 acceptance: a fuzz test over the bodies of `POST /v1/tasks`, `POST /v1/catalog/models`
 * and `POST /v1/pools/:id/reload`. Each malformed body — a field of the wrong JSON type, a
 * required field left out, a field the route does not know — gets a 4xx whose message names
 * the field, and afterwards the catalog's files, the queue and the sessions are as they were.
 */

/** The JSON type classes; a value of another class than a field's is always wrong for it. */
type Kind = 'string' | 'integer' | 'boolean' | 'array' | 'object'
const VALUES: Record<Kind | 'null' | 'float', fc.Arbitrary<unknown>> = {
  string: fc.string({ maxLength: 8 }),
  integer: fc.integer(),
  float: fc.double({ noInteger: true, noNaN: true, noDefaultInfinity: true }),
  boolean: fc.boolean(),
  null: fc.constant(null),
  array: fc.array(fc.integer(), { maxLength: 3 }),
  object: fc.dictionary(fc.string({ minLength: 1, maxLength: 4 }), fc.integer(), { maxKeys: 2 }),
}
/** Values whose JSON type is never `kind` (an integer is also a number, so floats count as wrong only for integers). */
function wrongFor (kind: Kind): fc.Arbitrary<unknown> {
  const others = (Object.keys(VALUES) as Array<keyof typeof VALUES>).filter((k) => k !== kind && !(kind !== 'integer' && k === 'float'))
  return fc.oneof(...others.map((k) => VALUES[k]))
}

interface Route { name: string, path: string, valid: () => Record<string, unknown>, fields: Record<string, Kind>, required: string[] }

/** A field name no route knows: letters only, so it never collides with a real one by accident. */
const unknownName = (known: string[]): fc.Arbitrary<string> =>
  fc.stringMatching(/^[a-z]{3,12}$/).filter((n) => !known.includes(n))

type Mutation = { kind: 'wrong', field: string, value: unknown } | { kind: 'missing', field: string } | { kind: 'unknown', field: string, value: unknown }

function mutations (r: Route): fc.Arbitrary<Mutation> {
  const fields = Object.keys(r.fields)
  return fc.oneof(
    fc.constantFrom(...fields).chain((field) => wrongFor(r.fields[field]!).map((value): Mutation => ({ kind: 'wrong', field, value }))),
    fc.constantFrom(...r.required).map((field): Mutation => ({ kind: 'missing', field })),
    fc.tuple(unknownName(fields), VALUES.string).map(([field, value]): Mutation => ({ kind: 'unknown', field, value }))
  )
}

function apply (body: Record<string, unknown>, m: Mutation): Record<string, unknown> {
  const out = { ...body }
  if (m.kind === 'missing') delete out[m.field]
  else out[m.field] = m.value
  return out
}

/** Every file under the catalog root with its bytes: what must not change. */
function filesOf (root: string): Record<string, string> {
  const out: Record<string, string> = {}
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name)
      if (statSync(p).isDirectory()) walk(p)
      else out[p.slice(root.length)] = readFileSync(p, 'base64')
    }
  }
  walk(root)
  return out
}

t.test('issue 10: every malformed task, catalog or reload body is a 4xx naming the field, and nothing changes', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'orc-fuzz-catalog-'))
  const h: F0 = await f0(t, { manifest: { catalog: { root } } })
  const seeded = await h.call('POST', '/v1/catalog/models', {}, { id: 'seed-model', digest: 'sha256:' + 'a'.repeat(64) })
  t.equal(seeded.status, 201, 'a catalog with one entry to protect')
  const before = filesOf(root)
  const sessions = h.app.sessions.size
  const routes: Route[] = [
    {
      name: 'task',
      path: '/v1/tasks',
      valid: () => h.task({ prompt: 'Hi', seed: 1 }),
      fields: {
        task_id: 'string',
        session_id: 'string',
        workload: 'string',
        model_ref: 'string',
        engine: 'string',
        ctx: 'integer',
        priority: 'string',
        seed: 'integer',
        prompt: 'string',
        max_tokens: 'integer',
        deadline_ms: 'integer',
        inputs: 'array',
      },
      required: ['model_ref'],
    },
    {
      name: 'catalog',
      path: '/v1/catalog/models',
      valid: () => ({ id: 'fuzz-model', digest: 'sha256:' + 'b'.repeat(64), tags: ['x'] }),
      fields: { id: 'string', digest: 'string', source_url: 'string', tags: 'array', manifests: 'array', trust_policy: 'object' },
      required: ['id', 'digest'],
    },
    {
      name: 'reload',
      path: '/v1/pools/pool0/reload',
      valid: () => ({ new_model_ref: 'model0' }),
      fields: { new_model_ref: 'string' },
      required: ['new_model_ref'],
    },
  ]
  for (const r of routes) {
    await fc.assert(fc.asyncProperty(mutations(r), async (m) => {
      const res = await h.call('POST', r.path, {}, apply(r.valid(), m))
      const named = res.json.message as string
      return res.status >= 400 && res.status < 500 && res.json.code === 'INVALID_PARAMS' && named.includes(`/${m.field}`)
    }), { numRuns: 150, seed: 10 })
    t.pass(`${r.name}: 150 malformed bodies refused, each naming its field`)
  }
  t.same(filesOf(root), before, 'the catalog files are byte for byte as they were')
  t.equal(h.app.dataplane.inspect().queue('pool0')!.len(), 0, 'the queue is empty')
  t.equal(await h.metric(/^tasks_enqueued_total\{/), 0, 'no task was admitted')
  t.equal(h.app.sessions.size, sessions, 'no session was created')
  t.equal(h.app.pool.registry.get('pool0')!.state, 'Ready', 'the pool was not reloaded')
})
