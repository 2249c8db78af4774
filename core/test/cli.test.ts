import t from 'tap'
import { BUILTINS } from '../builtins.js'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cli } from '../../test/helpers/cli.js'
import { fakeMetricsServer } from '../../test/helpers/fake-metrics.js'
import { build } from '../../test/helpers/build.js'
import { PACKAGE_VERSION } from '../../lib/package-root.js'
import { createContractRegistry } from '../../plugins/metrics/registry.js'

const tmpFile = async (name: string, text: string): Promise<string> => {
  const file = join(await mkdtemp(join(tmpdir(), 'orc-cli-')), name)
  await writeFile(file, text)
  return file
}

t.test('--help, --version and unknown commands', async (t) => {
  const help = await cli('--help')
  t.equal(help.code, 0)
  t.match(help.out[0], /^llama-orch \d+\.\d+\.\d+: a self-hosted LLM orchestrator/)
  t.match(help.out[0], /serve --config FILE \[--port N\] \[--host H\]/)
  t.equal((await cli()).code, 0)
  t.same(await cli('--version'), { code: 0, out: [PACKAGE_VERSION], err: [] })
  const bad = await cli('frobnicate')
  t.equal(bad.code, 2)
  t.match(bad.err[0], /^llama-orch: unknown command "frobnicate"/)
})

t.test('config check accepts a valid file and names all problems of an invalid one on stderr', async (t) => {
  const good = await cli('config', 'check', 'examples/quickstart.yaml')
  // the quick start's `llamacpp` adapter is a built-in of the adapters issue: until it is merged, say so precisely
  if ('llamacpp' in BUILTINS.adapter) t.same(good, { code: 0, out: ['examples/quickstart.yaml: valid (1 pool, 1 adapter, 1 provider)'], err: [] })
  else t.match(good.err.join('\n'), /\/adapters\/0: package "llamacpp" is not installed/)
  const file = await tmpFile('bad.yaml', [
    'server:', '  port: high', '  colour: blue', 'pools:', '  - id: p0', '    model: m', '    devices: [0]', '',
  ].join('\n'))
  const bad = await cli('config', 'check', file)
  t.equal(bad.code, 1)
  t.same(bad.out, [])
  t.same(bad.err, [
    `${file}: invalid (3 problems)`,
    '/pools/0/engine: is required (line 5)',
    '/server/colour: is not a known key; known keys here: host, port, log_level, log_format, body_limit_bytes, shutdown_timeout_ms, run_dir (line 3)',
    '/server/port: must be an integer (line 2)',
  ])
})

t.test('config check resolves extensions and checks that every pool engine is served', async (t) => {
  const good = await cli('config', 'check', 'core/test/fixtures/fixture-adapter.yaml')
  t.same(good.out, ['core/test/fixtures/fixture-adapter.yaml: valid (1 pool, 1 adapter, 0 providers)'])
  const missing = await tmpFile('m.yaml', 'adapters: [orc-adapter-nowhere]\npools: []\n')
  const res = await cli('config', 'check', missing)
  t.equal(res.code, 1)
  t.match(res.err[1], /^\/adapters\/0: package "orc-adapter-nowhere" is not installed/)
  const uncovered = await tmpFile('u.yaml',
    'adapters: [orc-adapter-fixture]\npools: [{ id: p, engine: vllm, model: m, devices: [0], provisioning: { mode: external, ports: [8000] } }]\n')
  t.match((await cli('config', 'check', uncovered)).err, [/invalid \(1 problem\)/, /^\/pools\/0\/engine: no enabled adapter serves engine "vllm"/])
})

t.test('config check usage errors and unreadable files', async (t) => {
  t.equal((await cli('config', 'check')).code, 2)
  t.equal((await cli('config', 'check', 'a', 'b')).code, 2)
  const gone = await cli('config', 'check', '/nonexistent/x.yaml')
  t.equal(gone.code, 1)
  t.match(gone.err[0], /cannot read the manifest \/nonexistent\/x\.yaml: no such file/)
})

t.test('config schema and metrics contract print their JSON documents', async (t) => {
  const schema = await cli('config', 'schema')
  t.equal(JSON.parse(schema.out[0]!).title, 'llama-orch manifest')
  const contract = await cli('metrics', 'contract')
  t.equal(JSON.parse(contract.out[0]!).required_metrics.length, 15)
})

t.test('metrics lint exits 0 against the server and non-zero against a broken endpoint', async (t) => {
  const { app } = await build(t)
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  const ok = await cli('metrics', 'lint', '--url', `${url}/metrics`)
  t.equal(ok.code, 0)
  t.match(ok.out.at(-1), /metrics lint: OK \(15 contract metrics checked/)

  const full = await createContractRegistry([50]).registry.metrics()
  const missing = await fakeMetricsServer(t, full.replace(/^# (HELP|TYPE) tokens_out_total .*$/gm, ''))
  const m = await cli('metrics', 'lint', '--url', missing)
  t.equal(m.code, 1)
  t.same(m.err, ['missing: tokens_out_total has no # TYPE line', 'metrics lint: FAILED (1 problem)'])

  const extra = await fakeMetricsServer(t, `${full}\ntasks_rejected_total{engine="vllm",reason="ADMISSION_REJECT",pool_id="p0"} 1\n`)
  const e = await cli('metrics', 'lint', '--url', extra, '--json')
  t.equal(e.code, 1)
  t.same(JSON.parse(e.out[0]!).label_mismatch, [{ metric: 'tasks_rejected_total', expected: ['engine', 'reason'], found: ['engine', 'pool_id', 'reason'] }])

  const contractFile = await tmpFile('c.json', JSON.stringify({
    schema_version: 1,
    required_metrics: [{ name: 'only_me', type: 'gauge', labels: [], help: '' }],
    label_cardinality_budget: {},
    allowed_unlisted_prefixes: [],
  }))
  const custom = await cli('metrics', 'lint', '--url', `${url}/metrics`, '--contract', contractFile)
  t.equal(custom.code, 1, 'a custom contract is honoured')
  t.match(custom.err, ['missing: only_me has no # TYPE line'])

  t.equal((await cli('metrics', 'lint')).code, 2, '--url is required')
  const down = await cli('metrics', 'lint', '--url', 'http://127.0.0.1:1/metrics')
  t.equal(down.code, 1)
  t.match(down.err[0], /^llama-orch: /)
})

t.test('serve validates its flags before starting', async (t) => {
  t.match(await cli('serve'), { code: 2, err: [/serve needs --config FILE/] })
  t.match(await cli('serve', '--config', 'x.yaml', '--port', 'http'), { code: 2, err: [/--port must be an integer 0\.\.65535, got "http"/] })
  t.match(await cli('serve', '--config', 'x.yaml', '--bogus'), { code: 2, err: [/Unknown option '--bogus'/] })
  t.match(await cli('serve', '--config', '/nonexistent.yaml'), { code: 1, err: [/cannot read the manifest/] })
})
