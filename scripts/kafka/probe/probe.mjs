// kafkajs <-> broker interop probe. Not part of the app; run by scripts/kafka/probe.sh.
// Usage: node probe.mjs [bootstrap]   (default 127.0.0.1:9092)
// Exits 0 only if every check passes; prints one PASS/FAIL line per check and a summary.
import { Kafka, logLevel, CompressionTypes } from 'kafkajs'
import { execFileSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'

const BOOT = process.argv[2] || process.env.KAFKA_BOOTSTRAP || '127.0.0.1:9092'
const RUN = randomUUID().slice(0, 8)
const TOPIC = `probe-${RUN}`
const KCAT_TOPIC = `probe-kcat-${RUN}`
const errors = []
const used = new Map() // "ApiName" -> Set(versions) actually sent by kafkajs
const logCreator = () => ({ namespace, level, log }) => {
  if (level <= logLevel.ERROR) errors.push(`${namespace}: ${log.message}${log.error ? ' / ' + log.error : ''}`)
  const m = /^Request (\w+)\(key: (\d+), version: (\d+)\)/.exec(log.message || '')
  if (m) { const k = `${m[1]}(${m[2]})`; if (!used.has(k)) used.set(k, new Set()); used.get(k).add(Number(m[3])) }
}
const kafka = new Kafka({ clientId: 'seismo-probe', brokers: [BOOT], logLevel: logLevel.DEBUG, logCreator,
  retry: { retries: 5, initialRetryTime: 200 } })

const results = []
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
async function check(name, fn) {
  const t0 = Date.now()
  try {
    const info = await fn()
    results.push({ name, ok: true })
    console.log(`PASS ${name} (${Date.now() - t0}ms)${info ? ' — ' + info : ''}`)
  } catch (e) {
    results.push({ name, ok: false })
    console.log(`FAIL ${name} (${Date.now() - t0}ms) — ${e?.name}: ${e?.message}${e?.type ? ' [' + e.type + ']' : ''}`)
  }
}
function assert(c, msg) { if (!c) throw new Error(msg) }
async function until(pred, ms, what) {
  const end = Date.now() + ms
  while (Date.now() < end) { if (await pred()) return; await sleep(100) }
  throw new Error(`timeout waiting for ${what}`)
}

const admin = kafka.admin()
await check('admin.connect + describeCluster', async () => {
  await admin.connect()
  const c = await admin.describeCluster()
  assert(c.brokers.length === 1, 'expected 1 broker')
  return `cluster ${c.clusterId}, controller ${c.controller}`
})

await check('admin.createTopics (3 partitions, waitForLeaders)', async () => {
  const created = await admin.createTopics({ waitForLeaders: true, topics: [
    { topic: TOPIC, numPartitions: 3, replicationFactor: 1 },
    { topic: KCAT_TOPIC, numPartitions: 1, replicationFactor: 1 },
  ] })
  assert(created === true, 'createTopics returned ' + created)
  const md = await admin.fetchTopicMetadata({ topics: [TOPIC] })
  assert(md.topics[0].partitions.length === 3, 'partitions != 3')
  const list = await admin.listTopics()
  assert(list.includes(TOPIC), 'listTopics missing topic')
  return `${TOPIC}: 3 partitions`
})

await check('admin.describeConfigs (topic)', async () => {
  const r = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: TOPIC }] })
  const seg = r.resources[0].configEntries.find((e) => e.configName === 'segment.bytes')
  return `segment.bytes=${seg?.configValue}`
})

const N = 30
const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
await check('idempotent producer send (acks -1) + sendBatch + gzip', async () => {
  await producer.connect()
  const msgs = Array.from({ length: N - 10 }, (_, i) => ({ key: `k${i % 7}`, value: JSON.stringify({ i }) }))
  const r1 = await producer.send({ topic: TOPIC, acks: -1, messages: msgs })
  const r2 = await producer.sendBatch({ acks: -1, compression: CompressionTypes.GZIP, topicMessages: [
    { topic: TOPIC, messages: Array.from({ length: 10 }, (_, i) => ({ key: `b${i}`, value: JSON.stringify({ i: N - 10 + i }) })) },
  ] })
  const parts = new Set([...r1, ...r2].map((x) => x.partition))
  return `records metadata for partitions ${[...parts].sort()}`
})

await check('auto.create.topics: produce to unknown topic -> created with num.partitions', async () => {
  const t = `probe-auto-${RUN}`
  await producer.send({ topic: t, acks: -1, messages: [{ value: 'x', headers: { h: 'v' } }] })
  const md = await admin.fetchTopicMetadata({ topics: [t] })
  await admin.deleteTopics({ topics: [t] })
  return `${md.topics[0].partitions.length} partitions`
})

await check('admin.fetchTopicOffsets / fetchTopicOffsetsByTimestamp (ListOffsets)', async () => {
  const offs = await admin.fetchTopicOffsets(TOPIC)
  const total = offs.reduce((s, p) => s + Number(p.high) - Number(p.low), 0)
  assert(total === N, `expected ${N} records, got ${total}`)
  const byTs = await admin.fetchTopicOffsetsByTimestamp(TOPIC, Date.now() - 60_000)
  assert(byTs.length === 3, 'byTs partitions')
  return `high watermarks ${offs.map((p) => p.high).join(',')}`
})

const GROUP = `probe-g-${RUN}`
// NB kafkajs semantics: commitOffsetsIfNecessary() only commits when autoCommitInterval or
// autoCommitThreshold is reached, so with autoCommit:false it never commits. Pattern A below
// (autoCommit + threshold 1) commits from inside eachBatch; pattern B commits explicitly.
await check('consumer group A: eachBatch + resolveOffset + commitOffsetsIfNecessary (autoCommitThreshold 1)', async () => {
  const consumer = kafka.consumer({ groupId: GROUP, sessionTimeout: 10000, heartbeatInterval: 1000 })
  await consumer.connect()
  await consumer.subscribe({ topic: TOPIC, fromBeginning: true })
  const seen = new Set()
  let commits = 0
  consumer.on(consumer.events.COMMIT_OFFSETS, () => { commits++ })
  await consumer.run({
    autoCommit: true, autoCommitThreshold: 1, autoCommitInterval: null,
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale }) => {
      for (const m of batch.messages) {
        if (!isRunning() || isStale()) break
        seen.add(JSON.parse(m.value.toString()).i)
        resolveOffset(m.offset)
      }
      await commitOffsetsIfNecessary()
      await heartbeat()
    },
  })
  await until(() => seen.size === N, 30000, `${N} messages (have ${seen.size})`)
  await until(async () => {
    const r = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] })
    return r[0].partitions.reduce((s, p) => s + Number(p.offset), 0) === N
  }, 10000, 'committed offsets to reach ' + N + ' while member is active')
  await consumer.disconnect()
  return `consumed ${seen.size}, ${commits} OffsetCommit events`
})

await check('admin.fetchOffsets (OffsetFetch) == committed after leave', async () => {
  const r = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] })
  const committed = r[0].partitions.reduce((s, p) => s + Number(p.offset), 0)
  assert(committed === N, `committed sum ${committed} != ${N}`)
  return r[0].partitions.map((p) => `${p.partition}:${p.offset}`).join(' ')
})

await check('consumer group B: autoCommit:false + explicit consumer.commitOffsets (offset+1)', async () => {
  const G = `probe-gb-${RUN}`
  const consumer = kafka.consumer({ groupId: G, sessionTimeout: 10000, heartbeatInterval: 1000 })
  await consumer.connect()
  await consumer.subscribe({ topic: TOPIC, fromBeginning: true })
  let n = 0
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch, heartbeat }) => {
      n += batch.messages.length
      const last = batch.messages[batch.messages.length - 1]
      if (last) await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(last.offset) + 1n).toString() }])
      await heartbeat()
    },
  })
  await until(() => n >= N, 30000, 'messages')
  await consumer.disconnect()
  const r = await admin.fetchOffsets({ groupId: G, topics: [TOPIC] })
  const committed = r[0].partitions.reduce((s, p) => s + Number(p.offset), 0)
  assert(committed === N, `committed sum ${committed} != ${N}`)
  await admin.deleteGroups([G])
  return `committed ${r[0].partitions.map((p) => `${p.partition}:${p.offset}`).join(' ')}`
})

await check('admin.describeGroups + listGroups', async () => {
  const d = await admin.describeGroups([GROUP])
  const g = d.groups[0]
  assert(g.groupId === GROUP && g.errorCode === 0, 'describeGroups error ' + g.errorCode)
  const l = await admin.listGroups()
  assert(l.groups.some((x) => x.groupId === GROUP), 'listGroups missing group')
  return `state=${g.state} protocolType=${g.protocolType}`
})

// NB kafkajs resetOffsets({earliest:true}) commits the sentinel -2, which a kafkajs consumer treats
// as "no offset" and then applies its own fromBeginning; setOffsets with real offsets is exact.
await check('admin.resetOffsets (commits -2 sentinel) + setOffsets(0) -> group re-reads from start', async () => {
  await admin.resetOffsets({ groupId: GROUP, topic: TOPIC, earliest: true })
  let r = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] })
  assert(r[0].partitions.every((p) => p.offset === '-2'), 'resetOffsets: ' + JSON.stringify(r[0].partitions))
  await admin.setOffsets({ groupId: GROUP, topic: TOPIC, partitions: [0, 1, 2].map((partition) => ({ partition, offset: '0' })) })
  r = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] })
  assert(r[0].partitions.every((p) => p.offset === '0'), 'setOffsets: ' + JSON.stringify(r[0].partitions))
  const c = kafka.consumer({ groupId: GROUP })
  let n = 0
  try {
    await c.connect(); await c.subscribe({ topic: TOPIC, fromBeginning: false })
    await c.run({ eachMessage: async () => { n++ } })
    await until(() => n >= N, 30000, `re-read ${N} (have ${n})`)
  } finally { await c.disconnect() }
  return `re-read ${n}`
})

await check('two consumers in one group -> rebalance splits 3 partitions; leave -> back to 1', async () => {
  const G2 = `probe-rb-${RUN}`
  const assign = new Map() // name -> partitions
  const mk = (name) => {
    const c = kafka.consumer({ groupId: G2, sessionTimeout: 10000, heartbeatInterval: 500, rebalanceTimeout: 15000 })
    c.on(c.events.GROUP_JOIN, (e) => assign.set(name, (e.payload.memberAssignment[TOPIC] || []).slice().sort()))
    return c
  }
  const got = { c1: 0, c2: 0 }
  const c1 = mk('c1'); const c2 = mk('c2')
  await c1.connect(); await c1.subscribe({ topic: TOPIC, fromBeginning: true })
  await c1.run({ eachMessage: async () => { got.c1++ } })
  await until(() => (assign.get('c1') || []).length === 3, 20000, 'c1 owns 3 partitions')
  await c2.connect(); await c2.subscribe({ topic: TOPIC, fromBeginning: true })
  await c2.run({ eachMessage: async () => { got.c2++ } })
  await until(() => (assign.get('c2') || []).length > 0 && (assign.get('c1') || []).length + (assign.get('c2') || []).length === 3, 30000, 'split assignment')
  const split = `c1=${assign.get('c1')} c2=${assign.get('c2')}`
  const overlap = assign.get('c1').filter((p) => assign.get('c2').includes(p))
  assert(overlap.length === 0, 'overlapping assignment')
  // produce more so both members receive something
  await producer.send({ topic: TOPIC, acks: -1, messages: Array.from({ length: 30 }, (_, i) => ({ key: `r${i}`, value: JSON.stringify({ i: 1000 + i }) })) })
  await until(() => got.c2 > 0 && got.c1 > 0, 20000, 'both members receive')
  await c2.disconnect()
  await until(() => (assign.get('c1') || []).length === 3, 30000, 'c1 takes all partitions back')
  await c1.disconnect()
  return `${split}; after c2 leaves c1=${assign.get('c1')}; received c1=${got.c1} c2=${got.c2}`
})

const kcat = (args, input) => execFileSync('kcat', ['-b', BOOT, ...args], { input, encoding: 'utf8', timeout: 30000 })
await check('kcat -P -> kafkajs consumer', async () => {
  kcat(['-P', '-t', KCAT_TOPIC, '-K:'], 'a:one\nb:two\nc:three\n')
  const c = kafka.consumer({ groupId: `probe-kc-${RUN}` })
  await c.connect(); await c.subscribe({ topic: KCAT_TOPIC, fromBeginning: true })
  const vals = []
  await c.run({ eachMessage: async ({ message }) => { vals.push(`${message.key}:${message.value}`) } })
  await until(() => vals.length === 3, 20000, 'kcat messages')
  await c.disconnect()
  assert(vals.join(',') === 'a:one,b:two,c:three', vals.join(','))
  return vals.join(',')
})

await check('kafkajs idempotent producer -> kcat -C', async () => {
  await producer.send({ topic: KCAT_TOPIC, acks: -1, messages: [{ key: 'd', value: 'four' }, { key: 'e', value: 'five' }] })
  const out = kcat(['-C', '-t', KCAT_TOPIC, '-o', 'beginning', '-e', '-q', '-f', '%k:%s\n'])
  const lines = out.trim().split('\n')
  assert(lines.join(',') === 'a:one,b:two,c:three,d:four,e:five', lines.join(','))
  return lines.join(',')
})

await check('transactional producer (extra, not required)', async () => {
  const tp = kafka.producer({ transactionalId: `probe-tx-${RUN}`, idempotent: true, maxInFlightRequests: 1 })
  await tp.connect()
  const tx = await tp.transaction()
  await tx.send({ topic: KCAT_TOPIC, messages: [{ key: 'tx', value: 'committed' }] })
  await tx.commit()
  await tp.disconnect()
})

await check('admin.createPartitions + deleteGroups + deleteTopics', async () => {
  await admin.createPartitions({ topicPartitions: [{ topic: KCAT_TOPIC, count: 2 }] })
  await admin.deleteGroups([GROUP])
  await admin.deleteTopics({ topics: [TOPIC, KCAT_TOPIC] })
})

await producer.disconnect().catch(() => {})
await admin.disconnect().catch(() => {})
const failed = results.filter((r) => !r.ok)
console.log('API versions kafkajs sent: ' + [...used].map(([k, v]) => `${k} v${[...v].join('/')}`).sort().join(', '))
if (errors.length) console.log('kafkajs ERROR logs (first 10):\n  ' + errors.slice(0, 10).join('\n  '))
console.log(`\n${results.length - failed.length} passed, ${failed.length} failed`)
process.exit(failed.length ? 1 : 0)
