"""Gadre et al. (2024): final losses of 104 over-trained language models on three corpora.

The shipped table ``data/gadre2024/models.csv`` has one row per model (10.6M
to 6.9B parameters, 0.25x to 32x the Chinchilla token count, trained on C4,
RedPajama or RefinedWeb) with the final loss on eight evaluation sets and the
average downstream top-1 error. It was derived from the JSON files of the
authors' repository by :func:`build_models_table` (see the PROVENANCE.md next
to it).

Reference: S. Y. Gadre et al., "Language models scale reliably with
over-training and on downstream tasks", arXiv:2403.08540 (2024).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from scaling.errors import DataError

__all__ = ["CORPORA", "EVAL_SETS", "TASKS_17", "DEFAULT_EVAL", "build_models_table", "read_models", "points_table"]

#: dataset-name suffix -> corpus name in the authors' files
CORPORA = {"c4": "c4_original", "rpj": "rpj", "rw": "rw_original"}
#: evaluation set -> the ``val_data`` path prefix that names it in ``results``
EVAL_SETS = {
    "openlm": "training/eval_data/val_tok_mult/openlm/",
    "c4_val": "training/eval_data/c4_val/",
    "paloma_c4_en": "training/eval_data/val_tok_mult/paloma_c4_en/",
    "paloma_dolma_100_programing_languages": "training/eval_data/val_tok_mult/paloma_dolma_100_programing_languages/",
    "paloma_falcon-refinedweb": "training/eval_data/val_tok_mult/paloma_falcon-refinedweb/",
    "paloma_ptb": "training/eval_data/val_tok_mult/paloma_ptb/",
    "paloma_redpajama": "training/eval_data/val_tok_mult/paloma_redpajama/",
    "val_de-en_100": "training/eval_data/val_tok_mult/de-en/",
}
#: the paper's default evaluation set for its loss fits (repo ``scaling_explorer.ipynb``)
DEFAULT_EVAL = "c4_val"
#: the paper's 17-task downstream subset (repo ``scaling_explorer.ipynb``)
TASKS_17 = (
    "bigbench_operators", "pubmed_qa_labeled", "hellaswag_zeroshot", "boolq", "arc_easy", "coqa",
    "bigbench_dyck_languages", "lambada_openai", "bigbench_novel_concepts", "winograd",
    "bigbench_cs_algorithms", "commonsense_qa", "bigbench_qa_wikidata", "hellaswag", "copa", "squad", "piqa",
)
_HYPER = ("params", "params_no_embed", "tokens", "chinchilla_multiplier", "lr", "wd", "warmup", "global_bs")
#: columns of the shipped table, in order
COLUMNS = ("name", "dataset", "model", *_HYPER, "lr_cooldown_end",
           *(f"loss_{e}" for e in EVAL_SETS), "err_avg_17", "err_avg_46")


def _eval_name(val_data: list[str], where: str) -> str:
    for name, prefix in EVAL_SETS.items():
        if len(val_data) == 1 and val_data[0].startswith(prefix):
            return name
    raise DataError(f"{where}: unknown evaluation set {val_data!r}; add it to EVAL_SETS")


def build_models_table(exp_data: str | Path) -> pd.DataFrame:
    """Rebuild the shipped table from the repository's ``exp_data`` folder.

    Parameters
    ----------
    exp_data : path
        The ``exp_data`` folder of github.com/mlfoundations/scaling
        (``models/*.json`` and ``evals/evaluation_<name>_heavy.json``).

    Returns
    -------
    DataFrame
        One row per model, columns :data:`COLUMNS`, sorted by corpus, N, D:
        the hyperparameters as given, ``loss_<set>`` = the ``loss`` (mean
        next-token cross-entropy, nats) of the final checkpoint on each set,
        ``err_avg_17`` / ``err_avg_46`` = mean over the 17-task subset / all
        46 tasks of the top-1 error ``1 - accuracy``.
    """
    folder = Path(exp_data)
    rows = []
    for path in sorted((folder / "models").glob("*.json")):
        model = json.loads(path.read_text())
        hp = model["hyperparameters"]
        name = model["name"]
        row = {"name": name, "dataset": model["dataset_name"], "model": Path(hp["model"]).stem}
        row.update({k: hp[k] for k in _HYPER})
        row["lr_cooldown_end"] = hp["cd"]
        for result in model["results"]:
            row[f"loss_{_eval_name(result['val_data'], str(path))}"] = result["loss"]
        icl = json.loads((folder / "evals" / f"evaluation_{name}_heavy.json").read_text())["eval_metrics"]["icl"]
        err = {task: 1.0 - acc for task, acc in icl.items()}
        row["err_avg_17"] = float(np.mean([err[t] for t in TASKS_17]))
        row["err_avg_46"] = float(np.mean(list(err.values())))
        rows.append(row)
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    return table.sort_values(["dataset", "params", "tokens"], kind="stable").reset_index(drop=True)


def read_models(path: str | Path) -> pd.DataFrame:
    """The shipped ``models.csv`` as a DataFrame (all 104 models, columns :data:`COLUMNS`)."""
    return pd.read_csv(path, dtype={"name": str, "dataset": str, "model": str})


def points_table(models: pd.DataFrame, corpus: str, *, source: str) -> pd.DataFrame:
    """Canonical points table of one training corpus, loss = C4 validation loss.

    Parameters
    ----------
    models : DataFrame
        :func:`read_models` output.
    corpus : {"c4", "rpj", "rw"}
        Training set: C4, RedPajama, RefinedWeb.
    source : str
        Value of the ``source`` column, e.g. ``"dataset:gadre2024-rpj"``.

    Returns
    -------
    DataFrame
        ``run`` (model name), ``N`` (parameters incl. embeddings), ``D``
        (training tokens), ``C = 6 N D``, ``loss`` (final loss on
        :data:`DEFAULT_EVAL`, nats), ``source``, then ``model``, ``M = D / N``
        (tokens per parameter), ``multiplier`` (M / 20), ``params_no_embed``,
        ``lr``, ``wd``, ``warmup``, ``global_bs``, ``lr_cooldown_end``, every
        ``loss_<set>`` and ``err_avg_17``, ``err_avg_46``; built with
        :func:`scaling.runs.make_points` so it is checked like user data.
    """
    from scaling.runs import make_points

    rows = models.loc[models["dataset"] == CORPORA[corpus]].reset_index(drop=True)
    extra = {
        "model": rows["model"].to_numpy(dtype=object),
        "M": rows["tokens"].to_numpy(float) / rows["params"].to_numpy(float),
        "multiplier": rows["chinchilla_multiplier"].to_numpy(float),
        **{c: rows[c].to_numpy() for c in ("params_no_embed", "lr", "wd", "warmup", "global_bs", "lr_cooldown_end")},
        **{c: rows[c].to_numpy(float) for c in COLUMNS if c.startswith(("loss_", "err_"))},
    }
    table = make_points(N=rows["params"].to_numpy(float), D=rows["tokens"].to_numpy(float),
                        loss=rows[f"loss_{DEFAULT_EVAL}"].to_numpy(float),
                        run=rows["name"].to_numpy(dtype=object), **extra)
    table["source"] = source
    return table
