"""The harness's client against real workers: every failure costs one call only."""
import time

import numpy as np
import pytest

from grader.client import Student
from grader.errors import SubmissionError
from grader.limits import Limits
from grader.sandbox import make_sandbox

from conftest import needs_bwrap

MODULE = b'''
import os, signal, sys
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
    handle.timeout = 2
    yield handle
    handle.close()
    sandbox.close()


def call(student, fn, *args):
    student.deadline = time.monotonic() + student.timeout
    return student.call(fn, *args)


def expect_error(student, fn, *args):
    with pytest.raises(SubmissionError) as info:
        call(student, fn, *args)
    return str(info.value)


def test_calls_return_plain_data_and_prints_are_captured(student):
    assert np.array_equal(call(student, "double", np.arange(3.0)), [0.0, 2.0, 4.0])
    assert "doubling (3,)" in student.output()


@pytest.mark.parametrize("fn,args,needle", [
    ("spin", (), "timed out after 2 s in spin"),
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
    assert "File too large" in expect_error(student, "flood")
    assert len(student.output()) <= 8192


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_import_failure_makes_every_call_fail_without_restarting(backend):
    sandbox = make_sandbox(backend)
    handle = Student(sandbox, b"import os\nos._exit(0)\n", "mod")
    handle.timeout = 2
    try:
        first = expect_error(handle, "anything")
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
            handle.timeout = 5
            try:
                assert "SyntaxError" in expect_error(handle, "broken")
            finally:
                handle.close()
    finally:
        sandbox.close()
