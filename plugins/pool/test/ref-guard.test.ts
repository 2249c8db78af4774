import t, { type Test } from 'tap'
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseRef } from '../../../lib/catalog-store/model-ref.js'
import { createRefGuard } from '../ref-guard.js'
import { notAModel, withoutFileBytes } from '../model-file.js'
import { createModelGate } from '../model-gate.js'

const SECRET = 'root:$6$s3cr3t:19000:0:99999:7:::'

async function dirs (t: Test) {
  const base = await mkdtemp(join(tmpdir(), 'orc-guard-'))
  t.teardown(() => rm(base, { recursive: true, force: true }))
  const root = join(base, 'root')
  const extra = join(base, 'extra')
  const outside = join(base, 'outside')
  for (const d of [root, extra, outside]) await mkdir(d)
  await writeFile(join(root, 'ok.gguf'), 'GGUF\x03\x00\x00\x00rest')
  await writeFile(join(extra, 'ok.gguf'), 'GGUF\x03\x00\x00\x00rest')
  await writeFile(join(outside, 'ok.gguf'), 'GGUF\x03\x00\x00\x00rest')
  await writeFile(join(outside, 'shadow'), SECRET)
  await writeFile(join(root, 'shadow.gguf'), SECRET)
  await symlink(join(outside, 'ok.gguf'), join(root, 'out.gguf'))
  await symlink(outside, join(root, 'outdir'))
  await symlink(join(extra, 'ok.gguf'), join(root, 'to-extra.gguf'))
  const guard = createRefGuard({ parse: (r) => parseRef(r, root), root, dirs: [extra], engine: 'llamacpp' })
  return { root, extra, outside, guard }
}

t.test('issue 10 #1: API refs resolve under the catalog root or catalog.model_dirs, symlinks followed', async (t) => {
  const { root, extra, outside, guard } = await dirs(t)
  const api = { confined: true }
  t.equal(await guard('ok.gguf', api), null, 'a relative ref under the root')
  t.equal(await guard(join(root, 'ok.gguf'), api), null, 'an absolute one')
  t.equal(await guard(`file:${join(extra, 'ok.gguf')}`, api), null, 'a file in an allowed model directory')
  t.equal(await guard('to-extra.gguf', api), null, 'a symlink from the root into an allowed directory')
  t.equal(await guard('not-staged-yet.gguf', api), null, 'a missing file under the root: the model gate reports it')
  t.equal(await guard('hf:org/repo/x.gguf', api), null, 'remote refs are staged under the root')
  for (const ref of [join(outside, 'shadow'), `file:${join(outside, 'ok.gguf')}`, 'out.gguf', 'outdir/ok.gguf', 'outdir/missing.gguf', '/etc/shadow']) {
    t.match(await guard(ref, api), /resolves \(symlinks followed\) outside the model directories; a model ref sent over the API must lie under the catalog root .* or under catalog\.model_dirs/, ref)
  }
  t.match(await guard('../x.gguf', api), /escapes the catalog root/, 'a ".." ref is refused by the parser')
  t.equal(await guard(`file:${join(outside, 'ok.gguf')}`, { confined: false }), null, 'the operator\'s configured ref may point anywhere')
})

t.test('issue 10 #1: a file that is no GGUF is refused for llama.cpp without quoting its bytes', async (t) => {
  const { root, outside, guard } = await dirs(t)
  const why = await guard('shadow.gguf', { confined: true })
  t.match(why, /^"shadow\.gguf" is not a GGUF model file \(it does not start with the GGUF magic\); engine llamacpp loads GGUF files$/)
  t.notMatch(why, /root|s3cr3t/)
  t.match(await guard(join(outside, 'shadow'), { confined: false }), /is not a GGUF model file/, 'an operator\'s ref too')
  t.match(await notAModel(root, 'llamacpp'), /it is a directory/)
  t.equal(await notAModel(join(root, 'shadow.gguf'), 'vllm'), null, 'engines without a known magic are not checked')
  t.equal(await notAModel(join(root, 'nope.gguf'), 'llamacpp'), null)
})

t.test('issue 10 #1: the model gate refuses before the catalog registers anything', async (t) => {
  const { guard } = await dirs(t)
  const seen: string[] = []
  const ensurePresent = async (ref: unknown) => {
    seen.push(String(ref))
    return { id: String(ref), local_path: String(ref), digest: null, lifecycle: 'Active' as const }
  }
  const gate = createModelGate({ ensurePresent }, 'llamacpp', guard)
  await t.rejects(gate('/etc/shadow', null, { confined: true }), { code: 'ORC_ERR_POOL_MODEL_REFUSED', message: /outside the model directories; .*nothing was registered$/ })
  await t.rejects(gate('shadow.gguf', null, { confined: false }), { message: /is not a GGUF model file/ })
  t.same(seen, [], 'ensurePresent (hash and register) never ran')
  await gate('ok.gguf', null, { confined: true })
  t.same(seen, ['ok.gguf'])
})

t.test('issue 10 #1: engine output quoting file bytes is withheld', async (t) => {
  t.equal(withoutFileBytes('Error: Expected "GGUF" but got "root"'), 'Error: Expected "GGUF" but got <file bytes withheld>')
  t.equal(withoutFileBytes("gguf_init: invalid magic characters: 'root', expected 'GGUF'"),
    "gguf_init: invalid magic characters: <file bytes withheld>, expected 'GGUF'")
})
