"""Published scaling-law parameters, for comparison plots and checks.

Values as listed in ``shared/data/external/chinchilla-epoch/PROVENANCE.md``.
"""

from __future__ import annotations

import math

#: Published Chinchilla-form parameters (natural units: L = E + A/N^alpha + B/D^beta,
#: N in parameters, D in tokens, L in nats/token on MassiveText), for comparison plots.
#: Values as listed in ``shared/data/external/chinchilla-epoch/PROVENANCE.md``.
PUBLISHED_CHINCHILLA: dict[str, dict[str, float]] = {
    # Hoffmann et al. 2022, arXiv:2203.15556, Approach 3 (Eq. 10), unrounded TeX values
    # (log A = 6.0073404, log B = 6.0179186, log E = 0.5267228), as used by Epoch AI.
    "Hoffmann et al. 2022": {
        "E": math.exp(0.5267228),
        "A": math.exp(6.0073404),
        "B": math.exp(6.0179186),
        "alpha": 0.33917084,
        "beta": 0.2849083,
    },
    # Besiroglu et al. 2024 (Epoch AI), arXiv:2404.10102, their maximum-likelihood refit
    # of Hoffmann's Figure-4 data (notebook digits).
    "Besiroglu et al. 2024 (Epoch)": {
        "E": 1.81686,
        "A": 482.00572,
        "B": 2085.43420,
        "alpha": 0.34781303,
        "beta": 0.36585412,
    },
}

#: Hoffmann et al. 2022, Eq. 10, as rounded in the paper.
HOFFMANN_ROUNDED: dict[str, float] = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}

__all__ = ["HOFFMANN_ROUNDED", "PUBLISHED_CHINCHILLA"]
