"""Stubs are generated from the reference's marked solution blocks."""
import pytest

from grader.errors import StubError
from grader.stubgen import make_stub

REFERENCE = '''import numpy as np


def f(x):
    """Docstring stays."""
    # BEGIN SOLUTION
    y = x + 1
    return y
    # END SOLUTION


# BEGIN SOLUTION remove
def _helper():
    return 3
# END SOLUTION


class M:
    def __init__(self):
        super().__init__()
        # BEGIN SOLUTION
        self.a = 1
        # END SOLUTION
'''


def test_blocks_become_not_implemented_and_removed_blocks_vanish():
    stub = make_stub(REFERENCE)
    assert '"""Docstring stays."""\n    raise NotImplementedError' in stub
    assert "        super().__init__()\n        raise NotImplementedError" in stub
    assert "_helper" not in stub and "x + 1" not in stub and "self.a" not in stub
    compile(stub, "stub", "exec")


@pytest.mark.parametrize("source", ["# BEGIN SOLUTION\nx = 1\n",
                                    "# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION\n"])
def test_unbalanced_markers_are_errors(source):
    with pytest.raises(StubError):
        make_stub(source)
