import os
import sys

# `python -m` puts the working folder first on sys.path; a submission's
# numpy.py or sitecustomize.py there must not shadow the grader's imports.
sys.path[:] = [p for p in sys.path if p not in ("", os.getcwd())]

from .cli import main  # noqa: E402

sys.exit(main())
