"""The red-team attacks that make sense in a container, graded with `--sandbox docker`.

The attacks of tests/redteam/ that aim at what a container must hold: fork,
thread, memory, disk and output bombs, the network, searching for the
reference and the hidden tests, secrets in the environment, daemons that
outlive the worker, persistence into the next grade, killing everything
visible and ignoring signals. Each is graded through the real CLI on Docker
Engine and checked as test_redteam.py checks it (no better than the honest
twin graded the same way, nothing written on the host, no listener reached, no
process left), and no worker container may be left behind.

Minutes of grading: it runs under `make test-docker` (GRADER_TEST_DOCKER_URL,
with the worker image built from the Dockerfile) and skips elsewhere.
"""
import os

import pytest

import test_redteam as redteam
from docker_engines import docker_environment

CONTAINER_ATTACKS = ("fork_bomb", "thread_bomb", "memory_bomb", "disk_bomb", "stdout_bomb", "network",
                     "fs_search", "env_secrets", "daemon", "venv_persist", "kill_all", "sigterm_loop")


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    if not os.environ.get("GRADER_TEST_DOCKER_URL"):
        pytest.skip("the container red team runs under `make test-docker` (minutes of grading)")
    with docker_environment(tmp_path_factory.mktemp("docker")) as settings:
        yield settings


def containers_left(engine):
    import docker
    client = docker.DockerClient(base_url=engine["GRADER_DOCKER_URL"])
    try:
        return [f"container left: {c['Names']}"
                for c in client.api.containers(all=True, filters={"label": "ml-autograder.worker"})]
    finally:
        client.close()


@pytest.fixture(scope="module")
def twin(engine, tmp_path_factory):
    grade = redteam.grade_attack(redteam.TWIN, tmp_path_factory.mktemp("twin"), redteam.TWIN_BUDGET,
                                 label="twin-docker", sandbox="docker")
    assert not grade.problems, grade.problems
    assert grade.data["extra_data"]["sandbox"] == "docker"
    assert 0 < grade.data["score"] < grade.data["extra_data"]["max_score"], grade.data["output"]
    return grade


def test_every_container_attack_exists():
    for name in CONTAINER_ATTACKS:
        assert (redteam.REDTEAM / f"{name}.py").is_file(), name


@pytest.mark.parametrize("name", CONTAINER_ATTACKS)
def test_attack_is_contained_in_docker(name, engine, twin, tmp_path):
    redteam.check_attack(redteam.REDTEAM / f"{name}.py", twin, tmp_path, sandbox="docker",
                         extra_checks=[lambda: containers_left(engine)])
