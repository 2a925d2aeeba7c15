"""The harness's client against real workers: every failure costs one call only."""
import time

import numpy as np
import pytest

from grader.client import Student
from grader.errors import SubmissionError
from grader.limits import MEMORY, Limits
from grader.sandbox import NoSandbox, make_sandbox
from grader.sandbox.slots import Cgroups
from grader.vocabulary import Outcome

from conftest import needs_bwrap

MODULE = b'''
import os, signal, sys, time
import numpy as np

def double(x):
    print("doubling", x.shape)
    return 2 * x

def spin():
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    while True:
        pass

def leave(code):
    os._exit(code)

def polite_exit():
    sys.exit(0)

def crash():
    import ctypes
    ctypes.string_at(0)

def unreadable():
    return object()

def hoard(megabytes):
    return len(bytearray(megabytes * 2**20))

def killed():
    os.kill(os.getpid(), signal.SIGKILL)

def busy(seconds):
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass
    return "done"

def nap(seconds):
    time.sleep(seconds)
    return "rested"

def calls_spin():
    return spin()

def waits_in_c():
    import ctypes
    ctypes.CDLL(None).system(b"sleep 600")  # blocks in C, GIL released, as a GPU wait does

def flood():
    chunk = "x" * 2**20
    for _ in range(200):
        print(chunk)
'''

BACKENDS = ["none", pytest.param("bwrap", marks=needs_bwrap)]


@pytest.fixture(params=BACKENDS)
def student(request):
    sandbox = make_sandbox(request.param, Limits(memory_bytes=2**30, file_bytes=8 * 2**20))
    handle = Student(sandbox, MODULE, "mod")
    yield handle
    handle.close()
    sandbox.close()


def call(student, fn, *args, budget=2.0):
    """One test that makes one call, with a CPU budget in seconds."""
    student.begin_test(budget, f"test of {fn}")
    try:
        return student.call(fn, *args)
    finally:
        student.end_test()


def expect_error(student, fn, *args, budget=2.0):
    with pytest.raises(SubmissionError) as info:
        call(student, fn, *args, budget=budget)
    return str(info.value)


def test_calls_return_plain_data_and_prints_are_captured(student):
    assert np.array_equal(call(student, "double", np.arange(3.0)), [0.0, 2.0, 4.0])
    assert "doubling (3,)" in student.output()


@pytest.mark.parametrize("fn,args,needle", [
    ("spin", (), "timed out after 2 s of CPU time in spin"),
    ("leave", (3,), "exited with code 3 during leave"),
    ("polite_exit", (), "called sys.exit(0)"),
    ("crash", (), "crashed with SIGSEGV"),
    ("unreadable", (), "cannot read: cannot send an object of type object"),
    ("missing", (), "does not define `missing`"),
])
def test_each_failure_is_explained_and_the_next_call_still_works(student, fn, args, needle):
    assert needle in expect_error(student, fn, *args)
    assert np.array_equal(call(student, "double", np.ones(2)), [2.0, 2.0])


def test_output_floods_are_cut_by_the_file_size_limit(student):
    message = expect_error(student, "flood")
    assert "went over the 8 MiB limit on printed output and written files (File too large" in message
    assert len(student.output()) <= 8192


def test_going_over_the_memory_limit_is_a_crash_named_as_such(student):
    with pytest.raises(SubmissionError, match=r"ran out of memory \(the limit is 1 GiB") as raised:
        call(student, "hoard", 2048)
    assert raised.value.kind == Outcome.CRASH
    assert call(student, "hoard", 16) == 16 * 2**20


class OomKillingSandbox(NoSandbox):
    """A sandbox that reports its dead worker as killed for memory (a cgroup's OOM kill)."""

    def exceeded(self, process):
        return MEMORY


def test_an_oom_kill_reads_like_a_memory_error():
    sandbox = OomKillingSandbox(Limits(memory_bytes=2**30))
    handle = Student(sandbox, MODULE, "mod")
    try:
        with pytest.raises(SubmissionError, match=r"ran out of memory \(the limit is 1 GiB.*during killed"):
            call(handle, "killed")
    finally:
        handle.close()
        sandbox.close()


def test_a_slot_counts_its_oom_kills(tmp_path):
    cgroups = Cgroups.__new__(Cgroups)
    cgroups.paths = [tmp_path]
    assert cgroups.oom_kills() == 0
    (tmp_path / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 3\n")
    assert cgroups.oom_kills() == 3


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_import_failure_makes_every_call_fail_without_restarting(backend):
    sandbox = make_sandbox(backend)
    handle = Student(sandbox, b"import os\nos._exit(0)\n", "mod")
    starts = []
    sandbox.start = lambda *args, start=sandbox.start: starts.append(args) or start(*args)
    try:
        first = expect_error(handle, "anything")
        assert len(starts) == 1, "a module that exits while importing is not started again"
        started = time.monotonic()
        assert expect_error(handle, "other") == first
        assert time.monotonic() - started < 0.1, "a broken import must not be retried per test"
        assert "exited with code 0" in first and "importing your module" in first
    finally:
        handle.close()
        sandbox.close()


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_import_error_is_reported_even_when_the_worker_exits_at_once(backend):
    """The worker replies with the error and exits: its end of file is not a protocol breach."""
    sandbox = make_sandbox(backend)
    try:
        for _ in range(8):  # the exit races the reply; repeat to meet the race
            handle = Student(sandbox, b"def broken(:\n", "mod")
            try:
                assert "SyntaxError" in expect_error(handle, "broken")
            finally:
                handle.close()
    finally:
        sandbox.close()


def test_budgets_count_cpu_time_not_waiting(student):
    assert call(student, "nap", 1.5, budget=0.5) == "rested"  # 1.5 s asleep, almost no CPU
    student.begin_test(0.5, "test of busy")
    with pytest.raises(SubmissionError) as info:
        student.call("busy", 3.0)
    assert student.end_test() >= 0.5, "the CPU burnt up to the kill is the test's"
    assert "timed out after 0.5 s of CPU time in busy" in str(info.value) and "infinite loop" in str(info.value)


def test_a_sleeper_meets_the_wall_clock_backstop(student):
    started = time.monotonic()
    message = expect_error(student, "nap", 600, budget=0.2)
    assert "wall clock" in message and "sleeping" in message
    assert time.monotonic() - started < 20


def test_a_function_that_hung_once_is_refused_at_once_afterwards(student):
    assert "timed out" in expect_error(student, "spin", budget=0.5)
    assert student.hung == {"spin": "test of spin"}
    started = time.monotonic()
    student.begin_test(5.0, "test of spin again")
    with pytest.raises(SubmissionError) as refusal:
        student.call("spin")
    student.end_test()
    assert refusal.value.refused and refusal.value.kind == "timeout"
    again = str(refusal.value)
    assert "`spin` ran out of time in an earlier test (test of spin)" in again
    assert time.monotonic() - started < 4, "a refused function must not cost its budget again"
    assert "earlier test" in expect_error(student, "calls_spin", budget=5.0)  # reached from elsewhere too
    assert np.array_equal(call(student, "double", np.ones(2)), [2.0, 2.0])  # the others still run


def through_a_probe(module):
    """waiting through a probe"""
    return module.waits_in_c()


def test_a_wait_inside_c_code_is_named_and_refused_afterwards(student):
    """A kernel that never ends leaves the worker waiting inside C, where no signal handler runs:
    the worker's watcher thread still names the function, so one hang costs one budget."""
    student.begin_test(0.5, "test of the probe", on_device=True)
    with pytest.raises(SubmissionError, match="0.5 s of device time in waiting through a probe"):
        student.probe(through_a_probe)
    student.end_test()
    assert student.hung == {"waits_in_c": "test of the probe"}
    student.begin_test(5.0, "a later test")
    with pytest.raises(SubmissionError, match="`waits_in_c` ran out of time in an earlier test"):
        student.probe(through_a_probe)
    student.end_test()


def test_the_outermost_function_is_the_one_remembered(student):
    """calls_spin is what the test called; spin, the helper it loops in, stays callable."""
    assert "timed out" in expect_error(student, "calls_spin", budget=0.5)
    assert list(student.hung) == ["calls_spin"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_import_has_its_own_cpu_budget(backend):
    sandbox = make_sandbox(backend)
    source = b"import time\nend = time.process_time() + 30\nwhile time.process_time() < end:\n    pass\n"
    handle = Student(sandbox, source, "mod", import_budget=0.5)
    try:
        message = expect_error(handle, "anything")
        assert "importing your module used more than 0.5 s of CPU time" in message
    finally:
        handle.close()
        sandbox.close()
