"""The harness: one trusted process that runs the suites for one grade.

Started by grade.py as `python -I -B -m grader.harness CONFIG.json`, so the
submission's folder is never on sys.path and no startup hook from it runs.
It never imports the submission; the plugin starts sandboxed workers for that.
"""
import json
import sys
import time
from pathlib import Path

import pytest

from . import plugin


def run(config_path):
    config = json.loads(Path(config_path).read_text())
    started = time.monotonic()
    args = [*config["suites"], "-c", str(Path(__file__).with_name("harness.ini")),
            "--rootdir", config["root"], "--import-mode=importlib",
            "-p", "grader.plugin", "--grader-config", config_path]
    plugin._state["started"] = started
    return pytest.main(args)


if __name__ == "__main__":
    code = run(sys.argv[1])
    sys.exit(0 if code in (0, 1) else code)
