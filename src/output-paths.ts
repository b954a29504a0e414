import { realpathSync, statSync } from 'node:fs';
import { dirname, basename, join, relative, resolve } from 'node:path';
import { SeismoError } from './errors.js';

/** The path as the file system will see it: symlinks resolved, also for a file not yet created. */
function canonical(path: string): string {
  const full = resolve(path);
  try {
    return realpathSync(full);
  } catch {
    try {
      return join(realpathSync(dirname(full)), basename(full));
    } catch {
      return full;
    }
  }
}

/**
 * Refuses an output that would overwrite an input or land inside an input directory (where a
 * replay of the directory would read it back as data). Opening an output truncates it, so this
 * runs before anything is opened: `score -d s.csv -o s.csv` used to empty s.csv.
 */
export function refuseOutputOverInput(outputs: Array<{ what: string; path: string | undefined }>, inputs: Array<string | undefined>): void {
  const ins = inputs.filter((p): p is string => p !== undefined).map((p) => ({ given: p, path: canonical(p), dir: isDirectory(p) }));
  for (const out of outputs) {
    if (out.path === undefined) continue;
    const o = canonical(out.path);
    for (const input of ins) {
      const inside = input.dir && !relative(input.path, o).startsWith('..');
      if (o === input.path || inside) {
        throw new SeismoError('SEISMO_CONFIG_INVALID', `${out.what} ${out.path} ${o === input.path ? 'is the input' : 'is inside the input directory'} ${input.given}: writing it would ${o === input.path ? 'destroy the data being read' : 'feed the output back in as data'}. Write it elsewhere`);
      }
    }
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
