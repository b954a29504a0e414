#!/usr/bin/env python3
"""Keras side of the Seismo benchmark (run with the venv from bench/setup-keras.sh).

  python bench/keras_bench.py [--budget 3] [--batches 1,64,256,1024] [--train] [--out bench/out/keras.json]

Rebuilds Seismo's autoencoder in Keras, loads the weights that bench/scorer-bench.mjs --export
wrote (bench/out/weights-<model>.{json,bin}), checks that Keras reproduces Seismo's output on the
reference batch (max |diff| <= 1e-4), then times model.predict(x, batch_size=B) and a compiled
call (tf.function(model(x, training=False))) at the same batch sizes, and optionally training
seconds per epoch on the same 400-row series with the same initial weights.

Weight layout: tfjs-layers and Keras store an LSTM as kernel [in, 4u], recurrent_kernel [u, 4u],
bias [4u], gate order i, f, c, o, so the arrays load unchanged. The gate activation is whatever
the export recorded (weights-<model>.json "recurrentActivation": 'sigmoid' for Seismo's new models,
'hard_sigmoid' for older ones), so both frameworks run the same model.
"""
import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "out")
MODELS = {"skab": (10, 8), "rare-event": (5, 59)}


def log(*m):
    print("[keras-bench]", *m, file=sys.stderr, flush=True)


def build(T, F, units=(128, 64), recurrent_activation="sigmoid", learning_rate=1e-3):
    inp = tf.keras.Input(shape=(T, F), name="window")
    x = inp
    for i, u in enumerate(units):
        last = i == len(units) - 1
        x = tf.keras.layers.LSTM(u, return_sequences=not last, activation="tanh",
                                 recurrent_activation=recurrent_activation,
                                 name="encoder_out" if last else f"encoder_lstm_{i}")(x)
    x = tf.keras.layers.RepeatVector(T, name="repeat")(x)
    for i, u in enumerate(reversed(units)):
        x = tf.keras.layers.LSTM(u, return_sequences=True, activation="tanh",
                                 recurrent_activation=recurrent_activation, name=f"decoder_lstm_{i}")(x)
    out = tf.keras.layers.TimeDistributed(tf.keras.layers.Dense(F), name="reconstruction")(x)
    model = tf.keras.Model(inp, out, name="lstm_autoencoder")
    model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate), loss="mse")
    return model


def gates(name):
    return json.load(open(os.path.join(OUT, f"weights-{name}.json"))).get("recurrentActivation", "hard_sigmoid")


def load_weights(model, name):
    spec = json.load(open(os.path.join(OUT, f"weights-{name}.json")))
    flat = np.fromfile(os.path.join(OUT, f"weights-{name}.bin"), dtype="<f4")
    arrays = [flat[w["offset"]:w["offset"] + w["length"]].reshape(w["shape"]) for w in spec["weights"]]
    expected = [tuple(w.shape) for w in model.get_weights()]
    got = [tuple(a.shape) for a in arrays]
    if expected != got:
        raise SystemExit(f"weight shapes differ: keras {expected} vs seismo {got}")
    model.set_weights(arrays)


def time_cell(fn, budget, warmup=3, min_iters=5):
    for _ in range(warmup):
        fn()
    lat = []
    t0 = time.perf_counter()
    while len(lat) < min_iters or time.perf_counter() - t0 < budget:
        s = time.perf_counter()
        fn()
        lat.append(time.perf_counter() - s)
    total = time.perf_counter() - t0
    srt = sorted(lat)
    q = lambda p: srt[min(len(srt) - 1, int(p * len(srt)))] * 1000  # noqa: E731
    return {"iters": len(lat), "totalMs": total * 1000, "p50Ms": q(0.5), "p99Ms": q(0.99), "meanMs": total * 1000 / len(lat), "load": load()}


def load():
    """The machine's 1-minute load average, recorded beside every cell (a shared machine's noise)."""
    return round(os.getloadavg()[0], 2)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--budget", type=float, default=3)
    ap.add_argument("--batches", default="1,64,256,1024")
    ap.add_argument("--models", default="skab,rare-event")
    ap.add_argument("--train", action="store_true")
    ap.add_argument("--train-batches", default="64:100,64:100:0.003,256:100:0.01", help="batch[:maxEpochs[:learningRate]],...")
    ap.add_argument("--out", default=os.path.join(OUT, "keras.json"))
    a = ap.parse_args()
    batches = [int(b) for b in a.batches.split(",")]
    result = {"tensorflow": tf.__version__, "python": sys.version.split()[0],
              "intraOpThreads": tf.config.threading.get_intra_op_parallelism_threads(),
              "budgetSeconds": a.budget, "models": {}}

    for name in a.models.split(","):
        T, F = MODELS[name]
        model = build(T, F, recurrent_activation=gates(name))
        load_weights(model, name)
        xref = np.fromfile(os.path.join(OUT, f"ref-{name}-x.bin"), dtype="<f4").reshape(-1, T, F)
        yref = np.fromfile(os.path.join(OUT, f"ref-{name}-y.bin"), dtype="<f4").reshape(-1, T, F)
        ypred = model.predict(xref, batch_size=len(xref), verbose=0)
        max_diff = float(np.max(np.abs(ypred - yref)))
        # Sanity: the other gate activation on the same weights is a different model.
        other = "hard_sigmoid" if gates(name) == "sigmoid" else "sigmoid"
        alt = build(T, F, recurrent_activation=other)
        alt.set_weights(model.get_weights())
        max_diff_other = float(np.max(np.abs(alt.predict(xref, verbose=0) - yref)))
        del alt
        log(f"{name}: max |keras - seismo| = {max_diff:.2e} ({gates(name)}; {max_diff_other:.2e} with {other})"
            f" -> {'MATCH' if max_diff <= 1e-4 else 'MISMATCH'}")
        m = {"lookback": T, "features": F, "params": int(model.count_params()), "recurrentActivation": gates(name), "maxAbsDiffVsSeismo": max_diff,
             "maxAbsDiffOtherGates": max_diff_other, "match": max_diff <= 1e-4, "predict": {}, "compiled": {}}
        result["models"][name] = m

        rng = np.random.default_rng(1234)
        data = rng.standard_normal((max(batches), T, F)).astype(np.float32)
        compiled = tf.function(lambda x: model(x, training=False))
        for B in batches:
            x = data[:B]
            c = time_cell(lambda: model.predict(x, batch_size=B, verbose=0), a.budget)
            c["windowsPerSec"] = B * c["iters"] / (c["totalMs"] / 1000)
            m["predict"][B] = c
            xt = tf.constant(x)
            c2 = time_cell(lambda: compiled(xt).numpy(), a.budget)
            c2["windowsPerSec"] = B * c2["iters"] / (c2["totalMs"] / 1000)
            m["compiled"][B] = c2
            log(f"{name} B={B}: predict {c['windowsPerSec']:.0f} w/s (p50 {c['p50Ms']:.2f} ms, load {c['load']}), "
                f"tf.function {c2['windowsPerSec']:.0f} w/s (p50 {c2['p50Ms']:.2f} ms, load {c2['load']})")

    if a.train:
        T, F = MODELS["skab"]
        series = np.fromfile(os.path.join(OUT, "train-series.bin"), dtype="<f4").reshape(-1, F)
        count = len(series) - T + 1
        windows = np.stack([series[i:i + T] for i in range(count)])
        n_val = max(1, round(count * 0.2))
        train, val = windows[:count - n_val], windows[count - n_val:]
        order = np.random.default_rng(42).permutation(len(train))
        train = train[order]
        result["training"] = {"rows": len(series), "windows": count, "trainWindows": len(train),
                              "validationWindows": len(val), "runs": []}
        for spec in a.train_batches.split(","):
            parts = spec.split(":") + ["50", "0.001"][len(spec.split(":")) - 1:]
            bs, max_epochs, lr = int(parts[0]), int(parts[1]), float(parts[2])
            model = build(T, F, recurrent_activation=gates("skab"), learning_rate=lr)
            load_weights(model, "skab")  # Seismo's initial (seeded) weights
            times = []

            class EpochTimer(tf.keras.callbacks.Callback):
                def on_epoch_begin(self, epoch, logs=None):
                    self.t = time.perf_counter()

                def on_epoch_end(self, epoch, logs=None):
                    times.append(time.perf_counter() - self.t)

            es = tf.keras.callbacks.EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True)
            t0 = time.perf_counter()
            h = model.fit(train, train, validation_data=(val, val), epochs=max_epochs, batch_size=bs, shuffle=False,
                          verbose=0, callbacks=[EpochTimer(), es])
            total = time.perf_counter() - t0
            vl = h.history["val_loss"]
            best = int(np.argmin(vl))
            run = {"batchSize": bs, "learningRate": lr, "maxEpochs": max_epochs, "converged": len(vl) < max_epochs, "epochsRun": len(vl), "bestEpoch": best + 1, "valLoss": float(vl[best]),
                   "seconds": total, "firstEpochSeconds": times[0], "medianEpochSeconds": float(np.median(times)), "load": load()}
            result["training"]["runs"].append(run)
            log(f"train batch {bs} lr {lr}: {run['epochsRun']} epochs (best {run['bestEpoch']}, val {run['valLoss']:.4f}), "
                f"{total:.1f} s total, {run['medianEpochSeconds']:.3f} s/epoch median (load {run['load']})")

    json.dump(result, open(a.out, "w"), indent=1)
    log("wrote", a.out)


if __name__ == "__main__":
    main()
