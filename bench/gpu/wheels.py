"""`make gpu-wheels`: the wheels a lent GPU machine lacks, into .whl/ (for bench/gpu/run.sh).

The device has Python 3.12 with torch, numpy, pytest, pytest-timeout, jinja2,
matplotlib, rich, pandas and scikit-learn, and no network. This resolves the
grader's own dependencies (pyproject.toml, without torch: the device's CUDA
torch stays) for CPython 3.12 on manylinux x86_64, leaves out every project
that the device's packages already bring, and downloads the rest, each
without its dependencies (they are in the list). Resolving reads metadata
only. bubblewrap's .deb comes along (apt-get download) for a machine without it.

    python bench/gpu/wheels.py [--list] [--dest .whl]   # --list: print, download nothing
"""
import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEVICE_HAS = ["numpy", "pytest", "pytest-timeout", "jinja2", "matplotlib", "rich", "pandas", "scikit-learn"]
PLATFORM = ["--only-binary=:all:", "--python-version", "3.12", "--implementation", "cp", "--abi", "cp312",
            "--platform", "manylinux2014_x86_64", "--platform", "manylinux_2_17_x86_64",
            "--platform", "manylinux_2_28_x86_64"]


def resolve(requirements: list[str]) -> dict[str, str]:
    """{normalised project: version} pip would install for the device (a dry run: metadata only)."""
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "report.json"
        subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--ignore-installed",
                        "--disable-pip-version-check", *PLATFORM, "--target", str(Path(scratch) / "t"),
                        "--report", str(report), *requirements], check=True)
        found = json.loads(report.read_text())["install"]
    return {item["metadata"]["name"].lower().replace("_", "-"): item["metadata"]["version"] for item in found}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", action="store_true", help="only print what would be downloaded")
    parser.add_argument("--dest", default=str(ROOT / ".whl"))
    args = parser.parse_args(argv)
    wanted = [r for r in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
              if not r.startswith("torch") and "python_version <" not in r]
    needed = resolve(wanted)
    present = resolve(DEVICE_HAS)
    missing = {name: version for name, version in needed.items() if name not in present}
    for name, version in sorted(missing.items()):
        print(f"{name}=={version}")
    if args.list:
        print(f"({len(missing)} wheels; left out as the device has them: {', '.join(sorted(set(needed) & set(present)))})")
        return 0
    dest = Path(args.dest)
    dest.mkdir(exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps",
                    *PLATFORM, "-d", str(dest), *(f"{n}=={v}" for n, v in sorted(missing.items()))], check=True)
    if shutil.which("apt-get"):
        subprocess.run(["apt-get", "download", "-q", "bubblewrap"], cwd=dest, check=False)
    size = sum(p.stat().st_size for p in dest.iterdir()) / 2**20
    print(f"{dest}: {len(list(dest.iterdir()))} files, {size:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
