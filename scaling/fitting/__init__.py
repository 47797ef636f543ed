"""Fitting: summed Huber objective, batched multistart Newton, bootstrap, results.

Public names: :func:`fit`, :class:`FitResult`, :func:`dataset_from_points`,
:func:`dataset_from_curves`, :class:`Dataset`, :class:`Group`.
"""

from scaling.fitting.dataset import Dataset, Group, dataset_from_curves, dataset_from_points
from scaling.fitting.fitter import fit
from scaling.fitting.result import FitResult

__all__ = ["Dataset", "FitResult", "Group", "dataset_from_curves", "dataset_from_points", "fit"]
