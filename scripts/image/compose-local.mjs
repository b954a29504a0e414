#!/usr/bin/env node
// Runs deploy/docker-compose.yml's own services (the ones built from this repo's Dockerfile:
// trainer, seismo, producer) with plain podman commands, against a Kafka broker you already
// have, on a machine where `docker compose` / podman-compose cannot run the whole file: the
// third-party images (Kafka, Prometheus, Grafana) come from Docker Hub, which is not reachable
// here. Everything else is read from the compose file (entrypoints, commands, volumes,
// environment, depends_on conditions, stop_grace_period), so the two cannot drift apart.
//
// Differences from `docker compose up`, all forced by running without the compose network:
//  * host networking: the broker is --bootstrap (SEISMO_KAFKA_BROKERS overrides the config's
//    kafka:9092), and Seismo listens on --http-port of the host (SEISMO_HTTP_PORT);
//  * the `topics` service (a kafka-topics.sh one-shot in the Kafka image) is replaced by the
//    same topic creation through kafkajs' admin client;
//  * `kafka`, `prometheus`, `grafana` are not run (listed on stderr with the reason).
//
// Usage:
//   node scripts/image/compose-local.mjs up --bootstrap HOST:PORT [--http-port 9464] [--project seismo]
//   node scripts/image/compose-local.mjs down [--project seismo] [--volumes]
//   env: SEISMO_IMAGE (default localhost/seismo:latest; `npm run image:build` makes it), PODMAN
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { Kafka, logLevel } from 'kafkajs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const deployDir = path.join(root, 'deploy');
const composeFile = path.join(deployDir, 'docker-compose.yml');
const PODMAN = process.env.PODMAN || 'podman';
const IMAGE = process.env.SEISMO_IMAGE || 'localhost/seismo:latest';
const runWrapper = path.join(here, 'run.sh');

const log = (msg) => process.stderr.write(`[compose-local] ${msg}\n`);
function die(msg) {
  log(`ERROR: ${msg}`);
  process.exit(1);
}

function parseArgs(argv) {
  const [command, ...rest] = argv;
  if (command !== 'up' && command !== 'down') die('usage: compose-local.mjs up --bootstrap HOST:PORT [--http-port N] [--project NAME] | down [--project NAME] [--volumes]');
  const opts = { command, bootstrap: '', httpPort: '', project: '', volumes: false };
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    const value = () => rest[++i] ?? die(`${a} needs a value`);
    if (a === '--bootstrap') opts.bootstrap = value();
    else if (a === '--http-port') opts.httpPort = value();
    else if (a === '--project') opts.project = value();
    else if (a === '--volumes') opts.volumes = true;
    else die(`unknown argument ${a}`);
  }
  if (command === 'up' && !/^[^:]+:\d+$/.test(opts.bootstrap)) die('up needs --bootstrap HOST:PORT (a running Kafka broker)');
  if (opts.httpPort && !/^\d+$/.test(opts.httpPort)) die(`--http-port must be a number, got ${opts.httpPort}`);
  return opts;
}

function podman(args, { allowFail = false } = {}) {
  const r = spawnSync(PODMAN, args, { encoding: 'utf8' });
  if (r.error) die(`${PODMAN} not runnable: ${r.error.message}`);
  if (r.status !== 0 && !allowFail) die(`${PODMAN} ${args.join(' ')} exited ${r.status}: ${r.stderr.trim()}`);
  return r;
}

const compose = parse(readFileSync(composeFile, 'utf8'));
const services = compose.services ?? {};
const ours = Object.keys(services).filter((name) => services[name].build !== undefined);
const containerName = (project, service) => `${project}-${service}-1`;

/** Services in an order that starts every dependency first. */
function startOrder(names) {
  const order = [];
  const visit = (name, trail) => {
    if (order.includes(name)) return;
    if (trail.includes(name)) die(`depends_on cycle: ${[...trail, name].join(' -> ')}`);
    for (const dep of Object.keys(services[name]?.depends_on ?? {})) if (names.includes(dep)) visit(dep, [...trail, name]);
    order.push(name);
  };
  for (const n of names) visit(n, []);
  return order;
}

/** compose volume entries -> podman -v values: named volumes get the project prefix. */
function volumeArgs(project, svc) {
  return (svc.volumes ?? []).flatMap((v) => {
    const [src, ...restParts] = String(v).split(':');
    const isPath = src.startsWith('.') || src.startsWith('/');
    const host = isPath ? path.resolve(deployDir, src) : `${project}_${src}`;
    return ['-v', [host, ...restParts].join(':')];
  });
}

function envArgs(svc, opts) {
  const env = Array.isArray(svc.environment)
    ? Object.fromEntries(svc.environment.map((e) => String(e).split(/=(.*)/s).slice(0, 2)))
    : { ...(svc.environment ?? {}) };
  env.SEISMO_KAFKA_BROKERS = opts.bootstrap;
  if (opts.httpPort) env.SEISMO_HTTP_PORT = opts.httpPort;
  return Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
}

function runArgs(project, name, svc, opts, detached) {
  const args = [detached ? '-d' : '--rm', '--name', containerName(project, name), '--network', 'host',
    '--label', `io.podman.compose.project=${project}`,
    ...envArgs(svc, opts), ...volumeArgs(project, svc)];
  if (svc.init === true) args.push('--init');
  if (svc.healthcheck?.disable === true) args.push('--no-healthcheck');
  if (svc.entrypoint) args.push('--entrypoint', JSON.stringify([].concat(svc.entrypoint)));
  args.push(IMAGE);
  if (svc.command) args.push(...[].concat(svc.command).map(String));
  return args;
}

function graceSeconds(svc) {
  const m = /^(\d+)s$/.exec(String(svc.stop_grace_period ?? '10s'));
  return m ? Number(m[1]) : 10;
}

/** What the compose file's `topics` service does, through kafkajs instead of kafka-topics.sh. */
async function createTopics(opts) {
  const config = parse(readFileSync(path.join(deployDir, 'compose', 'seismo.yaml'), 'utf8'));
  const topics = [...(config.source?.topics ?? []), config.sink?.topic, config.sink?.deadLetterTopic].filter(Boolean);
  const partitions = Number(services.kafka?.environment?.KAFKA_NUM_PARTITIONS ?? 4);
  const admin = new Kafka({ clientId: 'compose-local', brokers: [opts.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 3 } }).admin();
  try {
    await admin.connect();
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t));
    if (missing.length > 0) {
      await admin.createTopics({ topics: missing.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })), waitForLeaders: true });
    }
    log(`topics: ${topics.join(', ')} ready on ${opts.bootstrap} (${missing.length} created, ${partitions} partitions)`);
  } catch (err) {
    die(`cannot create the topics on ${opts.bootstrap}: ${err.message}`);
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

async function waitHealthy(name, seconds = 180) {
  const until = Date.now() + seconds * 1000;
  for (;;) {
    const state = podman(['inspect', '--format', '{{.State.Status}}', name], { allowFail: true }).stdout.trim();
    if (state !== 'running') die(`${name} is ${state || 'gone'} before it became healthy:\n${podman(['logs', '--tail', '20', name], { allowFail: true }).stderr}`);
    if (podman(['healthcheck', 'run', name], { allowFail: true }).status === 0) return;
    if (Date.now() > until) die(`${name} not healthy after ${seconds}s`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function up(opts) {
  const project = opts.project || compose.name || 'seismo';
  if (podman(['image', 'exists', IMAGE], { allowFail: true }).status !== 0) die(`image ${IMAGE} not found: run npm run image:build first`);
  for (const name of Object.keys(services)) {
    if (ours.includes(name)) continue;
    const why = name === 'kafka' ? `replaced by the broker at ${opts.bootstrap}`
      : name === 'topics' ? 'replaced by the same topic creation through kafkajs'
        : 'not run: third-party image from Docker Hub, which this machine cannot reach';
    log(`${name} (${services[name].image}): ${why}`);
  }
  const started = [];
  for (const name of startOrder(ours)) {
    const svc = services[name];
    for (const [dep, { condition } = {}] of Object.entries(svc.depends_on ?? {})) {
      if (dep === 'topics') await createTopics(opts);
      else if (dep === 'kafka') continue; // the broker is --bootstrap; createTopics proves it answers
      else if (condition === 'service_healthy') {
        log(`waiting for ${dep} to be healthy (its image's HEALTHCHECK)`);
        await waitHealthy(containerName(project, dep));
      }
      // service_completed_successfully: one-shot services run in the foreground below.
    }
    const oneShot = Object.values(services).some((s) => s.depends_on?.[name]?.condition === 'service_completed_successfully');
    log(`${oneShot ? 'running' : 'starting'} ${name}`);
    const r = spawnSync('bash', [runWrapper, ...runArgs(project, name, svc, opts, !oneShot)], { encoding: 'utf8', stdio: oneShot ? ['ignore', 'inherit', 'inherit'] : 'pipe' });
    if (r.status !== 0) die(`${name} exited ${r.status}${r.stderr ? `: ${r.stderr.trim()}` : ''}`);
    if (!oneShot) started.push(name);
  }
  log(`up: ${started.map((n) => containerName(project, n)).join(', ')}; stop with: node scripts/image/compose-local.mjs down --project ${project}`);
}

function down(opts) {
  const project = opts.project || compose.name || 'seismo';
  const codes = {};
  for (const name of startOrder(ours).reverse()) {
    const c = containerName(project, name);
    if (podman(['container', 'exists', c], { allowFail: true }).status !== 0) continue;
    podman(['stop', '--time', String(graceSeconds(services[name])), c], { allowFail: true });
    codes[name] = Number(podman(['inspect', '--format', '{{.State.ExitCode}}', c]).stdout.trim());
    podman(['rm', '--force', c], { allowFail: true });
  }
  if (opts.volumes) {
    for (const v of Object.keys(compose.volumes ?? {})) podman(['volume', 'rm', '--force', `${project}_${v}`], { allowFail: true });
  }
  // One JSON line on stdout: each stopped service's exit code. Seismo drains on SIGTERM and
  // exits 0; a job still running (the producer) ends by the signal: 143 is its normal stop.
  process.stdout.write(`${JSON.stringify({ exitCodes: codes })}\n`);
  const failed = Object.entries(codes).filter(([name, c]) => c !== 0 && !(c === 143 && services[name]?.init === true));
  if (failed.length > 0) {
    log(`did not stop cleanly: ${failed.map(([n, c]) => `${n} exit ${c}`).join(', ')}`);
    process.exitCode = 1;
  }
}

const opts = parseArgs(process.argv.slice(2));
if (opts.command === 'up') await up(opts);
else down(opts);
