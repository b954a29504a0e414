#!/usr/bin/env node
// Builds @tensorflow/tfjs-node's native addon from source against the
// TensorFlow shared libraries and C headers shipped in the tensorflow-cpu
// wheel on PyPI, instead of the prebuilt download that tfjs-node's own
// installer tries (and which this network cannot reach). See docs/NATIVE.md.
//
// Usage: node scripts/native/install-tfjs-native.mjs [--root DIR] [--force] [--check]
//   --root DIR  project root holding node_modules (default: two levels above this file)
//   --force     rebuild even if the addon already loads
//   --check     only report whether the native backend loads (exit 0/1)
// Environment:
//   SEISMO_TF_VERSION          tensorflow-cpu version to use (default below)
//   SEISMO_CACHE_DIR           cache root (default $XDG_CACHE_HOME/seismo or ~/.cache/seismo)
//   SEISMO_SKIP_TFJS_NATIVE=1  do nothing (e.g. a machine that does not need the native backend)
//   PYTHON                     python interpreter with pip (default python3)

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const TF_VERSION = process.env.SEISMO_TF_VERSION || '2.12.1';
// The wheel is only unpacked, never imported, so its Python tag need not match
// the local interpreter; 2.12.x .. 2.15.x publish cp311 wheels.
const WHEEL_PYTHON = process.env.SEISMO_TF_WHEEL_PYTHON || '3.11';
// manylinux2014 (glibc 2.17) covers 2.12..2.20; newer releases are tagged manylinux_2_27.
const WHEEL_PLATFORMS = ['manylinux2014_x86_64', 'manylinux_2_27_x86_64', 'manylinux_2_28_x86_64'];
const STAMP_NAME = '.seismo-native.json';
const TAG = '[tfjs-native]';

const here = path.dirname(fileURLToPath(import.meta.url));
const started = Date.now();

function log(msg) {
  console.log(`${TAG} ${msg}`);
}

function fail(msg, detail) {
  console.error(`${TAG} ERROR: ${msg}`);
  if (detail) console.error(String(detail).trimEnd());
  console.error(`${TAG} See docs/NATIVE.md. Set SEISMO_SKIP_TFJS_NATIVE=1 to skip this step.`);
  process.exit(1);
}

function parseArgs(argv) {
  const opts = { root: path.resolve(here, '..', '..'), force: false, check: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--force') opts.force = true;
    else if (a === '--check') opts.check = true;
    else if (a === '--root') opts.root = path.resolve(argv[++i] ?? '.');
    else if (a.startsWith('--root=')) opts.root = path.resolve(a.slice(7));
    else if (a === '-h' || a === '--help') {
      console.log('usage: install-tfjs-native.mjs [--root DIR] [--force] [--check]');
      process.exit(0);
    } else fail(`unknown argument ${a}`);
  }
  return opts;
}

function run(cmd, args, { cwd, env, capture = false } = {}) {
  const r = spawnSync(cmd, args, {
    cwd,
    env: env ?? process.env,
    stdio: capture ? ['ignore', 'pipe', 'pipe'] : ['ignore', 'inherit', 'inherit'],
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) return { status: 127, stdout: '', stderr: String(r.error) };
  return { status: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

function findTfjsNode(root) {
  try {
    const req = createRequire(path.join(root, 'package.json'));
    return path.dirname(req.resolve('@tensorflow/tfjs-node/package.json'));
  } catch {
    return null;
  }
}

// Loads tfjs-node in a child process and runs one op on the native backend.
function probe(root) {
  const code = `
    const tf = require('@tensorflow/tfjs-node');
    const b = tf.getBackend();
    if (b !== 'tensorflow') { console.error('backend is ' + b); process.exit(2); }
    const s = tf.tensor1d([1, 2, 3]).add(1).sum().dataSync()[0];
    if (s !== 9) { console.error('wrong result ' + s); process.exit(3); }
    console.log(JSON.stringify({ backend: b, tf: tf.backend().binding.TF_Version }));`;
  const r = run(process.execPath, ['-e', code], {
    cwd: root,
    capture: true,
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: process.env.TF_CPP_MIN_LOG_LEVEL ?? '2' },
  });
  const line = r.stdout.trim().split('\n').pop() || '';
  if (r.status === 0) {
    try {
      return { ok: true, ...JSON.parse(line) };
    } catch {
      /* fall through */
    }
  }
  return { ok: false, output: (r.stderr + r.stdout).trim() };
}

function readStamp(tfjsDir) {
  try {
    return JSON.parse(fs.readFileSync(path.join(tfjsDir, 'deps', STAMP_NAME), 'utf8'));
  } catch {
    return null;
  }
}

function cacheRoot() {
  if (process.env.SEISMO_CACHE_DIR) return path.resolve(process.env.SEISMO_CACHE_DIR);
  const xdg = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(xdg, 'seismo');
}

function findPython() {
  const candidates = [process.env.PYTHON, 'python3', 'python'].filter(Boolean);
  for (const py of candidates) {
    const r = run(py, ['-m', 'pip', '--version'], { capture: true });
    if (r.status === 0) return py;
  }
  fail('no Python with pip found (tried ' + candidates.join(', ') + '). ' +
    'Install one, e.g. `apt-get install -y python3-pip`, or set PYTHON.');
}

function findWheel(dir) {
  if (!fs.existsSync(dir)) return null;
  const prefix = `tensorflow_cpu-${TF_VERSION}-`;
  const hit = fs.readdirSync(dir).find((f) => f.startsWith(prefix) && f.endsWith('.whl'));
  return hit ? path.join(dir, hit) : null;
}

function ensureWheel(py) {
  const dir = path.join(cacheRoot(), 'wheels');
  let wheel = findWheel(dir);
  if (wheel) {
    log(`using cached wheel ${wheel}`);
    return wheel;
  }
  fs.mkdirSync(dir, { recursive: true });
  log(`downloading tensorflow-cpu==${TF_VERSION} wheel (~230 MB) into ${dir}`);
  const r = run(py, [
    '-m', 'pip', 'download', `tensorflow-cpu==${TF_VERSION}`,
    '--no-deps', '--only-binary=:all:',
    '--python-version', WHEEL_PYTHON, '--implementation', 'cp',
    ...WHEEL_PLATFORMS.flatMap((p) => ['--platform', p]),
    '--disable-pip-version-check',
    '-d', dir,
  ]);
  wheel = findWheel(dir);
  if (r.status !== 0 || !wheel) fail(`pip download of tensorflow-cpu==${TF_VERSION} failed (exit ${r.status})`);
  return wheel;
}

// Python helper: copies the two TensorFlow libraries out of the wheel, and the
// transitive closure of headers that tfjs-node's binding sources include.
const EXTRACT_PY = String.raw`
import os, re, shutil, sys, zipfile
whl, libdir, incdir, srcdir = sys.argv[1:5]
INC = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]', re.M)
PREFIX = 'tensorflow/include/'
LIBS = ['tensorflow/libtensorflow_cc.so.2', 'tensorflow/libtensorflow_framework.so.2']
z = zipfile.ZipFile(whl)
names = set(z.namelist())
for m in LIBS:
    if m not in names:
        sys.exit('wheel has no ' + m + ' (tensorflow-cpu < 2.12 keeps the C API inside a Python extension)')
    dst = os.path.join(libdir, os.path.basename(m))
    with z.open(m) as src, open(dst, 'wb') as out:
        shutil.copyfileobj(src, out, 1 << 20)
    os.chmod(dst, 0o755)
todo = []
for f in sorted(os.listdir(srcdir)):
    if f.endswith(('.cc', '.h')):
        with open(os.path.join(srcdir, f), encoding='utf-8', errors='replace') as fh:
            todo += INC.findall(fh.read())
seen, copied = set(), 0
while todo:
    h = os.path.normpath(todo.pop())
    if h in seen:
        continue
    seen.add(h)
    m = PREFIX + h
    if m not in names:
        continue  # system, Node or binding-local header
    data = z.read(m)
    dst = os.path.join(incdir, h)
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    with open(dst, 'wb') as out:
        out.write(data)
    copied += 1
    todo += INC.findall(data.decode('utf-8', 'replace'))
for need in ('tensorflow/c/c_api.h', 'tensorflow/c/eager/c_api.h'):
    if not os.path.exists(os.path.join(incdir, need)):
        sys.exit('wheel lacks header ' + need)
print(copied)
`;

function symlink(target, linkPath) {
  fs.rmSync(linkPath, { force: true });
  fs.symlinkSync(target, linkPath);
}

function stageDeps(py, wheel, tfjsDir, retry = true) {
  const deps = path.join(tfjsDir, 'deps');
  const libDir = path.join(deps, 'lib');
  const incDir = path.join(deps, 'include');
  fs.rmSync(deps, { recursive: true, force: true });
  fs.mkdirSync(libDir, { recursive: true });
  fs.mkdirSync(incDir, { recursive: true });
  log(`extracting libraries and C headers into ${path.relative(process.cwd(), deps) || deps}`);
  const r = run(py, ['-c', EXTRACT_PY, wheel, libDir, incDir, path.join(tfjsDir, 'binding')], { capture: true });
  if (r.status !== 0) {
    if (retry && /BadZipFile|zipfile|Bad magic|CRC/i.test(r.stderr)) {
      log(`cached wheel ${wheel} looks corrupt: deleting it and downloading again`);
      fs.rmSync(wheel, { force: true });
      return stageDeps(py, ensureWheel(py), tfjsDir, false);
    }
    fail('extracting the wheel failed', r.stderr + r.stdout);
  }
  log(`  ${r.stdout.trim()} headers, libtensorflow_cc.so.2 + libtensorflow_framework.so.2`);
  // binding.gyp links with -ltensorflow -ltensorflow_framework and an rpath of
  // $ORIGIN/../../deps/lib; the linker records the real SONAMEs
  // (libtensorflow_cc.so.2, libtensorflow_framework.so.2), which live there.
  // The *.so.2.9.1 names are what tfjs-node's own scripts/install.js looks for,
  // so a later `npm rebuild` of tfjs-node builds instead of downloading.
  symlink('libtensorflow_cc.so.2', path.join(libDir, 'libtensorflow.so'));
  symlink('libtensorflow_cc.so.2', path.join(libDir, 'libtensorflow.so.2'));
  symlink('libtensorflow_framework.so.2', path.join(libDir, 'libtensorflow_framework.so'));
  let tfjsLibVersion = '2.9.1';
  try {
    tfjsLibVersion = createRequire(path.join(tfjsDir, 'package.json'))('./scripts/deps-constants.js').LIBTENSORFLOW_VERSION;
  } catch { /* keep default */ }
  symlink('libtensorflow_cc.so.2', path.join(libDir, `libtensorflow.so.${tfjsLibVersion}`));
  symlink('libtensorflow_framework.so.2', path.join(libDir, `libtensorflow_framework.so.${tfjsLibVersion}`));
}

function findNodeGyp(root) {
  const tries = [];
  try {
    tries.push(createRequire(path.join(root, 'package.json')).resolve('node-gyp/bin/node-gyp.js'));
  } catch { /* not a project dependency */ }
  if (process.env.npm_config_node_gyp) tries.push(process.env.npm_config_node_gyp);
  // node-gyp bundled with npm, next to the running node
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  tries.push(path.join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  const npmRoot = run('npm', ['root', '-g'], { capture: true });
  if (npmRoot.status === 0) {
    tries.push(path.join(npmRoot.stdout.trim(), 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  }
  const hit = tries.find((p) => p && fs.existsSync(p));
  if (!hit) fail('node-gyp not found (neither in node_modules nor bundled with npm); add it as a devDependency');
  return hit;
}

// node-gyp would download Node's headers from the internet unless it is given
// a local directory that has them (installed together with node).
function findNodeDir() {
  const cands = [process.env.npm_config_nodedir, path.resolve(path.dirname(process.execPath), '..')];
  for (const d of cands) {
    if (d && fs.existsSync(path.join(d, 'include', 'node', 'node_api.h')) &&
        fs.existsSync(path.join(d, 'include', 'node', 'common.gypi'))) return d;
  }
  const ver = process.versions.node;
  const cached = path.join(os.homedir(), '.cache', 'node-gyp', ver);
  if (fs.existsSync(path.join(cached, 'include', 'node', 'node_api.h'))) return cached;
  fail(`no local Node.js headers (include/node/node_api.h) next to ${process.execPath}; ` +
    'node-gyp cannot download them here. Install Node from a package that ships its headers.');
}

function checkTools() {
  for (const [tool, arg] of [['g++', '--version'], ['make', '--version']]) {
    if (run(tool, [arg], { capture: true }).status !== 0) {
      fail(`${tool} not found: install a C++ toolchain (apt-get install -y g++ make)`);
    }
  }
}

function build(root, tfjsDir) {
  const nodeGyp = findNodeGyp(root);
  const nodeDir = findNodeDir();
  const preGyp = createRequire(path.join(tfjsDir, 'package.json')).resolve('@mapbox/node-pre-gyp/bin/node-pre-gyp');
  log(`building addon from source (node-pre-gyp + ${nodeGyp}, headers from ${nodeDir}) ...`);
  fs.rmSync(path.join(tfjsDir, 'build'), { recursive: true, force: true });
  fs.rmSync(path.join(tfjsDir, 'lib'), { recursive: true, force: true });
  const jobs = String(Math.max(1, os.availableParallelism?.() ?? os.cpus().length));
  const r = run(process.execPath, [
    preGyp, 'rebuild', '--build-from-source', '--build-latest-napi-version-only', '--loglevel=warn',
    `--nodedir=${nodeDir}`, `--jobs=${jobs}`,
  ], {
    cwd: tfjsDir,
    env: { ...process.env, npm_config_node_gyp: nodeGyp, npm_config_nodedir: nodeDir, JOBS: jobs },
  });
  if (r.status !== 0) fail(`building the addon failed (exit ${r.status})`);
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (process.env.SEISMO_SKIP_TFJS_NATIVE === '1') {
    log('SEISMO_SKIP_TFJS_NATIVE=1: skipping');
    return;
  }
  const tfjsDir = findTfjsNode(opts.root);
  if (!tfjsDir) fail(`@tensorflow/tfjs-node is not installed under ${opts.root}/node_modules (run npm ci first)`);

  const stamp = readStamp(tfjsDir);
  if (!opts.force) {
    const p = probe(opts.root);
    if (p.ok && (opts.check || !stamp || stamp.tensorflow === TF_VERSION)) {
      log(`native backend OK (TensorFlow ${p.tf}); nothing to do`);
      return;
    }
    if (opts.check) fail('native backend does not load', p.output);
    if (p.ok) log(`addon built against TensorFlow ${stamp.tensorflow}, want ${TF_VERSION}: rebuilding`);
    else log('native addon missing or not loading: building it');
  }
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    fail(`only linux x64 is supported (this is ${process.platform} ${process.arch})`);
  }
  checkTools();
  const py = findPython();
  const wheel = ensureWheel(py);
  stageDeps(py, wheel, tfjsDir);
  build(opts.root, tfjsDir);

  const p = probe(opts.root);
  if (!p.ok) fail('the addon was built but tfjs-node still does not load the native backend', p.output);
  fs.writeFileSync(path.join(tfjsDir, 'deps', STAMP_NAME), JSON.stringify({
    tensorflow: TF_VERSION, wheel: path.basename(wheel), node: process.versions.node,
    napi: process.versions.napi, builtAt: new Date().toISOString(),
  }, null, 2) + '\n');
  log(`done in ${((Date.now() - started) / 1000).toFixed(1)}s: tf.getBackend() === 'tensorflow' (TensorFlow ${p.tf})`);
}

main();
