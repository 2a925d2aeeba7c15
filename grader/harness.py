"""The harness: one trusted process that runs the suites for one grade.

Started by grade.py as `python -I -B -m grader.harness SETTINGS.json`, so the
submission's folder is never on sys.path and no startup hook from it runs.
It never imports the submission; the plugin starts sandboxed workers for that.
"""
import json
import sys
from pathlib import Path

import pytest

from .plugin import GraderPlugin, pytest_args


def run(settings_path: str) -> int:
    settings = json.loads(Path(settings_path).read_text())
    return pytest.main(pytest_args(settings["suites"], settings["root"]),
                       plugins=[GraderPlugin(settings)])


if __name__ == "__main__":
    code = run(sys.argv[1])
    sys.exit(0 if code in (0, 1) else code)
