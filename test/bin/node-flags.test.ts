// The V8 heap flags bin/seismo.js gives the daemon (bin/node-flags.js): for `run` only, and a
// flag the user set wins. That a started daemon really runs with them is checked in
// test/observability/allocator.test.ts (the daemon's /proc/PID/cmdline).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module of the launcher, without type declarations
import { DAEMON_NODE_FLAGS, daemonNodeFlags } from '../../bin/node-flags.js';

describe('daemonNodeFlags', () => {
  it('gives `run` the heap flags, wherever its options stand', () => {
    expect(DAEMON_NODE_FLAGS.length).toBeGreaterThan(0);
    expect(daemonNodeFlags(['run', '-c', 'seismo.yaml'])).toEqual(DAEMON_NODE_FLAGS);
    expect(daemonNodeFlags(['--no-color', 'run'])).toEqual(DAEMON_NODE_FLAGS);
  });

  it('gives no other command any (train and evaluate hold whole data sets), nor a bare launcher call', () => {
    for (const args of [['train', '-c', 'x.yaml'], ['evaluate', '-c', 'run'], ['demo'], ['--version'], []]) expect(daemonNodeFlags(args)).toEqual([]);
  });

  it('leaves out a flag the user gave before the script or in NODE_OPTIONS, in either spelling, and keeps the others', () => {
    const [first, ...rest] = DAEMON_NODE_FLAGS as string[];
    const name = (first as string).split('=')[0] as string;
    expect(daemonNodeFlags(['run'], [`${name}=4096`])).toEqual(rest);
    expect(daemonNodeFlags(['run'], [], `--inspect ${name}=4096`)).toEqual(rest);
    expect(daemonNodeFlags(['run'], [], `${name.replaceAll('-', '_').replace('__', '--')}=4096`)).toEqual(rest);
    expect(daemonNodeFlags(['run'], ['--expose-gc'], '--trace-warnings')).toEqual(DAEMON_NODE_FLAGS);
  });
});

describe('the heap flags wherever Seismo starts', () => {
  const root = new URL('../../', import.meta.url).pathname;
  it('the image and the k8s Deployment set the launcher\'s flags in NODE_OPTIONS', () => {
    const expected = (DAEMON_NODE_FLAGS as string[]).join(' ');
    const dockerfile = readFileSync(`${root}Dockerfile`, 'utf8');
    expect(/NODE_OPTIONS="([^"]*)"/.exec(dockerfile)?.[1]).toBe(expected);
    const deployment = readFileSync(`${root}deploy/k8s/deployment.yaml`, 'utf8');
    expect(/\{ name: NODE_OPTIONS, value: "([^"]*)" \}/.exec(deployment)?.[1]).toBe(expected);
  });
});
