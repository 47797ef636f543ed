"""A saved fit is checked in full on load: every malformed shape is one FitFileError line naming file and key.

The valid fit is built by hand (no fitting, no JAX compile): a FitResult of the
Chinchilla law with made-up numbers, whose to_dict() is the file content.
"""

import copy
import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scaling.errors import DataError, FitError, FitFileError
from scaling.fitting.result import FitResult
from scaling.fitting.schema import MAX_DEPTH, check_fit_dict, validate_fit_dict
from scaling.laws import get_law

P_NAMES = get_law("chinchilla").param_names  # ('a', 'b', 'e', 'alpha', 'beta')
P = len(P_NAMES)


def valid_dict() -> dict:
    rng = np.random.default_rng(0)
    params = np.array([6.0, 7.0, 0.5, 0.34, 0.28])
    samples = params + 0.01 * rng.standard_normal((4, P))
    result = FitResult(
        law="chinchilla", law_options={}, param_names=P_NAMES, params=params, stderr=np.full(P, 0.01),
        covar=np.eye(P) * 1e-4, intervals={n: (v - 0.02, v + 0.02) for n, v in zip(P_NAMES, params)},
        level=0.9, samples=samples, derived={"A": 403.0, "E": 1.65}, derived_samples={"A": [400.0, 401, 405, 406], "E": [1.6, 1.7, 1.65, 1.66]},
        derived_intervals={"A": (400.0, 406.0), "E": (1.6, 1.7)}, objective=0.01, n_points=3,
        residuals=np.array([0.01, -0.02, 0.0]), aic=-10.0, bic=-9.0, r2=0.99, rmse=0.01, success=True,
        message="converged", n_starts=8, n_starts_at_best=5, nfev=120, seconds=0.5,
        data_info={"files": ["pts.csv"], "n_points": 3}, version="0.1.0", seed=7,
    )
    return result.to_dict()


def test_the_valid_dict_loads_and_round_trips(tmp_path):
    d = valid_dict()
    assert check_fit_dict(d) == []
    path = tmp_path / "fit.json"
    path.write_text(json.dumps(d))
    back = FitResult.load(path)
    assert back.param_names == P_NAMES and back.params[3] == 0.34 and back.seed == 7


def mutated(**changes):
    d = valid_dict()
    for key, value in changes.items():
        d[key] = value
    return d


BAD = {
    "top-level list": ([valid_dict()], "holds a list of 1, not an object"),
    "top-level null": (None, "holds null"),
    "params too short": (mutated(params=[1.0, 2.0]), "key 'params' has 2 values but the fit has 5 parameters"),
    "params as strings": (mutated(params=["6", "7", "0.5", "0.3", "0.2"]), r"key 'params\[0\]' must be a number, got the text '6'"),
    "law as a list": (mutated(law=["chinchilla"]), "key 'law' must be a law name, got a list of 1"),
    "options as a list": (mutated(law_options=[]), "key 'law_options' must be an object"),
    "seed as a string": (mutated(seed="7"), "key 'seed' must be a whole number or null, got the text '7'"),
    "level 2": (mutated(level=2), r"key 'level' must be a confidence level in \(0, 1\), got 2"),
    "level 1.5": (mutated(level=1.5), r"key 'level' must be a confidence level in \(0, 1\)"),
    "NaN param": (mutated(params=[6.0, math.nan, 0.5, 0.3, 0.2]), r"key 'params\[1\]' must be a finite number, got NaN"),
    "inf param": (mutated(params=[6.0, 7.0, math.inf, 0.3, 0.2]), r"key 'params\[2\]' must be a finite number, got inf"),
    "unknown law": (mutated(law="chinchila"), "key 'law' names no known law .*known laws: "),
    "relabelled law": (mutated(law="lr-annealing"), "key 'param_names' are a, b, e, alpha, beta but law 'lr-annealing' has L0, A, alpha, C"),
    "bad law option": (mutated(law_options={"nonsense": 1}), "key 'law_options' are not options of law 'chinchilla'"),
    "covar wrong shape": (mutated(covar=[[1.0]]), "key 'covar' has 1 rows, expected 5"),
    "samples ragged": (mutated(samples=[[1.0, 2.0]]), r"key 'samples\[0\]' must be a list of 5 numbers"),
    "interval of unknown param": (mutated(intervals={"zz": [0, 1]}), "key 'intervals.zz' names no parameter of the fit"),
    "interval lo above hi": (mutated(intervals={"a": [2.0, 1.0]}), "key 'intervals.a' has lo 2.0 above hi 1.0"),
    "residuals vs n_points": (mutated(residuals=[0.1]), "key 'residuals' has 1 values but n_points is 3"),
    "n_points bool": (mutated(n_points=True), "key 'n_points' must be a whole number, got a boolean"),
    "negative nfev": (mutated(nfev=-1), "key 'nfev' must be >= 0"),
    "success as text": (mutated(success="yes"), "key 'success' must be true or false"),
    "derived as list": (mutated(derived=[1.0]), "key 'derived' must be an object"),
    "huge integer seed": (mutated(seed=10**30), "key 'seed' is too large"),
    "wrong format": (mutated(format="other/2"), "key 'format' is the text 'other/2'"),
    "missing keys": ({"format": "scaling.FitResult/1", "law": "chinchilla"}, "lacks keys 'law_options', 'param_names'"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_each_malformed_shape_is_one_line_naming_file_and_key(case, tmp_path):
    d, match = BAD[case]
    path = tmp_path / "fit.json"
    path.write_text(json.dumps(d))
    with pytest.raises(FitFileError, match=match) as info:
        FitResult.load(path)
    msg = str(info.value)
    assert msg.startswith(str(path)) or str(path) in msg
    assert "\n" not in msg


def test_fit_file_errors_are_both_fit_and_data_errors():
    with pytest.raises(FitError):
        validate_fit_dict([])
    with pytest.raises(DataError):
        validate_fit_dict(None)


def test_deep_nesting_inside_the_limit_of_json_is_refused_by_depth(tmp_path):
    d = valid_dict()
    deep: list = []
    for _ in range(MAX_DEPTH + 5):
        deep = [deep]
    d["data_info"] = {"x": deep}
    assert "nests lists or objects more than" in check_fit_dict(d)[0]


def test_nesting_too_deep_for_the_json_parser_is_a_fit_file_error(tmp_path):
    path = tmp_path / "fit.json"
    path.write_text('{"format": "scaling.FitResult/1", "data_info": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(FitFileError, match="nests lists or objects too deeply"):
        FitResult.load(path)


def test_integers_beyond_float_range_are_refused_not_crashed(tmp_path):
    text = json.dumps(valid_dict()).replace('"nfev": 120', '"nfev": 1' + "0" * 400)
    path = tmp_path / "fit.json"
    path.write_text(text)
    with pytest.raises(FitFileError, match="key 'nfev' must be a whole number"):
        FitResult.load(path)
    text = json.dumps(valid_dict()).replace('"objective": 0.01', '"objective": 1' + "0" * 5000)
    path.write_text(text)
    FitResult.load(path)  # an infinite objective is a number (it only fails to be a good fit)


def test_not_utf8_and_not_json_are_one_line_errors(tmp_path):
    path = tmp_path / "fit.json"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(FitFileError, match="not a text"):
        FitResult.load(path)
    path.write_text("{not json")
    with pytest.raises(FitFileError, match="not valid JSON"):
        FitResult.load(path)


def test_all_problems_are_listed_and_the_first_says_how_many_more():
    d = mutated(level=2, seed="x", success="yes")
    problems = check_fit_dict(d)
    assert len(problems) == 3
    with pytest.raises(FitFileError, match=r"\(and 2 more problems\)"):
        validate_fit_dict(d)


# --------------------------------------------------------------------------- property-based

KEYS = list(valid_dict())
JUNK = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8),
    st.lists(st.floats(allow_nan=True), max_size=6), st.dictionaries(st.text(max_size=4), st.integers(), max_size=3),
    st.lists(st.lists(st.floats(), max_size=6), max_size=6),
)


def _paths(d, prefix=()):
    """Every key path into a fit dict (objects and lists)."""
    yield prefix
    if isinstance(d, dict):
        for k, v in d.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(d, list):
        for i, v in enumerate(d):
            yield from _paths(v, prefix + (i,))


ALL_PATHS = [p for p in _paths(valid_dict()) if p]


@st.composite
def mutations(draw):
    d = valid_dict()
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(ALL_PATHS))
        target = d
        try:
            for k in path[:-1]:
                target = target[k]
            if not isinstance(target, (dict, list)):
                continue  # an earlier mutation replaced a container by a scalar
            action = draw(st.sampled_from(["replace", "delete", "wrap"]))
            if action == "replace":
                target[path[-1]] = draw(JUNK)
            elif action == "delete" and isinstance(target, dict):
                del target[path[-1]]
            elif action == "delete":
                target.pop(path[-1])
            else:
                target[path[-1]] = [target[path[-1]]]
        except (KeyError, IndexError, TypeError):  # the path no longer exists
            pass  # an earlier mutation removed or retyped the path
    return d


def _load_or_fit_error(d):
    try:
        result = FitResult.from_dict(copy.deepcopy(d), source="fuzz.json")
    except FitFileError as exc:
        assert "\n" not in str(exc) and str(exc).startswith("fuzz.json")
        return None
    # Whatever loads is sound: P finite params matching the law.
    assert np.all(np.isfinite(result.params)) and len(result.params) == len(result.law_object().param_names)
    assert 0 < result.level < 1
    return result


@settings(max_examples=600, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(mutations())
def test_random_mutations_load_or_raise_fit_file_error(d):
    _load_or_fit_error(d)


@pytest.mark.slow
@settings(max_examples=3000, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(mutations())
def test_random_mutations_load_or_raise_fit_file_error_slow(d):
    _load_or_fit_error(d)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.recursive(JUNK, lambda kids: st.one_of(st.lists(kids, max_size=4), st.dictionaries(st.text(max_size=5), kids, max_size=4)), max_leaves=20))
def test_any_json_value_is_refused_with_one_line(value):
    with pytest.raises(FitFileError):
        FitResult.from_dict(value, source="fuzz.json")
