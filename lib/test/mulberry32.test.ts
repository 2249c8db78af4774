import t from 'tap'
import { mulberry32 } from '../mulberry32.js'

t.test('mulberry32: the reference sequence for seed 1, and one sequence per seed', async (t) => {
  const a = mulberry32(1)
  t.same([a(), a(), a()], [0.6270739405881613, 0.002735721180215478, 0.5274470399599522])
  const b = mulberry32(1)
  const c = mulberry32(2)
  const xs = Array.from({ length: 100 }, () => b())
  t.ok(xs.every((x) => x >= 0 && x < 1), 'in [0, 1)')
  t.notSame(Array.from({ length: 3 }, () => c()), xs.slice(0, 3), 'another seed, another sequence')
})
