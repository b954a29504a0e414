/**
 * One error type for everything Seismo reports on purpose. The code is the stable contract
 * (documented in docs/operations.md, checked by a test); the message is for humans.
 */
export const ERROR_CODES = {
  SEISMO_CONFIG_INVALID: { exitCode: 2, retriable: false, doc: 'The config file or an environment override failed validation; every problem is listed with file:line:column and field path.' },
  SEISMO_CONFIG_UNREADABLE: { exitCode: 2, retriable: false, doc: 'The config file could not be read or is not YAML.' },
  SEISMO_INPUT_INVALID: { exitCode: 3, retriable: false, doc: 'An input file (CSV, NDJSON) could not be used at all: missing columns, no rows, unreadable.' },
  SEISMO_MODEL_MISSING: { exitCode: 4, retriable: false, doc: 'No model artifact at the configured path; run `seismo train` first.' },
  SEISMO_MODEL_INCOMPATIBLE: { exitCode: 4, retriable: false, doc: 'The artifact does not match the config or data (features, lookback, format version); the message names the mismatch.' },
  SEISMO_MODEL_INVALID: { exitCode: 4, retriable: false, doc: 'An artifact file is corrupt or unusable (not JSON, a field missing or out of range: scaler scale 0, scaler features not those of the manifest in its order, threshold not > 0, network shape not [lookback, features]); the message names the file and the field.' },
  SEISMO_BACKEND_UNAVAILABLE: { exitCode: 5, retriable: false, doc: 'The requested TensorFlow backend could not be loaded (e.g. `backend: native` without a working tfjs-node addon).' },
  SEISMO_TRAINING_FAILED: { exitCode: 6, retriable: false, doc: 'Training or calibration could not run, produced a non-finite loss, or the data is degenerate (too few windows, every feature constant, a calibrated threshold not finite and > 0).' },
  SEISMO_SINK_FAILED: { exitCode: 7, retriable: true, doc: 'A sink could not make flags durable.' },
  SEISMO_SOURCE_FAILED: { exitCode: 7, retriable: true, doc: 'A source failed while reading.' },
  SEISMO_HTTP_FAILED: { exitCode: 8, retriable: false, doc: 'The HTTP server (metrics, health) could not listen.' },
  SEISMO_SHUTDOWN_TIMEOUT: { exitCode: 1, retriable: false, doc: 'Draining took longer than the shutdown deadline, or a second signal arrived.' },
  SEISMO_INTERNAL: { exitCode: 70, retriable: false, doc: 'A bug: an invariant did not hold. Please report it with the log.' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class SeismoError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; retriable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SeismoError';
    this.code = code;
    this.retriable = options.retriable ?? ERROR_CODES[code].retriable;
  }

  get exitCode(): number {
    return ERROR_CODES[this.code].exitCode;
  }
}

export function isSeismoError(err: unknown): err is SeismoError {
  return err instanceof SeismoError;
}
