import t from 'tap'
import { request } from 'undici'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawnCli, waitForOutput, cli } from '../../test/helpers/cli.js'
import { CONTRACT_METRICS } from '../../plugins/metrics/contract.js'
import { applyOverrides, isLoopback, serve } from '../server.js'
import { manifestOf } from '../../test/helpers/build.js'

const CANARY = 'sk-canary-0123456789abcdef'

t.test('serve answers health, readiness and metrics, echoes correlation ids, and stops on SIGTERM within 2 s', async (t) => {
  const child = spawnCli(t, ['serve', '--config', 'core/test/fixtures/fixture-adapter.yaml', '--port', '0', '--host', '127.0.0.1'])
  const [, url] = await waitForOutput(child, /orchestrator listens on (http:\/\/127\.0\.0\.1:\d+)/)
  const healthz = await request(`${url}/healthz`, { headers: { 'x-correlation-id': 'acc-1' } })
  t.equal(healthz.statusCode, 200)
  t.equal(healthz.headers['x-correlation-id'], 'acc-1')
  await healthz.body.dump()
  const readyz = await request(`${url}/readyz`)
  t.equal(readyz.statusCode, 503, 'the configured pool is not Ready')
  t.match(await readyz.body.json(), { ready: false, pools: [{ id: 'echo0', state: 'Unready' }] })
  const metrics = await request(`${url}/metrics`)
  const text = await metrics.body.text()
  t.match(String(metrics.headers['x-correlation-id']), /^[0-9a-f-]{36}$/)
  for (const name of Object.keys(CONTRACT_METRICS)) t.match(text, `# TYPE ${name} `, name)
  const lint = await cli('metrics', 'lint', '--url', `${url}/metrics`)
  t.equal(lint.code, 0, 'the live scrape passes the contract lint')

  const started = Date.now()
  child.proc.kill('SIGTERM')
  const { code } = await child.exited
  t.equal(code, 0)
  t.ok(Date.now() - started < 2000, `stopped in ${Date.now() - started} ms`)
  const out = child.output()
  t.match(out, /"action":"load","target":"orc-adapter-fixture"/)
  t.match(out, /"action":"stop".*"reason":"SIGTERM"/)
  t.notOk(out.includes(CANARY), 'the API key from the adapter options never reaches the logs')
  t.notOk(out.includes('canary'), 'not even a fragment of it')
})

t.test('a manifest naming an uninstalled npm package fails at start, naming the entry and the package', async (t) => {
  const file = join(await mkdtemp(join(tmpdir(), 'orc-serve-')), 'm.yaml')
  await writeFile(file, 'adapters:\n  - fixture-ok-but-missing-pkg\npools: []\n')
  const child = spawnCli(t, ['serve', '--config', file, '--port', '0'])
  const { code } = await child.exited
  t.equal(code, 1)
  t.match(child.output(), /\/adapters\/0: package "fixture-ok-but-missing-pkg" is not installed; install it next to llama-orch with `npm install fixture-ok-but-missing-pkg`/)
  t.notMatch(child.output(), /listens on/, 'nothing started')
})

t.test('flags beat LOG_* variables, which beat the manifest', async (t) => {
  const m = manifestOf({ server: { port: 1, host: '127.0.0.1', log_level: 'warn' } })
  const a = applyOverrides(m, { config: 'x', port: 2, host: '::1', env: { LOG_LEVEL: 'debug', LOG_FORMAT: 'pretty' } })
  t.same([a.server.port, a.server.host, a.server.log_level, a.server.log_format], [2, '::1', 'debug', 'pretty'])
  const b = applyOverrides(m, { config: 'x', env: { LOG_LEVEL: 'loud', LOG_FORMAT: 'xml' } })
  t.same([b.server.port, b.server.log_level, b.server.log_format], [1, 'warn', 'json'], 'unknown values are ignored')
  t.equal(m.server.port, 1, 'the manifest is not mutated')
  t.same(['localhost', '::1', '127.0.0.2', '0.0.0.0', '10.0.0.1'].map(isLoopback), [true, true, true, false, false])
})

t.test('in-process serve: a non-loopback bind warns, stop() is idempotent and resolves 0', async (t) => {
  const file = join(await mkdtemp(join(tmpdir(), 'orc-serve-')), 'm.yaml')
  await writeFile(file, 'server: { log_level: silent }\npools: []\n')
  const running = await serve({ config: file, port: 0, host: '0.0.0.0', env: {} })
  t.match(running.url, /^http:\/\//)
  const [first, second] = await Promise.all([running.stop('test'), running.stop('again')])
  t.equal(first, 0)
  t.equal(second, 0)
  t.equal(await running.stopped, 0)
})
