"""The power-law law: L = E + A x^-alpha for x in N, D, C, and the E = 0 option."""

import numpy as np
import pytest

from scaling._x64 import float64
from scaling.errors import ScalingError
from scaling.laws import get_law


@pytest.mark.parametrize("x", ["N", "D", "C"])
def test_loss_equals_E_plus_A_x_to_minus_alpha(x):
    law = get_law("power-law", x=x)
    assert law.inputs == (x,)
    values = np.array([1e8, 1e10, 1e20])
    theta = np.array([np.log(300.0), 0.3, np.log(1.7)])
    with float64():
        got = np.asarray(law(theta, {x: values}))
    np.testing.assert_allclose(got, 1.7 + 300.0 * values**-0.3, rtol=1e-13)


def test_fixed_E0_drops_the_constant():
    law = get_law("power-law", x="N", fixed_E0=True)
    assert law.param_names == ("a", "alpha")
    with float64():
        got = np.asarray(law(np.array([np.log(300.0), 0.3]), {"N": np.array([1e9])}))
        derived = law.derived(np.array([np.log(300.0), 0.3]))
    np.testing.assert_allclose(got, 300.0 * 1e9**-0.3, rtol=1e-13)
    assert float(derived["E"]) == 0.0


def test_same_options_give_the_same_law_object():
    # the fitter caches compiled code by law function; rebuilding must hit it
    assert get_law("power-law", x="D").fn is get_law("power-law", x="D").fn


def test_x_may_name_any_column_such_as_width():
    law = get_law("power-law", x="width")
    assert law.inputs == ("width",) and law.options["x"] == "width"
    with float64():
        got = np.asarray(law(np.array([np.log(30.0), 1.0, np.log(2.0)]), {"width": np.array([64.0, 512.0])}))
    np.testing.assert_allclose(got, 2.0 + 30.0 / np.array([64.0, 512.0]), rtol=1e-13)


def test_empty_x_is_a_one_line_error():
    with pytest.raises(ScalingError, match="x must be a column name"):
        get_law("power-law", x="")
