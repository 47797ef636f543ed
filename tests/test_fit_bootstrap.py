"""Bootstrap resampling weights: points, groups, column values and blocks of steps."""

import numpy as np
import pytest

from scaling.errors import FitError
from scaling.fitting import Dataset, Group, dataset_from_points
from scaling.fitting.bootstrap import resampling_weights

from ._fit_data import chinchilla_points


def _curves(sizes=(20, 9)):
    return Dataset([Group(f"run{i}", {"step": np.arange(n)}, np.ones(n)) for i, n in enumerate(sizes)],
                   info={"kind": "curves"})


def test_point_resamples_draw_n_points_with_replacement():
    ds = dataset_from_points("chinchilla", chinchilla_points())
    w = resampling_weights(ds, 50, "points", np.random.default_rng(0))
    assert w.shape == (50, ds.n_points)
    assert np.all(w.sum(axis=1) == ds.n_points)
    assert np.all(w == np.round(w)) and w.max() > 1


def test_same_seed_gives_the_same_resamples():
    ds = dataset_from_points("chinchilla", chinchilla_points())
    a = resampling_weights(ds, 5, "auto", np.random.default_rng(42))
    b = resampling_weights(ds, 5, "auto", np.random.default_rng(42))
    np.testing.assert_array_equal(a, b)


def test_groups_on_a_points_table_resample_whole_model_sizes():
    df = chinchilla_points()
    ds = dataset_from_points("chinchilla", df)
    w = resampling_weights(ds, 20, "groups", np.random.default_rng(1))
    for row in w:
        for size in np.unique(df["N"]):
            assert len(set(row[df["N"].to_numpy() == size])) == 1  # one count per model size
        assert row.sum() == len(df)  # 8 sizes x 6 points, 8 draws


def test_column_name_resamples_its_distinct_values():
    df = chinchilla_points()
    df["family"] = np.where(df["N"] > 1e8, "big", "small")
    ds = dataset_from_points("chinchilla", df)
    w = resampling_weights(ds, 10, "family", np.random.default_rng(2))
    big = df["family"].to_numpy() == "big"
    assert all(len(set(row[big])) == 1 and len(set(row[~big])) == 1 for row in w)


def test_blocks_keep_consecutive_steps_together_within_each_curve():
    ds = _curves()
    w = resampling_weights(ds, 30, "blocks", np.random.default_rng(3), block_size=5)
    assert w.shape == (30, 29)
    first = w[:, :20].reshape(30, 4, 5)
    assert np.all(first == first[:, :, :1])  # constant within a block of 5
    assert np.all(first[:, :, 0].sum(axis=1) == 4)  # 4 blocks drawn per curve


def test_auto_is_blocks_for_curves_and_points_for_tables():
    w = resampling_weights(_curves(), 4, "auto", np.random.default_rng(0))
    # default block length ceil(sqrt(20)) = 5 -> steps 0..4 share a count
    assert np.all(w[:, :5] == w[:, :1])


def test_unknown_scheme_is_a_clear_error():
    ds = dataset_from_points("chinchilla", chinchilla_points())
    with pytest.raises(FitError, match="neither a scheme nor a column"):
        resampling_weights(ds, 3, "nonsense", np.random.default_rng(0))
