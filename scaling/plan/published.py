"""Published scaling-law parameters, for comparison plots and checks.

Chinchilla-form values as listed in
``shared/data/external/chinchilla-epoch/PROVENANCE.md``; Kaplan et al.'s
batch-size law constants from the paper itself (arXiv:2001.08361), each
with the table or equation it comes from.
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

#: Kaplan et al. 2020, arXiv:2001.08361: the constants of the ``kaplan-batch`` law
#: L(N, S_min) = (N_c/N)^alpha_N + (S_c/S_min)^alpha_S with B_crit(L) = B_*/L^(1/alpha_B).
#: N_c (non-embedding parameters), alpha_N, S_c (steps), alpha_S: Table 3, the fit of
#: Eq. 5.6 to the learning curves (the values Appendix B's derived numbers reproduce);
#: B_* (tokens), alpha_B: Eq. 5.3 / 1.4 (Table 5 and Figure 10 print B_* = 2.1e8, L^-4.8).
#: Not to be mixed with Eq. 1.1's converged-loss fit L(N): alpha_N = 0.076, N_c = 8.8e13.
KAPLAN_2020_BATCH: dict[str, float] = {
    "N_c": 6.5e13,
    "alpha_N": 0.077,
    "S_c": 2.1e3,
    "alpha_S": 0.76,
    "B_star": 2e8,
    "alpha_B": 0.21,
}

__all__ = ["HOFFMANN_ROUNDED", "KAPLAN_2020_BATCH", "PUBLISHED_CHINCHILLA"]
