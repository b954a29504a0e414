import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = new URL('../../', import.meta.url).pathname;
const rulesFile = `${root}deploy/prometheus/alerts.yml`;

interface Rule {
  alert: string;
  expr: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

const rules = (parse(readFileSync(rulesFile, 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);

/** GitHub's heading anchors: lower case, spaces to dashes, punctuation dropped. */
function anchors(markdown: string): Set<string> {
  return new Set(
    markdown
      .split('\n')
      .filter((l) => /^#{1,6} /.test(l))
      .map((l) => l.replace(/^#+ /, '').trim().toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-')),
  );
}

describe('Prometheus alert rules', () => {
  it('pass promtool check rules', () => {
    const r = spawnSync('promtool', ['check', 'rules', rulesFile], { encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`SUCCESS: ${rules.length} rules found`);
  });

  it('pass their promtool unit tests (each alert fires for one instance and not for another)', () => {
    const r = spawnSync('promtool', ['test', 'rules', 'alerts.test.yml'], { cwd: `${root}deploy/prometheus`, encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const tested = new Set([...readFileSync(`${root}deploy/prometheus/alerts.test.yml`, 'utf8').matchAll(/alertname: (\w+)/g)].map((m) => m[1]));
    expect([...tested].sort()).toEqual(rules.map((x) => x.alert).sort());
  });

  it('cover what on-call needs, each with a severity, a summary and a runbook section that exists', () => {
    const names = rules.map((x) => x.alert);
    for (const needed of ['SeismoDown', 'SeismoKafkaLagHigh', 'SeismoDeadLetterRate', 'SeismoNoReadings', 'SeismoFlagStorm', 'SeismoNativeBackendMissing', 'SeismoScoreDrift', 'SeismoModelStale', 'SeismoNotReady', 'SeismoProcessingErrors', 'SeismoEntitiesEvicted']) {
      expect(names).toContain(needed);
    }
    const runbook = anchors(readFileSync(`${root}docs/runbook.md`, 'utf8'));
    for (const rule of rules) {
      expect(['page', 'ticket'], rule.alert).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary, rule.alert).toBeTruthy();
      const url = rule.annotations?.runbook_url ?? '';
      expect(url, rule.alert).toMatch(/^docs\/runbook\.md#/);
      expect(runbook.has(url.split('#')[1] ?? ''), `${rule.alert}: ${url}`).toBe(true);
    }
  });
});
