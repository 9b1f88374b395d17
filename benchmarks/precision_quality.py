"""Does mixed_bfloat16 lose sample quality? Trains the tuned DCGAN in float32 and in
mixed_bfloat16 (same seed, same budget) and compares speed and the Q1 metrics.

The float32 run is the one the Q1 notebook trains (same config and seed, same run
directory), so after `make figures` only the bf16 run costs time.

Usage: python benchmarks/precision_quality.py [--n 10000]

Metrics follow the kit's protocol (`gankit.evaluate.protocol`) at ``--n`` samples. The
table and the speed ratio go to ``benchmarks/results/precision_quality.json``
(`gankit.bench_record`), which the README is written from.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pandas as pd

from gankit import bench_record, paths, presets
from gankit.config import with_overrides
from gankit.data.images import scale_images
from gankit.data.mnist import load_mnist
from gankit.evaluate import suite as evaluation
from gankit.evaluate.classifier import load_or_train_classifier
from gankit.evaluate.protocol import PROTOCOL, EvalProtocol
from gankit.train.loop import train_gan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=PROTOCOL.n, help="samples per evaluation")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    record = bench_record.start(__file__, args)
    (x_train, _), (x_test, y_test) = load_mnist(verbose=False)
    x_train, x_test = scale_images(x_train), scale_images(x_test)
    classifier = load_or_train_classifier(seed=args.seed, verbose=False)
    protocol = EvalProtocol(n=args.n, seed=args.seed)
    evaluator = evaluation.Evaluator.build(classifier, x_train, x_test, y_test, protocol)
    rows = []
    for precision in ("float32", "mixed_bfloat16"):
        cfg = presets.get_preset("dcgan_tuned")
        if precision != "float32":
            cfg = with_overrides(cfg, {"train.precision": precision})
        run = train_gan(cfg, x_train, paths.run_dir_for(cfg, args.seed), seed=args.seed)
        scores = evaluation.evaluate_unconditional(run.generator, evaluator, x_train)["generated"]
        rows.append(
            {
                "precision": precision,
                "images_per_second": run.history["images_per_second"].iloc[1:].median(),
                "train_seconds": run.train_seconds,
                **{
                    k: scores[k]
                    for k in ("inception_score", "fid", "classes_covered", "duplicate_fraction")
                },
            }
        )
    table = pd.DataFrame(rows)
    print(table.to_string(index=False, float_format="{:.3f}".format))
    speedup = table["images_per_second"].iloc[1] / table["images_per_second"].iloc[0]
    print(f"bf16 / float32 speed: {speedup:.2f}x (median epoch, first epoch dropped)")
    bench_record.write(record, {"n_eval": args.n, "rows": rows, "bf16_over_float32": speedup})


if __name__ == "__main__":
    main()
