"""Wall-clock seconds until an unconditional DCGAN's Inception score first reaches 9.0 and 9.5.

Compares gankit's tuned DCGAN (preset ``dcgan_tuned``) and its self-conditioned GAN
(preset ``dcgan_self_conditioned``: no labels, the CGAN recipe on k-means clusters; its
k-means is in ``setup_seconds``, outside the step clock like every model's graph
building) with the TensorFlow DCGAN tutorial's configuration (preset ``dcgan_tutorial``: 50
epochs of batch 256, Adam 1e-4, float32), all trained by `train_gan` in this process, one
after the other. After every
epoch each model draws the evaluation protocol's N = 10,000 samples (seed 0) and the
reference classifier scores their Inception score over 10 splits; the clock counts
training steps only, not these evaluations. Each model trains until it reaches IS 9.5,
its preset's epochs end, or it has trained for ``--max-minutes``. The real test images'
IS at the same N is printed and recorded beside them.

Usage: python benchmarks/dcgan_time_to_quality.py [--max-minutes 15] [--seed 0] [--out FILE]
(with GANKIT_QUICK=1 both train on 2,048 images and score 1,000 samples: a smoke test of
the script only)

The results go to ``benchmarks/results/dcgan_time_to_quality.json`` (`gankit.bench_record`),
which the README's table is written from.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from time_to_quality import first_crossings, parse_arguments, train_until

from gankit import bench_record
from gankit.config import is_quick
from gankit.data.images import scale_images
from gankit.data.mnist import load_mnist
from gankit.evaluate.classifier import load_or_train_classifier
from gankit.evaluate.protocol import protocol_for
from gankit.evaluate.suite import Evaluator
from gankit.presets import get_preset

THRESHOLDS = (9.0, 9.5)
PRESETS = {
    "gankit dcgan_tuned": "dcgan_tuned",
    "gankit self-conditioned": "dcgan_self_conditioned",
    "tensorflow tutorial": "dcgan_tutorial",
}


def main(argv=None) -> int:
    args = parse_arguments(__doc__.split("\n")[0], argv)
    record = bench_record.start(__file__, args)
    (x, _), (x_test, y_test) = load_mnist(verbose=False)
    evaluator = Evaluator.build(
        load_or_train_classifier(verbose=False),
        scale_images(x),
        scale_images(x_test),
        y_test,
        protocol_for(is_quick()),
    )
    floor = evaluator.floor["inception_score"]
    print(f"real test images: IS {floor:.2f} at N = {evaluator.protocol.n:,}")

    def measure(generator):
        return {"inception_score": evaluator.score(generator)["inception_score"]}

    results = {}
    for name, preset in PRESETS.items():
        config = get_preset(preset)  # GANKIT_QUICK=1: a smoke test on 2,048 images
        n = config.train.n_train or len(x)
        run = train_until(
            config, scale_images(x[:n]), None, measure, key="inception_score",
            target=max(THRESHOLDS), max_seconds=60.0 * args.max_minutes, seed=args.seed,
            name=name,
        )  # fmt: skip
        run["seconds_to"] = first_crossings(
            run["seconds"], run["inception_score"], THRESHOLDS, fmt=".1f"
        )
        run["best_inception_score"] = max(run["inception_score"])
        results[name] = run
    print(f"\n{'model':24s}" + "".join(f"{'IS ' + k:>12s}" for k in map(str, THRESHOLDS)))
    for name, run in results.items():
        cells = "".join(
            f"{'never' if v is None else f'{v:.0f} s':>12s}" for v in run["seconds_to"].values()
        )
        print(f"{name:24s}{cells}   best {run['best_inception_score']:.2f}")
    bench_record.write(
        record,
        {
            "max_minutes": args.max_minutes,
            "n_eval": evaluator.protocol.n,
            "real_inception_score": floor,
            "models": results,
        },
        args.out,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
