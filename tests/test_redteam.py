"""The red-team suite: attack submissions graded through the real CLI in bwrap.

Each file in tests/redteam/ is the honest twin (twin.py: a plausible polyfit
whose mse_grad forgets the factor 2, worth part of the points) plus one
exploit. Its header says what it tries and which defence should stop it:

    # attack: what the submission tries
    # defence: what stops it
    # stage: file | folder | zip | notebook | link   (how it is handed in; default file)
    # allowance: seconds the attack may legitimately spend in the grader's own
    #            timeouts (a hang costs its test's budget); default 0
    # late: seconds to wait before looking again for late damage (daemons)
    # then-clean: true   (grade the twin afterwards: it must be unaffected)
    # must-fail: a test the exploit must not turn into a pass
    # costs-only: the one test the exploit runs in; every other test must get
    #             the twin's verdict (a crash or hang costs that test only)
    # module: none       (a folder stage without the module at its top)

A folder or zip stage ships the files in the attack's SHIPPED dict (read
with ast, never run here): a string is a file, ("symlink", target) a link,
("repeat", text, n) text * n. Placeholders are filled in at test time:
@OUT@ the out dir, @PORT@ a loopback listener's port, @MARKER@ a unique
string, @PWNED@ /tmp/pwned-NAME, @ROOT@ the repository, @HOSTSECRET@ a host
file holding a secret, @SELF@ the attack's own source, @CORRECT@ the
reference solution (standing in for "a better answer" that must not be used).

Every grade must: score no more than the twin and pass no test the twin
fails; write nothing outside the sandbox (marker paths, the out dir, the
venv, the repository); leak no secret of the grader's environment and no
reference or hidden-test source into any output; reach no loopback
listener; leave no process alive; write a results.json under 1 MB with every
test graded; never hit an internal grader error; and finish within budget:
its allowance plus WORK_FACTOR times the twin's own grade time (measured in
the same run, so a loaded machine does not turn the suite red) plus SLACK.
"""
import ast
import ctypes
import dataclasses
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT, needs_bwrap

REDTEAM = ROOT / "tests" / "redteam"
TWIN = REDTEAM / "twin.py"
ATTACKS = sorted(p for p in REDTEAM.glob("*.py") if p != TWIN)
REFERENCE = ROOT / "reference" / "polyfit" / "polyfit.py"
WATCHED_DIRS = [ROOT / "reference" / "polyfit", ROOT / "assignments" / "polyfit", REDTEAM]
SITE_PACKAGES = Path(sys.prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
TWIN_BUDGET = 120.0
WORK_FACTOR, SLACK = 3.0, 15.0
STRAY_GRACE = 2.0           # seconds for the kernel to finish tearing a sandbox down
RESULTS_LIMIT = 2**20
LEAKS = ("BEGIN SOLUTION", "def problem(rng")   # the reference's and the hidden suite's source
PR_SET_CHILD_SUBREAPER = 36


# --- one attack, staged ------------------------------------------------------------

def headers(text):
    found = {}
    for line in text.splitlines():
        if not line.startswith("# ") or ":" not in line:
            break
        key, value = line[2:].split(":", 1)
        found[key.strip()] = value.strip()
    return found


def shipped(text):
    """The attack's SHIPPED dict, read as a literal (the attack is never run here)."""
    for node in ast.parse(text).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "SHIPPED" for t in node.targets):
            return ast.literal_eval(node.value)
    return {}


def fill(text, values):
    for key, value in values.items():
        text = text.replace(f"@{key}@", value)
    return text


def stage(path, values, folder):
    """Write the submission for attack `path` under folder; return what to hand in."""
    raw = path.read_text()
    kind = headers(raw).get("stage", "file")
    source = fill(raw, values)
    extra = {name: fill(item, values) if isinstance(item, str) else tuple(
        fill(x, values) if isinstance(x, str) else x for x in item)
        for name, item in (shipped(raw) if kind in ("folder", "zip") else {}).items()}
    resolve = {"@SELF@": source, "@CORRECT@": REFERENCE.read_text()}
    folder.mkdir(parents=True, exist_ok=True)
    if kind == "file":
        target = folder / "polyfit.py"
        target.write_text(source)
        return target
    if kind == "link":
        target = folder / "polyfit.py"
        target.symlink_to(REFERENCE)
        return target
    if kind == "notebook":
        import nbformat
        cells = [c.strip("\n") for c in source.split("\n# %%\n")]
        notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells if c.strip()])
        target = folder / "polyfit.ipynb"
        target.write_text(nbformat.writes(notebook))
        return target
    if kind == "folder":
        target = folder / "submission"
        target.mkdir()
        if headers(raw).get("module") != "none":
            (target / "polyfit.py").write_text(source)
        for name, item in extra.items():
            entry = target / name
            entry.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(item, tuple) and item[0] == "symlink":
                entry.symlink_to(item[1])
            else:
                entry.write_text(resolve.get(item, item) if isinstance(item, str) else item[1] * item[2])
        return target
    if kind == "zip":
        target = folder / "submission.zip"
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, item in extra.items():
                info = zipfile.ZipInfo(name)
                info.compress_type = zipfile.ZIP_DEFLATED
                if isinstance(item, tuple) and item[0] == "symlink":
                    info.external_attr = (stat.S_IFLNK | 0o777) << 16
                    archive.writestr(info, item[1])
                elif isinstance(item, tuple):
                    archive.writestr(info, item[1] * item[2])
                else:
                    archive.writestr(info, resolve.get(item, item))
        return target
    raise ValueError(f"{path.name}: unknown stage {kind!r}")


# --- what the sandbox must keep in ------------------------------------------------

class Listener:
    """TCP, UDP and abstract-unix listeners on the host's loopback that must hear nothing."""

    def __init__(self, marker):
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.bind(("127.0.0.1", 0))
        self.tcp.listen(64)
        self.port = self.tcp.getsockname()[1]
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self.udp.bind(("127.0.0.1", self.port))
        except OSError:
            self.udp.close()
            self.udp = None
        self.unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.unix.bind(f"\0redteam-{marker}")
        self.unix.listen(64)
        for sock in (self.tcp, self.udp, self.unix):
            if sock is not None:
                sock.setblocking(False)

    def heard(self):
        news = []
        for name, sock in (("tcp", self.tcp), ("unix", self.unix)):
            try:
                conn, peer = sock.accept()
                conn.close()
                news.append(f"{name} connection from {peer!r}")
            except BlockingIOError:
                pass
        if self.udp is not None:
            try:
                news.append(f"udp datagram {self.udp.recv(100)!r}")
            except BlockingIOError:
                pass
        return news

    def close(self):
        for sock in (self.tcp, self.udp, self.unix):
            if sock is not None:
                sock.close()


def _prctl_subreaper(on):
    """Orphans of our descendants are re-parented to us, so a stray cannot hide."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, int(on), 0, 0, 0)


def _proc(pid, name):
    try:
        return Path(f"/proc/{pid}/{name}").read_bytes()
    except OSError:
        return b""


def _children():
    """(pid, state) of our direct children."""
    me, found = os.getpid(), []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            fields = _proc(entry.name, "stat").rsplit(b")", 1)[-1].split()
            if len(fields) > 1 and int(fields[1]) == me:
                found.append((int(entry.name), fields[0].decode()))
    return found


def _describe(pid):
    cmdline = _proc(pid, "cmdline").replace(b"\0", b" ").decode(errors="replace")
    return f"pid {pid}: {cmdline[:200]}"


def strays(before, grace=STRAY_GRACE):
    """Descendants still alive after the grade returned (killed here); zombies are reaped.

    Children this test process already had (a fixture's server, say) are not the grade's.
    """
    found, deadline = [], time.monotonic() + grace
    while True:
        live = []
        for pid, state in _children():
            if pid in before:
                continue
            if state == "Z":
                try:
                    os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    pass
            else:
                live.append(pid)
        if not live:
            return found
        if time.monotonic() < deadline:
            time.sleep(0.1)
            continue
        for pid in live:
            found.append(_describe(pid))
            _kill_tree(pid)
        deadline = time.monotonic() + 1.0


def _kill_tree(pid):
    """SIGKILL a stray and its process group (never our own group)."""
    try:
        group = os.getpgid(pid)
        if group != os.getpgid(0):
            os.killpg(group, signal.SIGKILL)
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def marked_processes(marker):
    hits = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            if marker.encode() in _proc(entry.name, "cmdline") + b" " + _proc(entry.name, "comm"):
                hits.append(_describe(entry.name))
    return hits


def repository_state():
    """The reference solution's bytes and the names in the folders an attack would write to."""
    names = sorted(str(p) for folder in WATCHED_DIRS for p in folder.iterdir() if p.name != "__pycache__")
    return hashlib.sha256(REFERENCE.read_bytes()).hexdigest(), names


def site_hooks():
    """Files in the venv's site-packages a persistence attack would add."""
    return sorted(p.name for p in SITE_PACKAGES.iterdir()
                  if p.name in ("sitecustomize.py", "usercustomize.py") or "pwned" in p.name)


# --- a grade through the CLI --------------------------------------------------------

@dataclasses.dataclass
class Grade:
    name: str
    data: dict
    elapsed: float
    problems: list     # everything that escaped the sandbox


def run_grade(submission, out, env, timeout, sandbox="bwrap"):
    """`python -m grader grade polyfit SUBMISSION --out OUT --sandbox SANDBOX` (see conftest.run_cli)."""
    command = [sys.executable, "-m", "grader", "grade", "polyfit", str(submission), "--out", str(out),
               "--sandbox", sandbox]
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        stderr += f"\n[red-team: the CLI was killed after {timeout:g} s]"
    return process.returncode, stdout, stderr, time.monotonic() - started


def budget_for(path, twin):
    """Seconds the grade of attack `path` may take, given the twin's grade time."""
    return float(headers(path.read_text()).get("allowance", 0)) + WORK_FACTOR * twin.elapsed + SLACK


def grade_attack(path, tmp_path, budget, label=None, sandbox="bwrap"):
    """Stage and grade one attack in SANDBOX; return the Grade with every containment problem found."""
    name = label or path.stem
    marker = "rt" + secrets.token_hex(5)
    secret = "rtsecret-" + secrets.token_hex(16)
    host_secret = "rthostsecret-" + secrets.token_hex(16)
    host_secret_file = Path(f"/tmp/redteam-hostsecret-{name}")
    host_secret_file.write_text(host_secret)
    pwned = f"/tmp/pwned-{name}"
    out = tmp_path / "out"
    listener = Listener(marker)
    info = headers(path.read_text())
    values = {"OUT": str(out), "PORT": str(listener.port), "MARKER": marker, "PWNED": pwned,
              "ROOT": str(ROOT), "HOSTSECRET": str(host_secret_file), "NAME": name}
    _clean_markers(pwned, marker)
    repository, hooks = repository_state(), site_hooks()
    problems = []
    try:
        submission = stage(path, values, tmp_path / "staged")
        before = {pid for pid, _ in _children()}
        _prctl_subreaper(True)
        try:
            code, stdout, stderr, elapsed = run_grade(submission, out, {**os.environ, "GRADER_TEST_SECRET": secret},
                                                      budget + 15, sandbox)
            problems += [f"process alive after the grade: {p}" for p in strays(before)]
        finally:
            _prctl_subreaper(False)
        late = float(info.get("late", 0))
        for attempt in ("after the grade", f"{late:g} s later") if late else ("after the grade",):
            if attempt != "after the grade":
                time.sleep(late)
            problems += [f"{attempt}: {p}" for p in _escapes(pwned, marker, listener, out)]
        if repository_state() != repository:
            problems.append("the reference solution changed or files appeared in the repository")
        if site_hooks() != hooks:
            problems.append(f"the venv's site-packages changed: {site_hooks()}")
        if code != 0:
            problems.append(f"the CLI exited {code}: {stderr[-2000:]}")
        results = out / "results.json"
        if not results.is_file():
            pytest.fail(f"{name}: no results.json; stderr: {stderr[-2000:]}; problems: {problems}")
        if results.stat().st_size >= RESULTS_LIMIT:
            problems.append(f"results.json is {results.stat().st_size} bytes")
        data = json.loads(results.read_text())
        text = stdout + stderr + "".join(
            p.read_text(errors="replace") for p in out.iterdir() if p.is_file())
        for leaked in (secret, host_secret, *LEAKS):
            if leaked in text:
                problems.append(f"the output leaks {leaked[:20]!r}")
        if elapsed > budget:
            problems.append(f"the grade took {elapsed:.1f} s, over its budget of {budget:g} s")
        return Grade(name, data, elapsed, problems)
    finally:
        listener.close()
        host_secret_file.unlink(missing_ok=True)


def _clean_markers(pwned, marker):
    for path in Path("/tmp").iterdir():
        if path.name.startswith(Path(pwned).name) or marker in path.name:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()


def _escapes(pwned, marker, listener, out):
    found = [f"wrote {p}" for p in Path("/tmp").iterdir() if p.name.startswith(Path(pwned).name) or marker in p.name]
    found += [f"connection reached the host: {n}" for n in listener.heard()]
    found += [f"marked process alive: {p}" for p in marked_processes(marker)]
    extra = sorted(p.name for p in out.iterdir() if p.name not in ("results.json", "feedback.md"))
    if extra:
        found.append(f"unexpected files in the out dir: {extra}")
    return found


def verdicts(data):
    return {t["extra_data"]["nodeid"]: t["status"] for t in data["tests"] if "extra_data" in t}


def assert_no_better_than_twin(grade, twin, must_fail=(), costs_only=None):
    """The attack's grade is complete, consistent and no better than the twin's, test by test."""
    data, problems = grade.data, list(grade.problems)
    if data["score"] > twin.data["score"]:
        problems.append(f"scored {data['score']:g}, more than the twin's {twin.data['score']:g}")
    if abs(data["score"] - sum(t["score"] for t in data["tests"])) > 1e-9:
        problems.append("score is not the sum of the tests' scores")
    mine, theirs = verdicts(data), verdicts(twin.data)
    if set(mine) != set(theirs) or data["extra_data"]["max_score"] != twin.data["extra_data"]["max_score"]:
        problems.append(f"not every test was graded: {sorted(set(theirs) - set(mine))} "
                        f"{[t['name'] for t in data['tests'] if 'extra_data' not in t]}")
    gained = [nodeid for nodeid, status in mine.items() if status == "passed" and theirs.get(nodeid) != "passed"]
    if gained:
        problems.append(f"passes tests the twin fails: {gained}")
    for needle in must_fail:
        if not any(needle in nodeid and status == "failed" for nodeid, status in mine.items()):
            problems.append(f"{needle} did not fail")
    if costs_only:
        # One hang costs one budget: a later test that reaches the function that ran out of
        # time fails at once, saying so. Any other change is the exploit leaking out.
        refused = {t["extra_data"]["nodeid"] for t in data["tests"]
                   if "extra_data" in t and t["extra_data"].get("refused")}
        changed = [nodeid for nodeid, status in mine.items()
                   if costs_only not in nodeid and theirs.get(nodeid) != status and nodeid not in refused]
        if changed:
            problems.append(f"the exploit in {costs_only} also changed: {changed}")
    internal = [t["output"][:300] for t in data["tests"] if "internal grader error" in t["output"]]
    if internal:
        problems.append(f"internal grader errors: {internal}")
    assert not problems, f"{grade.name} ({grade.elapsed:.1f} s):\n  " + "\n  ".join(problems)


# --- the tests ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def twin(tmp_path_factory):
    """The honest twin's grade, checked like an attack."""
    grade = grade_attack(TWIN, tmp_path_factory.mktemp("twin"), TWIN_BUDGET, label="twin")
    assert not grade.problems, grade.problems
    return grade


@needs_bwrap
def test_twin_is_a_partial_solution(twin):
    data = twin.data
    assert 0 < data["score"] < data["extra_data"]["max_score"], data["output"]
    assert data["extra_data"]["status"] == "ok"
    print(f"twin: {data['score']:g} / {data['extra_data']['max_score']:g} in {twin.elapsed:.1f} s")


def check_attack(path, twin, tmp_path, sandbox="bwrap", extra_checks=()):
    """Grade attack PATH in SANDBOX and assert it is contained (extra_checks: more problem finders)."""
    info = headers(path.read_text())
    label = path.stem if sandbox == "bwrap" else f"{path.stem}-{sandbox}"
    grade = grade_attack(path, tmp_path, budget_for(path, twin), label=label, sandbox=sandbox)
    print(f"{path.stem}: {grade.data['score']:g} / {grade.data['extra_data']['max_score']:g}, "
          f"status {grade.data['extra_data']['status']}, {grade.elapsed:.1f} s")
    if info.get("then-clean"):
        after = grade_attack(TWIN, tmp_path / "after", budget_for(TWIN, twin), label=f"{label}-after",
                             sandbox=sandbox)
        grade.problems += [f"the next grade: {p}" for p in after.problems]
        if verdicts(after.data) != verdicts(twin.data) or after.data["score"] != twin.data["score"]:
            grade.problems.append(f"the next submission was graded differently: {after.data['output']}")
    grade.problems += [problem for check in extra_checks for problem in check()]
    must_fail = [s.strip() for s in info.get("must-fail", "").split(",") if s.strip()]
    assert_no_better_than_twin(grade, twin, must_fail, info.get("costs-only"))


@needs_bwrap
@pytest.mark.parametrize("path", ATTACKS, ids=lambda p: p.stem)
def test_attack_is_contained(path, twin, tmp_path):
    check_attack(path, twin, tmp_path)


def test_corpus_covers_the_catalogue():
    assert len(ATTACKS) >= 30
    for path in ATTACKS:
        info = headers(path.read_text())
        assert info.get("attack") and info.get("defence"), f"{path.name} needs '# attack:' and '# defence:'"
        assert "mse_grad" in path.read_text(), f"{path.name} should be the twin plus an exploit"
