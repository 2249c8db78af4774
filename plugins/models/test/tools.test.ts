import t from 'tap'
import { existsSync, readFileSync, writeFileSync, chmodSync } from 'node:fs'
import { join } from 'node:path'
import { FETCH, fakeRunner, provisioner } from './helpers.js'
import { systemRunner } from '../tools.js'
import { formatBytes, progressBar, quarterReporter } from '../progress.js'
import { hfEndpoint } from '../hf.js'

t.test('HF CLI mode sets HF_HUB_ENABLE_HF_TRANSFER=1 and downloads into a local dir without symlinks (scenario 42, decision 13)', async (t) => {
  const runner = fakeRunner(['huggingface-cli'], { 'sub/m.gguf': 'weights', '.cache/huggingface/x': 'meta' })
  const { p, root, store } = provisioner(t, { runner, fetch: { ...FETCH, hf_cli: true, hf_endpoint: 'https://hub.example' } })
  const r = await p.ensurePresent('hf:org/repo@v2/sub/m.gguf')
  t.equal(runner.calls.length, 1)
  const call = runner.calls[0]!
  t.equal(call.cmd, '/usr/bin/huggingface-cli')
  t.equal(call.env.HF_HUB_ENABLE_HF_TRANSFER, '1')
  t.equal(call.env.HF_ENDPOINT, 'https://hub.example')
  t.same(call.args.slice(0, 5), ['download', 'org/repo', 'sub/m.gguf', '--revision', 'v2'])
  t.match(
    call.args.join(' '),
    new RegExp(`--local-dir ${root}/\\.staging/[0-9a-f]+/tree --local-dir-use-symlinks False$`),
    'a staging dir under the configured cache (not ~/.cache/models)'
  )
  t.equal(r.local_path, join(root, 'gguf/org/repo@v2/sub/m.gguf'))
  t.equal(readFileSync(r.local_path, 'utf8'), 'weights')
  t.match(store.get(r.id), { owned: true, lifecycle: 'Active' })
})

t.test('missing tools are named with how to install them, and the policy is checked before any tool (scenarios 40, 41)', async (t) => {
  const none = fakeRunner([])
  const { p } = provisioner(t, { runner: none, fetch: { ...FETCH, hf_cli: true } })
  await t.rejects(p.ensurePresent('hf:org/repo/m.gguf'), { code: 'ORC_ERR_MODEL_TOOL_MISSING', message: /huggingface-cli command, which is not on PATH; install python-huggingface-hub.*or use a file: ref/ })
  await t.rejects(p.ensurePresent('s3://bucket/models/m.plan'), { code: 'ORC_ERR_MODEL_TOOL_MISSING', message: /needs the aws command.*install the AWS CLI/ })
  await t.rejects(p.ensurePresent('oci://ghcr.io/org/model:v1'), { code: 'ORC_ERR_MODEL_TOOL_MISSING', message: /needs the oras command/ })
  const denied = fakeRunner(['huggingface-cli', 'aws', 'oras'])
  const { p: off } = provisioner(t, { runner: denied, fetch: { ...FETCH, hf_cli: true }, policy: { allow_outbound_network: false, outbound_allowlist: [] } })
  for (const ref of ['hf:org/repo/m.gguf', 's3://bucket/k', 'oci://ghcr.io/org/model:v1', 'https://example.com/m.gguf']) {
    await t.rejects(off.ensurePresent(ref), { code: 'ORC_ERR_MODEL_POLICY_DENIED', message: /policy\.allow_outbound_network/ }, ref)
  }
  t.same(denied.calls, [], 'no CLI call when the policy denies')
})

t.test('s3: and oci: stage through aws and oras into the Triton layout', async (t) => {
  const aws = fakeRunner(['aws'], { 'config.pbtxt': 'name: "m"', '1/model.plan': 'plan' })
  const { p, root } = provisioner(t, { runner: aws, env: { AWS_ENDPOINT_URL: 'http://minio.local:9000' }, policy: { allow_outbound_network: true, outbound_allowlist: ['minio.local'] } })
  const r = await p.ensurePresent('s3://bucket/models/m1/')
  t.same(aws.calls[0]!.args, ['s3', 'cp', 's3://bucket/models/m1/', join(root, '.staging', aws.calls[0]!.args[3]!.split('/').at(-2)!, 'tree'), '--recursive', '--only-show-errors'])
  t.equal(r.local_path, join(root, 'triton/bucket/models/m1'))
  t.equal(readFileSync(join(r.local_path, '1/model.plan'), 'utf8'), 'plan')
  const one = fakeRunner(['aws'], { '': 'single' })
  const { p: p1, root: r1 } = provisioner(t, { runner: one })
  const single = await p1.ensurePresent('s3://bucket/m.bin')
  t.equal(single.local_path, join(r1, 'triton/bucket/m.bin'))
  t.equal(readFileSync(single.local_path, 'utf8'), 'single')
  const oras = fakeRunner(['oras'], { 'model/config.pbtxt': 'x' })
  const { p: p2, root: r2 } = provisioner(t, { runner: oras })
  const o = await p2.ensurePresent('oci://ghcr.io:443/org/model:v1')
  t.same(oras.calls[0]!.args.slice(0, 2), ['pull', 'ghcr.io:443/org/model:v1'])
  t.equal(o.local_path, join(r2, 'triton/org/model@v1'))
  const failing = fakeRunner(['aws'], {}, 1)
  const { p: p3, store } = provisioner(t, { runner: failing })
  await t.rejects(p3.ensurePresent('s3://bucket/x.bin'), { code: 'ORC_ERR_MODEL_FETCH_FAILED', message: /exited with 1: AccessDenied/ })
  t.equal(store.get('s3://bucket/x.bin'), undefined)
})

t.test('the system runner finds tools on PATH and reports exit codes', async (t) => {
  const dir = t.testdir()
  writeFileSync(join(dir, 'fake-tool'), '#!/bin/sh\necho out; echo err >&2; exit 3\n')
  chmodSync(join(dir, 'fake-tool'), 0o755)
  const saved = process.env.PATH
  process.env.PATH = `${dir}:/nonexistent:`
  t.teardown(() => { process.env.PATH = saved })
  t.equal(await systemRunner.which('fake-tool'), join(dir, 'fake-tool'))
  t.equal(await systemRunner.which('no-such-tool'), null)
  t.same(await systemRunner.run(join(dir, 'fake-tool'), [], { env: {} }), { code: 3, stdout: 'out\n', stderr: 'err\n' })
  await t.rejects(systemRunner.run(join(dir, 'missing'), [], { env: {} }))
  t.notOk(existsSync(join(dir, 'x')))
})

t.test('progress: quarters for narration, a bar for terminals', async (t) => {
  const quarters: number[] = []
  const q = quarterReporter((pct) => quarters.push(pct))
  q({ id: 'm', file: 'a', bytes: 0, total: null })
  q({ id: 'm', file: 'a', bytes: 10, total: 100 })
  q({ id: 'm', file: 'b', bytes: 0, total: 100 })
  for (const n of [30, 60, 90, 100]) q({ id: 'm', file: 'a', bytes: n, total: 100 })
  q({ id: 'm', file: 'b', bytes: 100, total: 100 })
  t.same(quarters, [25, 50])
  const out: string[] = []
  let now = 0
  const bar = progressBar({ write: (s) => out.push(s), columns: 200 }, 'hf:o/r/f.gguf', () => now)
  bar.update({ id: 'm', file: 'a', bytes: 0, total: 2048 })
  now = 50
  bar.update({ id: 'm', file: 'a', bytes: 1024, total: 2048 })
  now = 1000
  bar.update({ id: 'm', file: 'a', bytes: 2048, total: 2048 })
  bar.done()
  t.equal(out.length, 4, 'throttled redraws, then a final line')
  t.match(out[2], /^\rhf:o\/r\/f\.gguf \[#{24}\] 100% 2\.0 KiB\/2\.0 KiB 2\.0 KiB\/s$/)
  t.equal(out.at(-1), '\n')
  const unknown: string[] = []
  const b2 = progressBar({ write: (s) => unknown.push(s) }, 'x')
  b2.done()
  b2.update({ id: 'm', file: 'a', bytes: 5, total: null })
  t.match(unknown[0], /\[downloading\] 5 B/)
  t.equal(formatBytes(3 * 1024 ** 3), '3.0 GiB')
  t.equal(hfEndpoint('https://mirror.example/', {}), 'https://mirror.example')
  t.equal(hfEndpoint(null, { HF_ENDPOINT: 'http://127.0.0.1:9' }), 'http://127.0.0.1:9')
  t.equal(hfEndpoint(undefined, {}), 'https://huggingface.co')
})
