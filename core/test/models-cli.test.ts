import t from 'tap'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { cli, spawnCli } from '../../test/helpers/cli.js'
import { modelsCli } from '../models-cli.js'
import { fakeRunner, hub } from '../../plugins/models/test/helpers.js'
import { sha } from '../../plugins/models/test/crash-helpers.js'

function config (dir: string, policy: Record<string, unknown>, hfEndpoint?: string): string {
  const file = join(dir, 'orch.json')
  writeFileSync(file, JSON.stringify({
    pools: [],
    policy,
    catalog: { root: join(dir, 'models'), ...(hfEndpoint ? { fetch: { hf_endpoint: hfEndpoint } } : {}) },
  }))
  return file
}

t.test('llama-orch models pull from a local fake hub: right digest → Active; wrong digest → both digests named, nothing kept (acceptance)', async (t) => {
  const h = await hub(t)
  const data = Buffer.alloc(150_000, 9)
  const digest = h.put('org/repo', 'tiny.gguf', data, { lfs: true })
  const dir = t.testdir()
  const cfg = config(dir, { allow_outbound_network: true })
  const good = spawnCli(t, ['models', 'pull', 'hf:org/repo/tiny.gguf', '--digest', digest, '--config', cfg], { HF_ENDPOINT: h.url })
  t.equal((await good.exited).code, 0, good.output())
  t.match(good.output(), `hf:org/repo/tiny.gguf  Active  ${digest}  ${join(dir, 'models/gguf/org/repo/tiny.gguf')}`)
  t.match(good.output(), /registers hf:org\/repo\/tiny\.gguf Active/, 'narrated on stderr (not a terminal)')
  t.equal(sha(readFileSync(join(dir, 'models/gguf/org/repo/tiny.gguf'))), digest)
  const listed = await cli('models', 'list', '--json', '--config', cfg)
  t.match(JSON.parse(listed.out.join('\n')), [{ id: 'hf:org/repo/tiny.gguf', state: 'Active', digest, trust_state: 'verified' }])

  const wrong = `sha256:${'e'.repeat(64)}`
  const other = h.put('org/repo', 'other.gguf', Buffer.alloc(10_000, 1), { lfs: true })
  const bad = spawnCli(t, ['models', 'pull', 'hf:org/repo/other.gguf', '--digest', wrong, '--config', cfg], { HF_ENDPOINT: h.url })
  t.equal((await bad.exited).code, 1)
  t.match(bad.output(), `digest mismatch for hf:org/repo/other.gguf: expected ${wrong}, got ${other}`)
  t.notOk(existsSync(join(dir, 'models/gguf/org/repo/other.gguf')), 'no file left in the cache')
  t.same(readdirSync(join(dir, 'models/.staging')).filter((f) => !f.endsWith('.lock')), [], 'no staging leftovers')
  t.same((await cli('models', 'list', '--json', '--config', cfg)).out.join('').includes('other.gguf'), false, 'no entry')
})

t.test('with allow_outbound_network: false an hf: pull fails at once naming the setting (acceptance)', async (t) => {
  const dir = t.testdir()
  const cfg = config(dir, { allow_outbound_network: false }, 'http://127.0.0.1:9')
  const started = Date.now()
  const denied = spawnCli(t, ['models', 'pull', 'hf:org/repo/m.gguf', '--config', cfg])
  t.equal((await denied.exited).code, 1)
  t.match(denied.output(), /policy\.allow_outbound_network is false; set policy\.allow_outbound_network: true in the manifest/)
  t.ok(Date.now() - started < 20_000)
  const direct = await cli('models', 'pull', 'hf:org/repo/m.gguf', '--root', join(dir, 'r2'))
  t.equal(direct.code, 1, 'without a config the default policy denies too')
  t.match(direct.err.join('\n'), /allow_outbound_network/)
})

t.test('models list / verify / rm share the endpoint code', async (t) => {
  const dir = t.testdir({ 'm.gguf': 'tiny model' })
  const root = join(dir, 'root')
  const empty = await cli('models', 'list', '--root', root)
  t.same(empty.out, [`no models in the catalog at ${root}`])
  const pulled = await cli('models', 'pull', join(dir, 'm.gguf'), '--root', root, '--json')
  t.equal(pulled.code, 0, pulled.err.join('\n'))
  const id = `file:${join(dir, 'm.gguf')}`
  t.match(JSON.parse(pulled.out[0]!), { id, lifecycle: 'Active' })
  const list = await cli('models', 'list', '--root', root)
  t.match(list.out[0], new RegExp(`^file:.*m\\.gguf  Active  warned  10 B  sha256:[0-9a-f]{12}…  ${dir}/m\\.gguf$`))
  const ok = await cli('models', 'verify', id, '--root', root)
  t.same([ok.code, ok.out], [0, [`${id}: pass (digest_match)`]])
  writeFileSync(join(dir, 'm.gguf'), 'changed!!')
  const failed = await cli('models', 'verify', id, '--root', root, '--json')
  t.equal(failed.code, 1)
  t.match(JSON.parse(failed.out[0]!), { verification: { result: 'fail', reason: 'digest_mismatch' }, trust_state: 'unverified' })
  t.equal((await cli('models', 'verify', id, '--root', root)).err[0], `${id}: fail (digest_mismatch)`)
  const rm = await cli('models', 'rm', id, '--root', root)
  t.same(rm.out, [`removed ${id} (its files are not the catalog's and were kept)`])
  t.ok(existsSync(join(dir, 'm.gguf')))
  const again = await cli('models', 'rm', id, '--root', root)
  t.equal(again.code, 1)
  t.match(again.err[0], /no model/)
  t.equal((await cli('models', 'verify', 'nope', '--root', root)).code, 1)
})

t.test('usage errors exit 2; help exits 0', async (t) => {
  t.equal((await cli('models')).code, 0)
  t.equal((await cli('models', '--help')).code, 0)
  for (const argv of [['models', 'frob'], ['models', 'pull'], ['models', 'list', 'x'], ['models', 'rm', 'a', 'b'], ['models', 'list', '--bogus']]) {
    const r = await cli(...argv)
    t.equal(r.code, 2, argv.join(' '))
    t.match(r.err.join('\n'), /Usage:/)
  }
  t.match((await cli('--help')).out.join('\n'), /llama-orch models list\|pull REF\|verify ID\|rm ID/)
})

t.test('pull draws a progress bar on a terminal; rm removes files the catalog downloaded', async (t) => {
  const runner = fakeRunner(['aws'], { '': 'object bytes' })
  const dir = t.testdir()
  const cfg = config(dir, { allow_outbound_network: true })
  const drawn: string[] = []
  const out: string[] = []
  const err: string[] = []
  const io = { out: (l: string) => { out.push(l) }, err: (l: string) => { err.push(l) } }
  const code = await modelsCli(['pull', 's3://bucket/m.bin', '--config', cfg], io, { runner, env: {}, tty: { isTTY: true, write: (s) => drawn.push(s) } })
  t.equal(code, 0, err.join('\n'))
  t.match(out[0], /^s3:\/\/bucket\/m\.bin {2}Active/)
  t.same(err.filter((l) => !/unverified/.test(l)), [], 'info narration stays off the terminal while a bar is shown')
  const h = await hub(t)
  h.put('plain', 'f.bin', Buffer.alloc(1000, 2))
  const bar = await modelsCli(['pull', `${h.url}/plain/f.bin`, '--config', cfg], io, {
    env: {},
    tty: { isTTY: true, write: (s) => drawn.push(s), columns: 80 },
  })
  t.equal(bar, 0)
  t.match(drawn.join(''), /\[#+\] 100%/)
  const failing = await modelsCli(['pull', `${h.url}/plain/none.bin`, '--config', cfg], io, { env: {}, tty: { isTTY: true, write: (s) => drawn.push(s) } })
  t.equal(failing, 1)
  const removed: string[] = []
  const rmCode = await modelsCli(['rm', 's3://bucket/m.bin', '--config', cfg], { out: (l) => removed.push(l), err: (l) => removed.push(l) })
  t.equal(rmCode, 0)
  t.same(removed, ['removed s3://bucket/m.bin and its files'])
  t.notOk(existsSync(join(dir, 'models/triton/bucket/m.bin')))
})
