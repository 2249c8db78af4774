import t from 'tap'
import { provisionProgress } from '../provision-progress.js'

t.test('provider progress is narrated once per step and at each quarter of a counted step (issue 12 #5)', async (t) => {
  const lines: string[] = []
  const on = provisionProgress('p', (_f, human) => { lines.push(human) })
  on({ step: 'git-clone' })
  on({ step: 'git-clone', line: 'Cloning…' })
  on({ step: 'cmake-build', done: 1, total: 200, unit: 'steps' })
  for (let i = 2; i <= 200; i++) on({ step: 'cmake-build', done: i, total: 200, unit: 'steps' })
  on({ step: 'cmake-build', line: 'no counter' })
  t.same(lines, [
    'pool p provisions its engine: git-clone',
    'pool p provisions its engine: cmake-build',
    'pool p provisions its engine: cmake-build 25%',
    'pool p provisions its engine: cmake-build 50%',
    'pool p provisions its engine: cmake-build 75%',
  ])
})
