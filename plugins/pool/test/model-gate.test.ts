import t from 'tap'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createModelGate, resolveLocalModel, sha256File } from '../model-gate.js'

t.test('the local model gate: file: refs, refs under the cache root, digests (D8, D17)', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'orc-gate-'))
  const file = join(root, 'm.gguf')
  await writeFile(file, 'model bytes')
  const digest = `sha256:${createHash('sha256').update('model bytes').digest('hex')}`
  t.equal(await sha256File(file), digest)
  t.same(await resolveLocalModel(`file:${file}`, '/elsewhere'), { id: `file:${file}`, local_path: file })
  t.same(await resolveLocalModel('m.gguf', root, digest), { id: `file:${file}`, local_path: file })
  await t.rejects(resolveLocalModel('file:m.gguf', root), { message: 'model ref "file:m.gguf": a file: ref must be an absolute path (file:/abs/model.gguf)' })
  await t.rejects(resolveLocalModel('../x.gguf', root), { message: `model ref "../x.gguf" escapes the model cache root ${root}; use a file: ref for files elsewhere` })
  await t.rejects(resolveLocalModel('hf:org/repo/x.gguf', root), { message: /fetching hf: refs needs the model provisioner, which is not enabled/ })
  await t.rejects(resolveLocalModel('gone.gguf', root), { message: `model file ${join(root, 'gone.gguf')} does not exist; generate the tiny model with \`llama-orch model tiny --out ${join(root, 'gone.gguf')}\` or fix the model ref` })
  await t.rejects(resolveLocalModel('m.gguf', root, `sha256:${'a'.repeat(64)}`), { message: new RegExp(`has digest ${digest}, but sha256:a{64} is expected`) })
  await t.rejects(resolveLocalModel('.', root), { message: /does not exist/ }, 'a directory is not a model file')
})

t.test('the gate uses app.models.ensurePresent when the model provisioner exists, else the local fallback', async (t) => {
  const seen: unknown[] = []
  let models: { ensurePresent: (ref: string, d?: string) => Promise<{ id: string, local_path: string }> } | undefined = {
    ensurePresent: async (ref, d) => { seen.push([ref, d]); return { id: 'hf:x', local_path: '/cache/x' } },
  }
  const gate = createModelGate(() => models, '/nowhere')
  t.same(await gate('hf:org/repo/x.gguf', 'sha256:1'), { id: 'hf:x', local_path: '/cache/x' })
  t.same(await gate('hf:org/repo/x.gguf', null), { id: 'hf:x', local_path: '/cache/x' })
  t.same(seen, [['hf:org/repo/x.gguf', 'sha256:1'], ['hf:org/repo/x.gguf', undefined]])
  models = undefined
  await t.rejects(gate('missing.gguf'), { message: /does not exist/ })
})
