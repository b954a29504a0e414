import { mkdirSync, mkdtempSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { Flag } from '../../src/domain/types.js';
import { trainFromData } from '../../src/jobs/train-job.js';
import { saveArtifact } from '../../src/model/artifact.js';
import { levelShiftStream, MODEL_YAML, REFIT_YAML } from '../refit/level-shift.js';
import { bootstrap, caughtUp, createTopics, daemonTracker, kafkaClient, readTopic, readTopicCount, unique, waitFor } from './harness.js';

// Refit against the broker: the daemon consumes a readings topic whose normal level shifts,
// refits, scores the candidate in shadow and promotes it. Shadow flags must reach only the
// shadow topic (`<flags topic>.shadow`), all marked; the flags topic carries no shadow flag,
// and after the promotion its flags come from the candidate.
const tracker = daemonTracker();
afterAll(() => tracker.stopAll());

describe.skipIf(!bootstrap)('refit with the Kafka source and sink', () => {
  it('candidate flags go to the shadow topic only; the live flags topic switches model at the promotion', { timeout: 300_000 }, async () => {
    const dir = realpathSync(mkdtempSync(join(tmpdir(), 'seismo-refit-kafka-')));
    const models = join(dir, 'models');
    mkdirSync(models);
    const all = levelShiftStream(3000);
    const trained = await trainFromData(parseConfig(MODEL_YAML, 'refit.yaml'), { byEntity: new Map([['pump', all.slice(0, 300)]]), features: ['a', 'b'], poison: [] });
    const v1 = trained.artifact.manifest.version;
    await saveArtifact(join(models, 'v1'), trained.artifact);
    symlinkSync(join(models, 'v1'), join(models, 'current'));

    const topic = unique('refit-readings');
    const flags = unique('refit-flags');
    const dlq = unique('refit-dlq');
    const group = unique('refit-group');
    await createTopics([{ topic, partitions: 1 }, { topic: flags, partitions: 1 }, { topic: `${flags}.shadow`, partitions: 1 }, { topic: dlq, partitions: 1 }]);
    const producer = kafkaClient().producer();
    await producer.connect();
    for (let i = 0; i < all.length; i += 500) {
      await producer.send({ topic, messages: all.slice(i, i + 500).map((r) => ({ key: r.entity, value: JSON.stringify(r) })) });
    }
    await producer.disconnect();

    const config = join(dir, 'run.yaml');
    writeFileSync(
      config,
      `${MODEL_YAML}artifactDir: ${join(models, 'current')}\nhttp:\n  port: 0\nsource:\n  kind: kafka\n  topics: [${topic}]\n  groupId: ${group}\n  sessionTimeoutMs: 8000\n` +
        `sink:\n  kind: kafka\n  topic: ${flags}\n  deadLetterTopic: ${dlq}\nkafka:\n  brokers: ["${bootstrap}"]\n  retryMaxMs: 2000\nlog:\n  level: info\n${REFIT_YAML}  dir: ${join(dir, 'refit')}\n`,
    );
    const d = tracker.daemon(config);
    await waitFor(() => d.lines.some((l) => /^refit 1: promoted/.test(String(l.msg))), `the promotion; log:\n${d.log()}`, 240_000);
    await waitFor(() => caughtUp(group, topic), 'the group to catch up');
    expect(await d.metric('seismo_refits_total', 'stage="promoted"')).toBe(1);
    expect(await d.metric('seismo_refit_shadow_flags_total')).toBeGreaterThan(0);
    expect(await d.stop()).toBe(0);

    const promoted = d.lines.find((l) => /^refit 1: promoted/.test(String(l.msg)));
    const candidate = promoted?.model as string;
    expect(candidate).not.toBe(v1);
    const parse = (msgs: { value: Buffer | null }[]) => msgs.map((m) => JSON.parse(m.value?.toString('utf8') ?? '') as Flag);
    const read = async (t: string) => {
      const n = await readTopicCount(t);
      return parse(await readTopic(t, (msgs) => msgs.length >= n, 30_000));
    };
    const live = await read(flags);
    const shadow = await read(`${flags}.shadow`);
    expect(shadow.length).toBeGreaterThan(0);
    expect(shadow.every((f) => f.shadow === true && f.model === candidate)).toBe(true);
    expect(live.some((f) => f.shadow !== undefined)).toBe(false);
    expect(live.some((f) => f.model === v1)).toBe(true);
    expect(live.some((f) => f.model === candidate && f.state === 'open')).toBe(true);
  });
});
