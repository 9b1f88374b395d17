"""Experiments run from the command line: single runs, sweeps, their records and reports.

- ``run``: one run: a config from a preset or file, trained on MNIST, then evaluated.
- ``sweep_grid``: what a sweep runs: run specs from a grid or list of overrides x seeds.
- ``sweep``: running a sweep: resumable, locked, recorded runs, in parallel if asked.
- ``locks``: one writer per run directory (a lock file).
- ``registry``: the results registry: one JSON line per finished or failed run.
- ``archive``: what finished runs measured, without weights, to commit; restored for sweeps.
- ``sweep_report``: registry -> tables over seeds and metric-vs-parameter plots.
- ``dcgan_tuning``: Q1's tuning study over seeds and the best change retrained, as sweeps.
- ``commands``: what each ``gankit`` command does with its parsed arguments.
- ``faults``: bad input and a failing machine as one line and an exit code.
- ``workers``: sweep worker processes that stop when their sweep dies, one GPU each.
- ``notebooks``: executing the numbered notebooks headless, in place, with parameters.
"""
