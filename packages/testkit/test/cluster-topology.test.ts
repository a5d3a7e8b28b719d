import { describe, expect, it } from 'vitest'
import { parseClusterNodes, uncoveredSlots } from '../src/cluster-topology.js'

describe('CLUSTER NODES parsing', () => {
  it('reads roles, flags, masters and slots, leaving out migration markers', () => {
    const text = [
      'a1 127.0.0.1:30001@40001 myself,master - 0 0 1 connected 0-5460 [5461->-b2]',
      'b2 127.0.0.1:30002@40002,host-b master,fail? - 1 2 2 connected 5461 5462-10922',
      'c3 127.0.0.1:30004@40004 slave a1 0 3 1 disconnected',
      '',
    ].join('\n')
    const [a, b, c] = parseClusterNodes(text)
    expect(a).toMatchObject({ id: 'a1', port: 30001, role: 'master', myself: true, failing: false, slots: [[0, 5460]] })
    expect(b).toMatchObject({
      host: '127.0.0.1',
      port: 30002,
      failing: true,
      slots: [
        [5461, 5461],
        [5462, 10922],
      ],
    })
    expect(c).toMatchObject({ role: 'replica', masterId: 'a1', linkState: 'disconnected', slots: [] })
  })

  it('finds the slots no range covers', () => {
    expect(uncoveredSlots([[0, 16383]])).toEqual([])
    expect(
      uncoveredSlots([
        [100, 200],
        [0, 50],
      ]),
    ).toEqual([
      [51, 99],
      [201, 16383],
    ])
  })
})
