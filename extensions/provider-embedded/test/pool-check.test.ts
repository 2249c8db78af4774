import t from 'tap'
import type { PoolConfig } from '../../../sdk/pool-config.js'
import { manifestOf } from '../../../test/helpers/build.js'
import { embeddedPoolIssues } from '../pool-check.js'
import { extension } from '../index.js'

const poolOf = (flags: string[] | null, over: Record<string, unknown> = {}): PoolConfig =>
  manifestOf({
    pools: [{ id: 'p', engine: 'llamacpp', model: 'tiny', devices: [], provisioning: { mode: 'embedded', compute_policy: 'cpu-only', flags }, ...over }],
  }).pools[0]!

t.test('issue 10 #14: the descriptor declares what the provider handles and checks its pools', async (t) => {
  t.same(extension.handles, [{ engine: 'llamacpp', mode: 'embedded' }])
  t.equal(extension.checkPool, embeddedPoolIssues)
})

t.test('issue 10 #14: the flags prepare() passes on are accepted, in either spelling', async (t) => {
  t.same(embeddedPoolIssues(poolOf(null)), [])
  t.same(embeddedPoolIssues(poolOf(['-t', '2', '-np', '3', '-c', '512', '--metrics'])), [])
  t.same(embeddedPoolIssues(poolOf(['--parallel', '2', '--ctx-size', '512'], { slots_total: 2, ctx: 512 })), [], 'equal to the pool fields')
})

t.test('issue 10 #14: every flag the worker never sees is refused, naming it', async (t) => {
  t.same(embeddedPoolIssues(poolOf(['--mlock', '--n-gpu-layers', '20', '--no-mmap'])).map((i) => i.path),
    ['/provisioning/flags/0', '/provisioning/flags/1', '/provisioning/flags/3'], 'a value goes with its unknown flag')
  t.match(embeddedPoolIssues(poolOf(['--mlock'])), [{ message: /^"--mlock" is not passed on by the embedded provider \(it honours only --threads/ }])
  t.match(embeddedPoolIssues(poolOf(['--threads=4'])), [{ message: /^write "--threads=4" as two entries \("--threads", "4"\)/ }])
  t.match(embeddedPoolIssues(poolOf(['--foo=bar'])), [{ message: /^"--foo=bar" is not passed on/ }])
  t.same(embeddedPoolIssues(poolOf(['-t'])), [{ path: '/provisioning/flags/0', message: '-t needs a positive integer as the next entry, got nothing' }])
  t.same(embeddedPoolIssues(poolOf(['-t', '0'])), [{ path: '/provisioning/flags/0', message: '-t needs a positive integer as the next entry, got "0"' }])
  t.same(embeddedPoolIssues(poolOf(['-np', '4'], { slots_total: 2 })),
    [{ path: '/provisioning/flags/0', message: '-np 4 contradicts the pool\'s slots_total 2, which wins; remove the flag or make them equal' }])
  t.same(embeddedPoolIssues(poolOf(['-c', '64', '--ctx-size', '64'])),
    [{ path: '/provisioning/flags/2', message: 'sets --ctx-size a second time (first at /provisioning/flags/0); only the first would be used, remove one' }])
})
