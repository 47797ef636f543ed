"""The shipped datasets: one frozen record per name, in a plain dict."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class DatasetInfo:
    """What a shipped dataset is and where it came from.

    Attributes
    ----------
    name : str
        Name used by :func:`scaling.datasets.load_dataset` and ``dataset:NAME``.
    kind : {"curves", "points"}
        Canonical table it loads as (:mod:`scaling.runs`).
    description : str
        One line.
    licence : str
        SPDX identifier of the data's licence.
    copyright : str
        The licence's copyright line.
    folder : str
        Folder under ``scaling/datasets/data`` holding the files, ``LICENSE``,
        ``CITATION.bib`` and ``PROVENANCE.md``.
    repository, commit : str
        Where the data was copied from.
    paper : str
        Short reference (authors, title, venue, arXiv id).
    part : str
        Which part of the folder: the model size (``"25M"``) or corpus (``"rpj"``).
    """

    name: str
    kind: str
    description: str
    licence: str
    copyright: str
    folder: str
    repository: str
    commit: str
    paper: str
    part: str

    @property
    def path(self) -> Path:
        """Folder of the files (inside the installed package)."""
        return DATA / self.folder


_LUO = dict(
    kind="curves", licence="MIT", copyright="Copyright (c) 2025 Kairong Luo", folder="luo2025",
    repository="https://github.com/thu-yao-01-luo/MultiPowerLaw", commit="8da9f1902602f3391b971a811e3cc51604541769",
    paper="Luo et al., 'A Multi-Power Law for Loss Curve Prediction Across Learning Rate Schedules', "
          "ICLR 2025, arXiv:2503.12811",
)
_LUO_SIZES = {"25M": "89M total", "100M": "205M total", "400M": "493M total"}
_GADRE = dict(
    kind="points", licence="MIT", copyright="Copyright (c) 2024 mlfoundations", folder="gadre2024",
    repository="https://github.com/mlfoundations/scaling", commit="a003c4913793ac2ae7ef87b28ecb562955d026d5",
    paper="Gadre et al., 'Language models scale reliably with over-training and on downstream tasks', "
          "arXiv:2403.08540 (2024)",
)
_GADRE_CORPORA = {"c4": ("C4", 34), "rpj": ("RedPajama", 35), "rw": ("RefinedWeb", 35)}

DATASETS: dict[str, DatasetInfo] = {}
for _size, _total in _LUO_SIZES.items():
    DATASETS[f"luo2025-{_size}"] = DatasetInfo(
        name=f"luo2025-{_size}", part=_size,
        description=f"Luo et al. 2025: validation-loss curves of a {_size} ({_total}) Llama-2 model "
                    "under 9 LR schedules (constant, cosine, WSD, two-stage), 24k-72k steps",
        **_LUO,
    )
for _corpus, (_label, _n) in _GADRE_CORPORA.items():
    DATASETS[f"gadre2024-{_corpus}"] = DatasetInfo(
        name=f"gadre2024-{_corpus}", part=_corpus,
        description=f"Gadre et al. 2024: final C4-val loss of {_n} models trained on {_label}, "
                    "N = 11M-6.9B, D/N = 5-640, with downstream error",
        **_GADRE,
    )
